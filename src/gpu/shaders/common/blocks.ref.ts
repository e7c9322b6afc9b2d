/**
 * CPU mirror of blocks.wgsl: ggml's dequantize_row_* for the types the kernels read, value for value
 * in f32 (Math.fround at each ggml float operation). The kernels' tests compare against it; the
 * codecs in src/gguf are the project's exact-to-ggml implementation and are checked against it too.
 */
import { WEIGHT_TYPES, rowBytes, type WeightType } from './quant-types.ts';

const f = Math.fround;

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const bf16View = new DataView(new ArrayBuffer(4));
export function bf16ToF32(h: number): number {
  bf16View.setUint32(0, (h & 0xffff) << 16, true);
  return bf16View.getFloat32(0, true);
}

/** ggml get_scale_min_k4: 6-bit scale and min of sub-block j from the 12 scale bytes at `s`. */
function scaleMinK4(b: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [b[s + j] & 63, b[s + j + 4] & 63];
  return [(b[s + j + 4] & 0xf) | ((b[s + j - 4] >> 6) << 4), (b[s + j + 4] >> 4) | ((b[s + j] >> 6) << 4)];
}

/** Dequantizes `count` values (whole blocks) of `type` from `bytes`. */
export function dequantizeRef(type: WeightType, bytes: Uint8Array, count: number): Float32Array {
  const y = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => dv.getUint16(o, true);
  const h = (o: number) => f16ToF32(u16(o));
  const i8 = (o: number) => dv.getInt8(o);
  const { blockValues: QK, blockBytes: BB } = WEIGHT_TYPES[type];
  if (count % QK !== 0) throw new Error(`${type}: ${count} is not a whole number of blocks`);
  for (let blk = 0; blk < count / QK; blk++) {
    const b = blk * BB;
    const o = blk * QK;
    switch (type) {
      case 'F32':
        y[o] = dv.getFloat32(b, true);
        break;
      case 'F16':
        y[o] = h(b);
        break;
      case 'BF16':
        y[o] = bf16ToF32(u16(b));
        break;
      case 'Q8_0': {
        const d = h(b);
        for (let j = 0; j < 32; j++) y[o + j] = f(i8(b + 2 + j) * d);
        break;
      }
      case 'Q4_0': {
        const d = h(b);
        for (let j = 0; j < 16; j++) {
          y[o + j] = f(((bytes[b + 2 + j] & 0xf) - 8) * d);
          y[o + j + 16] = f(((bytes[b + 2 + j] >> 4) - 8) * d);
        }
        break;
      }
      case 'Q4_K':
      case 'Q5_K': {
        const d = h(b);
        const dmin = h(b + 2);
        const q5 = type === 'Q5_K';
        const qh = b + 16;
        let ql = q5 ? b + 48 : b + 16;
        for (let j = 0; j < 8; j += 2) {
          const [sc1, m1i] = scaleMinK4(bytes, b + 4, j);
          const [sc2, m2i] = scaleMinK4(bytes, b + 4, j + 1);
          const d1 = f(d * sc1), m1 = f(dmin * m1i), d2 = f(d * sc2), m2 = f(dmin * m2i);
          for (let l = 0; l < 32; l++) {
            const hb1 = q5 && bytes[qh + l] & (1 << j) ? 16 : 0;
            const hb2 = q5 && bytes[qh + l] & (2 << j) ? 16 : 0;
            y[o + 32 * j + l] = f(f(d1 * ((bytes[ql + l] & 0xf) + hb1)) - m1);
            y[o + 32 * j + 32 + l] = f(f(d2 * ((bytes[ql + l] >> 4) + hb2)) - m2);
          }
          ql += 32;
        }
        break;
      }
      case 'Q6_K': {
        const d = h(b + 208);
        for (let half = 0; half < 2; half++) {
          const ql = b + 64 * half, qh = b + 128 + 32 * half, sc = b + 192 + 8 * half, yo = o + 128 * half;
          for (let l = 0; l < 32; l++) {
            const is = l >> 4;
            const q1 = ((bytes[ql + l] & 0xf) | (((bytes[qh + l] >> 0) & 3) << 4)) - 32;
            const q2 = ((bytes[ql + l + 32] & 0xf) | (((bytes[qh + l] >> 2) & 3) << 4)) - 32;
            const q3 = ((bytes[ql + l] >> 4) | (((bytes[qh + l] >> 4) & 3) << 4)) - 32;
            const q4 = ((bytes[ql + l + 32] >> 4) | (((bytes[qh + l] >> 6) & 3) << 4)) - 32;
            y[yo + l] = f(f(d * i8(sc + is)) * q1);
            y[yo + l + 32] = f(f(d * i8(sc + is + 2)) * q2);
            y[yo + l + 64] = f(f(d * i8(sc + is + 4)) * q3);
            y[yo + l + 96] = f(f(d * i8(sc + is + 6)) * q4);
          }
        }
        break;
      }
    }
  }
  return y;
}

/** Dequantizes `rows` rows of K values each. */
export function dequantizeRowsRef(type: WeightType, bytes: Uint8Array, rows: number, k: number): Float32Array {
  return dequantizeRef(type, bytes.subarray(0, rows * rowBytes(type, k)), rows * k);
}
