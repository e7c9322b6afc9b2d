/**
 * Hand-built blocks: the bytes are laid out here from the block formats in ggml-common.h, and the
 * expected values are worked out by hand (comments), not by the code under test.
 * f16 constants: 0x3c00 = 1, 0x3800 = 0.5, 0x4000 = 2, 0xbc00 = -1, 0x3400 = 0.25.
 */
import { describe, expect, it } from 'vitest';
import { dequantize } from './index.ts';
import { GgmlType } from '../types.ts';

function block(size: number, fill: (b: Uint8Array) => void): Uint8Array {
  const b = new Uint8Array(size);
  fill(b);
  return b;
}
const put16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = v & 0xff;
  b[o + 1] = v >> 8;
};

describe('32-value blocks', () => {
  it('Q8_0: d = 2, qs = int8', () => {
    const b = block(34, (b) => {
      put16(b, 0, 0x4000);
      b[2] = 0x7f; // 127 -> 254
      b[3] = 0x80; // -128 -> -256
      b[4] = 0xff; // -1 -> -2
      b[33] = 5; // -> 10
    });
    const y = dequantize(GgmlType.Q8_0, b, 32);
    expect([y[0], y[1], y[2], y[3], y[31]]).toEqual([254, -256, -2, 0, 10]);
  });

  it('Q4_0: value j from the low nibble of qs[j], value j+16 from the high nibble, minus 8', () => {
    const b = block(18, (b) => {
      put16(b, 0, 0x4000); // d = 2
      b[2] = 0x9f; // low 15 -> (15-8)*2 = 14 at j=0; high 9 -> (9-8)*2 = 2 at j=16
      b[17] = 0x08; // low 8 -> 0 at j=15; high 0 -> -16 at j=31
    });
    const y = dequantize(GgmlType.Q4_0, b, 32);
    expect([y[0], y[16], y[15], y[31], y[1]]).toEqual([14, 2, 0, -16, -16]);
  });

  it('Q4_1: nibble·d + m', () => {
    const b = block(20, (b) => {
      put16(b, 0, 0x3800); // d = 0.5
      put16(b, 2, 0xbc00); // m = -1
      b[4] = 0x3a; // low 10 -> 4 at j=0; high 3 -> 0.5 at j=16
    });
    const y = dequantize(GgmlType.Q4_1, b, 32);
    expect([y[0], y[16], y[1]]).toEqual([4, 0.5, -1]);
  });

  it('Q5_0: fifth bit j of qh for value j, bit j+16 for value j+16', () => {
    const b = block(22, (b) => {
      put16(b, 0, 0x3c00); // d = 1
      b[2] = 0x01; // qh bit 0 -> value 0 gets +16
      b[5] = 0x80; // qh bit 31 -> value 31 gets +16
      b[6] = 0x21; // value 0: low 1 | 16 = 17 -> 1; value 16: high 2 -> 2-16 = -14
      b[21] = 0xf0; // value 15: low 0 -> -16; value 31: high 15 | 16 = 31 -> 15
    });
    const y = dequantize(GgmlType.Q5_0, b, 32);
    expect([y[0], y[16], y[15], y[31]]).toEqual([1, -14, -16, 15]);
  });

  it('Q5_1: 5-bit q·d + m', () => {
    const b = block(24, (b) => {
      put16(b, 0, 0x3800); // d = 0.5
      put16(b, 2, 0x4000); // m = 2
      b[4 + 2] = 0x01; // qh bit 16 -> value 16 gets +16
      b[8] = 0x53; // value 0: 3 -> 3.5; value 16: 5 | 16 = 21 -> 12.5
    });
    const y = dequantize(GgmlType.Q5_1, b, 32);
    expect([y[0], y[16], y[1]]).toEqual([3.5, 12.5, 2]);
  });
});

describe('K-quant super-blocks', () => {
  it('Q4_K: 6-bit scales and mins, both packings (sub-blocks 0 and 5)', () => {
    const b = block(144, (b) => {
      put16(b, 0, 0x3c00); // d = 1
      put16(b, 2, 0x3800); // dmin = 0.5
      // sub-block 0 (values 0..31): scale = s[0] & 63 = 2, min = s[4] & 63 = 3
      b[4 + 0] = 2;
      b[4 + 4] = 3;
      // sub-block 5 (values 160..191): scale = (s[9] & 15) | (s[1] >> 6) << 4 = 5 | 1<<4 = 21
      //                                min   = (s[9] >> 4) | (s[5] >> 6) << 4 = 2 | 2<<4 = 34
      b[4 + 9] = 0x25;
      b[4 + 1] = 0x40;
      b[4 + 5] = 0x80;
      // qs: bytes 16..47 hold values 0..31 (low) and 32..63 (high); bytes 80..111 hold 128..159 / 160..191
      b[16] = 0x07; // value 0: q=7 -> 1·2·7 - 0.5·3 = 12.5
      b[16 + 64 + 3] = 0xa0; // value 163: q=10 -> 21·10 - 0.5·34 = 193
    });
    const y = dequantize(GgmlType.Q4_K, b, 256);
    expect(y[0]).toBe(12.5);
    expect(y[1]).toBe(-1.5);
    expect(y[163]).toBe(193);
    expect(y[160]).toBe(-17);
  });

  it('Q5_K: fifth bits in qh (bit 2p for the low-nibble sub-block of pair p, 2p+1 for the high)', () => {
    const b = block(176, (b) => {
      put16(b, 0, 0x3c00); // d = 1
      put16(b, 2, 0x0000); // dmin = 0
      b[4 + 0] = 1; // sub-block 0 scale 1
      b[4 + 3] = 2; // sub-block 3 scale 2 (values 96..127: high nibbles of qs[32..63])
      b[16 + 0] = 0x01; // qh[0] bit 0: value 0 gets +16
      b[16 + 5] = 0x08; // qh[5] bit 3 (pair 1, high): value 96+5 gets +16
      b[48 + 0] = 0x03; // value 0: 3 + 16 = 19 -> 19
      b[48 + 32 + 5] = 0x40; // value 101: 4 + 16 = 20 -> 2·20 = 40
    });
    const y = dequantize(GgmlType.Q5_K, b, 256);
    expect([y[0], y[101], y[100]]).toEqual([19, 40, 0]);
  });

  it('Q6_K: ql/qh split, int8 scales, d·scale·(q-32)', () => {
    const b = block(210, (b) => {
      put16(b, 208, 0x3800); // d = 0.5
      b[192 + 0] = 3; // scale for values 0..15
      b[192 + 6] = 0xfe; // scale -2 for values 96..111
      b[192 + 9] = 4; // scale for values 144..159 (second half, l = 16..31 -> is = 1)
      b[0] = 0x05; // value 0 low 4 bits = 5; value 64 low bits = 0
      b[128 + 0] = 0xc2; // qh[0]: bits 0-1 = 2 -> value 0 high = 2 -> q = 5 | 32 = 37 -> 0.5·3·5 = 7.5
      //                   bits 6-7 = 3 -> value 96: ql[32] >> 4 = 0 | 48 = 48 -> 0.5·(-2)·16 = -16
      b[64 + 16] = 0x0f; // second half, value 128+16 = 144: low bits 15, qh[32+16] = 0 -> q = 15 -> 0.5·4·(-17) = -34
    });
    const y = dequantize(GgmlType.Q6_K, b, 256);
    expect([y[0], y[96], y[144], y[1]]).toEqual([7.5, -16, -34, -48]);
  });

  it('Q2_K: scale/min nibbles per 16 values, 2-bit q in four shifts', () => {
    const b = block(84, (b) => {
      put16(b, 80, 0x3c00); // d = 1
      put16(b, 82, 0x3400); // dmin = 0.25
      b[0] = 0x43; // values 0..15: scale 3, min 4 -> 3q - 1
      b[2] = 0x05; // values 32..47 (shift 2 on qs[0..15]): scale 5, min 0
      b[16] = 0x0b; // qs[0] = 0b00_00_10_11: value 0 q=3 -> 8; value 32 q=2 -> 10
    });
    const y = dequantize(GgmlType.Q2_K, b, 256);
    expect([y[0], y[1], y[32], y[33]]).toEqual([8, -1, 10, 0]);
  });

  it('Q3_K: 6-bit scales (stored +32) in three places, high bit set = no -4', () => {
    const b = block(110, (b) => {
      put16(b, 108, 0x3c00); // d = 1
      // scale of sub-block 0 = 33 -> 1: low nibble s[0] & 15 = 1, high bits s[8] & 3 = 2
      // scale of sub-block 9 (values 144..159) = 29 -> -3: low = s[1] >> 4 = 13, high = s[9] >> 4 & 3 = 1
      // scale of sub-block 2 (values 32..47) = 32 + 6 = 38: low = s[2] & 15 = 6, high = s[10] & 3 = 2
      b[96 + 0] = 0x01;
      b[96 + 8] = 0x02;
      b[96 + 1] = 0xd0;
      b[96 + 9] = 0x10;
      b[96 + 2] = 0x06;
      b[96 + 10] = 0x02;
      b[0] = 0x01; // hmask[0] bit 0: value 0 has its high bit (no -4)
      b[32] = 0x03 | (0x02 << 2); // qs[0]: value 0 q=3 -> 1·3 = 3; value 32 q=2, no high bit -> 6·(2-4) = -12
      b[32 + 32 + 16] = 0x01; // qs[48] shift 0: value 128+16 = 144, q=1, hmask[16] bit 4 unset -> -3·(1-4) = 9
    });
    const y = dequantize(GgmlType.Q3_K, b, 256);
    expect([y[0], y[32], y[144], y[1]]).toEqual([3, -12, 9, -4]);
  });
});
