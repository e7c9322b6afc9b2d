/**
 * Q5_1: 32 values per 24-byte block = f16 d, f16 m, u32 qh (fifth bits), qs[16];
 * value = 5-bit q · d + m. Quantizer: quantize_row_q5_1_ref (min/max).
 */
import { f16Lookup, f32ToF16 } from './half.ts';
import { f, u32le, writeU16le, writeU32le } from './float-ops.ts';

const QK = 32;
const BYTES = 24;

export function dequantizeQ5_1(b: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const y = new Float32Array(count);
  for (let i = 0, o = 0; i < count; i += QK, o += BYTES) {
    const d = t[b[o] | (b[o + 1] << 8)];
    const m = t[b[o + 2] | (b[o + 3] << 8)];
    const qh = u32le(b, o + 4);
    for (let j = 0; j < QK / 2; j++) {
      const q = b[o + 8 + j];
      const h0 = ((qh >>> j) & 1) << 4;
      const h1 = ((qh >>> (j + 16)) & 1) << 4;
      y[i + j] = f(((q & 0x0f) | h0) * d) + m;
      y[i + j + QK / 2] = f(((q >> 4) | h1) * d) + m;
    }
  }
  return y;
}

export function quantizeQ5_1(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let i = 0, o = 0; i < x.length; i += QK, o += BYTES) {
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < QK; j++) {
      const v = x[i + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = f(f(max - min) / 31);
    const id = d ? f(1 / d) : 0;
    writeU16le(out, o, f32ToF16(d));
    writeU16le(out, o + 2, f32ToF16(min));
    let qh = 0;
    for (let j = 0; j < QK / 2; j++) {
      // (uint8_t) conversion without MIN, as the reference
      const xi0 = Math.trunc(f(f(f(x[i + j] - min) * id) + 0.5)) & 0xff;
      const xi1 = Math.trunc(f(f(f(x[i + j + QK / 2] - min) * id) + 0.5)) & 0xff;
      out[o + 8 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      qh |= ((xi0 & 0x10) >> 4) << j;
      qh |= ((xi1 & 0x10) >> 4) << (j + 16);
    }
    writeU32le(out, o + 4, qh >>> 0);
  }
  return out;
}
