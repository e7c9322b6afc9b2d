import { describe, expect, it } from 'vitest';
import { planParts } from './tensor.ts';
import { preprocess } from './wgsl.ts';
import { WEIGHT_TYPES, rowBytes, chunksPerRow, weightTypeFromGgml } from './quant-types.ts';
import { dequantizeRef, f16ToF32 } from './blocks.ref.ts';

describe('weight types', () => {
  it('have ggml block sizes', () => {
    const sizes = Object.fromEntries(Object.values(WEIGHT_TYPES).map((t) => [t.name, [t.blockValues, t.blockBytes]]));
    expect(sizes).toEqual({
      F32: [1, 4],
      F16: [1, 2],
      BF16: [1, 2],
      Q8_0: [32, 34],
      Q4_0: [32, 18],
      Q5_0: [32, 22],
      Q4_K: [256, 144],
      Q5_K: [256, 176],
      Q6_K: [256, 210],
    });
    expect(rowBytes('Q8_0', 4096)).toBe(128 * 34);
    expect(() => rowBytes('Q4_K', 100)).toThrow(/multiple of 256/);
    expect(chunksPerRow(100)).toBe(4);
    expect(weightTypeFromGgml(12)).toBe('Q4_K');
    expect(weightTypeFromGgml(3)).toBeUndefined();
  });
});

describe('planParts', () => {
  it('keeps one part when it fits', () => {
    expect(planParts(10, 100, 1000)).toEqual([{ rowStart: 0, rowCount: 10 }]);
  });
  it('cuts at row boundaries and at whole row groups (experts)', () => {
    expect(planParts(10, 100, 350)).toEqual([
      { rowStart: 0, rowCount: 3 },
      { rowStart: 3, rowCount: 3 },
      { rowStart: 6, rowCount: 3 },
      { rowStart: 9, rowCount: 1 },
    ]);
    expect(planParts(12, 100, 650, 4)).toEqual([
      { rowStart: 0, rowCount: 4 },
      { rowStart: 4, rowCount: 4 },
      { rowStart: 8, rowCount: 4 },
    ]);
  });
  it('refuses a group larger than a binding', () => {
    expect(() => planParts(8, 100, 350, 4)).toThrow(/storage binding/);
  });
});

describe('WGSL preprocessor', () => {
  it('keeps the taken branches and substitutes values', () => {
    const src = ['a {{N}}', '//#if X', 'x', '//#else', 'not x', '//#endif', '//#if !X', 'y', '//#endif'].join('\n');
    expect(preprocess(src, { X: true }, { N: 3 })).toBe('a 3\nx');
    expect(preprocess(src, { X: false }, { N: 4 })).toBe('a 4\nnot x\ny');
    expect(() => preprocess('//#if Y\n//#endif', {})).toThrow(/unknown flag/);
    expect(() => preprocess('{{Q}}', {})).toThrow(/no value/);
  });
  it('unrolls loops, nested, with counts from substitutions', () => {
    const src = ['//#unroll i {{N}}', 'a[#i] = #i;', '//#unroll j 2', 'b[#i][#j];', '//#endunroll', '//#endunroll'].join('\n');
    expect(preprocess(src, {}, { N: 2 })).toBe('a[0u] = 0u;\nb[0u][0u];\nb[0u][1u];\na[1u] = 1u;\nb[1u][0u];\nb[1u][1u];');
  });
});

describe('CPU block decoding (ggml formulas)', () => {
  it('decodes f16', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
  });
  it('decodes a Q8_0 block: d * q', () => {
    const b = new Uint8Array(34);
    new DataView(b.buffer).setUint16(0, 0x3800, true); // d = 0.5
    b[2] = 4;
    b[3] = 0xfe; // -2
    const y = dequantizeRef('Q8_0', b, 32);
    expect([y[0], y[1], y[2]]).toEqual([2, -1, 0]);
  });
  it('decodes a Q4_0 block: d * (nibble - 8), low nibbles first', () => {
    const b = new Uint8Array(18);
    new DataView(b.buffer).setUint16(0, 0x4000, true); // d = 2
    b[2] = 0x9f; // low 15 -> 14, high 9 -> 2
    const y = dequantizeRef('Q4_0', b, 32);
    expect([y[0], y[16], y[1]]).toEqual([14, 2, -16]);
  });
  it('decodes a Q4_K block: d*sc*q - dmin*m with 6-bit packed scales', () => {
    const b = new Uint8Array(144);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, 0x3c00, true); // d = 1
    dv.setUint16(2, 0x3800, true); // dmin = 0.5
    b[4 + 0] = 3; // sc0 = 3
    b[4 + 4] = 2; // m0 = 2
    b[4 + 8] = 0x15; // sub-block 4: sc low 5, m low 1
    b[4 + 0] |= 0x40; // sc4 high bits: (b[0] >> 6) = 1 -> sc4 = 5 | 16 = 21
    b[16] = 0x07; // qs[0]: low nibble 7 (sub-block 0, value 0)
    b[16 + 64] = 0x02; // sub-block 4, value 0: low nibble 2
    const y = dequantizeRef('Q4_K', b, 256);
    expect(y[0]).toBe(3 * 7 - 0.5 * 2);
    // sub-block 4: m4 = (b[12] >> 4) | ((b[4+4] >> 6) << 4) = 1
    expect(y[128]).toBe(21 * 2 - 0.5 * 1);
  });
  it('decodes a Q6_K block: d * sc * (q6 - 32)', () => {
    const b = new Uint8Array(210);
    new DataView(b.buffer).setUint16(208, 0x3c00, true); // d = 1
    b[192] = 2; // sc[0]
    b[192 + 2] = 0xff; // sc[2] = -1
    b[0] = 0x05; // ql[0] low 5
    b[128] = 0x02 | (0x01 << 2); // qh[0]: bits 0-1 = 2 (value 0), bits 2-3 = 1 (value 32)
    b[32] = 0x0a; // ql[32] low 10 (value 32)
    const y = dequantizeRef('Q6_K', b, 256);
    expect(y[0]).toBe(2 * (5 + 32 - 32));
    expect(y[32]).toBe(-1 * (10 + 16 - 32));
  });
});
