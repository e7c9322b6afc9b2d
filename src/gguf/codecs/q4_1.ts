/**
 * Q4_1: 32 values per 20-byte block = f16 d, f16 m, qs[16]; value = nibble · d + m
 * (low nibbles: values 0..15, high nibbles: 16..31). Quantizer: quantize_row_q4_1_ref (min/max).
 */
import { f16Lookup, f32ToF16 } from './half.ts';
import { f, writeU16le } from './float-ops.ts';

const QK = 32;
const BYTES = 20;

export function dequantizeQ4_1(b: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const y = new Float32Array(count);
  for (let i = 0, o = 0; i < count; i += QK, o += BYTES) {
    const d = t[b[o] | (b[o + 1] << 8)];
    const m = t[b[o + 2] | (b[o + 3] << 8)];
    for (let j = 0; j < QK / 2; j++) {
      const q = b[o + 4 + j];
      y[i + j] = f((q & 0x0f) * d) + m;
      y[i + j + QK / 2] = f((q >> 4) * d) + m;
    }
  }
  return y;
}

export function quantizeQ4_1(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  for (let i = 0, o = 0; i < x.length; i += QK, o += BYTES) {
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < QK; j++) {
      const v = x[i + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = f(f(max - min) / 15);
    const id = d ? f(1 / d) : 0;
    writeU16le(out, o, f32ToF16(d));
    writeU16le(out, o + 2, f32ToF16(min));
    for (let j = 0; j < QK / 2; j++) {
      const xi0 = Math.min(15, Math.trunc(f(f(f(x[i + j] - min) * id) + 0.5)));
      const xi1 = Math.min(15, Math.trunc(f(f(f(x[i + j + QK / 2] - min) * id) + 0.5)));
      out[o + 4 + j] = xi0 | (xi1 << 4);
    }
  }
  return out;
}
