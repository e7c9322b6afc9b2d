/**
 * Q5_0: 32 values per 22-byte block = f16 d, u32 qh (fifth bits, bit j for value j), qs[16] (low
 * nibbles: values 0..15, high nibbles: 16..31); value = (5-bit q - 16) · d.
 * Quantizer: quantize_row_q5_0_ref (d = signed max-magnitude value / -16).
 */
import { f16Lookup, f32ToF16 } from './half.ts';
import { f, u32le, writeU16le, writeU32le } from './float-ops.ts';

const QK = 32;
const BYTES = 22;

export function dequantizeQ5_0(b: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const y = new Float32Array(count);
  for (let i = 0, o = 0; i < count; i += QK, o += BYTES) {
    const d = t[b[o] | (b[o + 1] << 8)];
    const qh = u32le(b, o + 2);
    for (let j = 0; j < QK / 2; j++) {
      const q = b[o + 6 + j];
      const h0 = ((qh >>> j) & 1) << 4;
      const h1 = ((qh >>> (j + 16)) & 1) << 4;
      y[i + j] = (((q & 0x0f) | h0) - 16) * d;
      y[i + j + QK / 2] = (((q >> 4) | h1) - 16) * d;
    }
  }
  return y;
}

export function quantizeQ5_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let i = 0, o = 0; i < x.length; i += QK, o += BYTES) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = x[i + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = f(max / -16);
    const id = d ? f(1 / d) : 0;
    writeU16le(out, o, f32ToF16(d));
    let qh = 0;
    for (let j = 0; j < QK / 2; j++) {
      const xi0 = Math.min(31, Math.trunc(f(f(x[i + j] * id) + 16.5)));
      const xi1 = Math.min(31, Math.trunc(f(f(x[i + j + QK / 2] * id) + 16.5)));
      out[o + 6 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      qh |= ((xi0 & 0x10) >> 4) << j;
      qh |= ((xi1 & 0x10) >> 4) << (j + 16);
    }
    writeU32le(out, o + 2, qh >>> 0);
  }
  return out;
}
