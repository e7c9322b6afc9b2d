/**
 * Q8_0: 32 values per 34-byte block = f16 d, int8 qs[32]; value = qs[j] · d.
 * Quantizer follows quantize_row_q8_0_ref: d = amax/127, q = roundf(x/d).
 */
import { f16Lookup, f32ToF16 } from './half.ts';
import { f, roundf, writeU16le } from './float-ops.ts';

const QK = 32;
const BYTES = 34;

export function dequantizeQ8_0(b: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const y = new Float32Array(count);
  for (let i = 0, o = 0; i < count; i += QK, o += BYTES) {
    const d = t[b[o] | (b[o + 1] << 8)];
    for (let j = 0; j < QK; j++) y[i + j] = ((b[o + 2 + j] << 24) >> 24) * d;
  }
  return y;
}

export function quantizeQ8_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let i = 0, o = 0; i < x.length; i += QK, o += BYTES) {
    let amax = 0;
    for (let j = 0; j < QK; j++) {
      const a = Math.abs(x[i + j]);
      amax = amax > a ? amax : a;
    }
    const d = f(amax / 127);
    const id = d ? f(1 / d) : 0;
    writeU16le(out, o, f32ToF16(d));
    for (let j = 0; j < QK; j++) out[o + 2 + j] = roundf(f(x[i + j] * id)) & 0xff;
  }
  return out;
}
