/**
 * Q4_0: 32 values per 18-byte block = f16 d, qs[16]; value j = (nibble - 8) · d, where values 0..15
 * sit in the low nibbles of qs[0..15] and values 16..31 in the high nibbles.
 * Quantizer follows quantize_row_q4_0_ref: d = (signed max-magnitude value) / -8.
 */
import { f16Lookup, f32ToF16 } from './half.ts';
import { f, writeU16le } from './float-ops.ts';

const QK = 32;
const BYTES = 18;

export function dequantizeQ4_0(b: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const y = new Float32Array(count);
  for (let i = 0, o = 0; i < count; i += QK, o += BYTES) {
    const d = t[b[o] | (b[o + 1] << 8)];
    for (let j = 0; j < QK / 2; j++) {
      const q = b[o + 2 + j];
      y[i + j] = ((q & 0x0f) - 8) * d;
      y[i + j + QK / 2] = ((q >> 4) - 8) * d;
    }
  }
  return y;
}

export function quantizeQ4_0(x: Float32Array): Uint8Array {
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
    const d = f(max / -8);
    const id = d ? f(1 / d) : 0;
    writeU16le(out, o, f32ToF16(d));
    for (let j = 0; j < QK / 2; j++) {
      const xi0 = Math.min(15, Math.trunc(f(f(x[i + j] * id) + 8.5)));
      const xi1 = Math.min(15, Math.trunc(f(f(x[i + j + QK / 2] * id) + 8.5)));
      out[o + 2 + j] = xi0 | (xi1 << 4);
    }
  }
  return out;
}
