/**
 * Q4_K: 256 values per 144-byte super-block = f16 d @0, f16 dmin @2, scales[12] @4, qs[128] @16.
 * Eight sub-blocks of 32 with 6-bit scale sc and min m: value = d·sc · q - dmin·m.
 * qs holds 64 values per 32 bytes: low nibbles = first 32 values, high nibbles = next 32.
 * Quantizer: quantize_row_q4_K_ref (make_qkx2_quants per sub-block, then 6-bit scales, requantize).
 */
import { f16Lookup, f32ToF16, f16ToF32 } from './half.ts';
import { clamp, f, nearestInt, writeU16le } from './float-ops.ts';
import { getScaleMinK4, putScaleMinK4 } from './k-scales.ts';
import { makeQkx2Quants } from './k-quant-search.ts';

const QK = 256;
const BYTES = 144;

export function dequantizeQ4_K(b: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const y = new Float32Array(count);
  let yi = 0;
  for (let o = 0; yi < count; o += BYTES) {
    const d = t[b[o] | (b[o + 1] << 8)];
    const min = t[b[o + 2] | (b[o + 3] << 8)];
    let q = o + 16;
    for (let is = 0; is < 8; is += 2, q += 32) {
      const [sc1, m1v] = getScaleMinK4(is, b, o + 4);
      const [sc2, m2v] = getScaleMinK4(is + 1, b, o + 4);
      const d1 = f(d * sc1),
        m1 = f(min * m1v);
      const d2 = f(d * sc2),
        m2 = f(min * m2v);
      for (let l = 0; l < 32; l++) y[yi++] = f(d1 * (b[q + l] & 0xf)) - m1;
      for (let l = 0; l < 32; l++) y[yi++] = f(d2 * (b[q + l] >> 4)) - m2;
    }
  }
  return y;
}

export function quantizeQ4_K(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  const L = new Uint8Array(QK);
  const laux = new Uint8Array(32);
  const weights = new Float32Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  for (let xo = 0, o = 0; xo < x.length; xo += QK, o += BYTES) {
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      const s = xo + 32 * j;
      let sumX2 = 0;
      for (let l = 0; l < 32; l++) sumX2 = f(sumX2 + f(x[s + l] * x[s + l]));
      const avX = f(Math.sqrt(f(sumX2 / 32)));
      for (let l = 0; l < 32; l++) weights[l] = f(avX + Math.abs(x[s + l]));
      const r = makeQkx2Quants(32, 15, x, s, weights, L, 32 * j, laux, -1, f(0.1), 20, false);
      scales[j] = r.scale;
      mins[j] = r.min;
      if (scales[j] > maxScale) maxScale = scales[j];
      if (mins[j] > maxMin) maxMin = mins[j];
    }
    const invScale = maxScale > 0 ? f(63 / maxScale) : 0;
    const invMin = maxMin > 0 ? f(63 / maxMin) : 0;
    for (let j = 0; j < 8; j++) {
      const ls = Math.min(63, nearestInt(f(invScale * scales[j])) & 0xff);
      const lm = Math.min(63, nearestInt(f(invMin * mins[j])) & 0xff);
      putScaleMinK4(j, ls, lm, out, o + 4);
    }
    const dBits = f32ToF16(f(maxScale / 63));
    const mBits = f32ToF16(f(maxMin / 63));
    writeU16le(out, o, dBits);
    writeU16le(out, o + 2, mBits);
    for (let j = 0; j < 8; j++) {
      const [sc, m] = getScaleMinK4(j, out, o + 4);
      const d = f(f16ToF32(dBits) * sc);
      if (!d) continue;
      const dm = f(f16ToF32(mBits) * m);
      for (let ii = 0; ii < 32; ii++) L[32 * j + ii] = clamp(nearestInt(f(f(x[xo + 32 * j + ii] + dm) / d)), 0, 15);
    }
    for (let j = 0, q = o + 16; j < QK; j += 64, q += 32) {
      for (let l = 0; l < 32; l++) out[q + l] = L[j + l] | (L[j + l + 32] << 4);
    }
  }
  return out;
}
