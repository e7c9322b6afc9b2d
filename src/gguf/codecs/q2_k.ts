/**
 * Q2_K: 256 values per 84-byte super-block = scales[16] @0 (low nibble: scale, high: min, one pair
 * per 16 values), qs[64] @16 (2-bit values), f16 d @80, f16 dmin @82; value = d·sc·q - dmin·m.
 * Per half (128 values; qs advances 32): for shift 0,2,4,6: 16 values from qs[0..15] then 16 from
 * qs[16..31], each taking bits (shift, shift+1). Quantizer: quantize_row_q2_K_ref.
 */
import { f16Lookup, f32ToF16, f16ToF32 } from './half.ts';
import { clamp, f, nearestInt, writeU16le } from './float-ops.ts';
import { makeQkx2Quants } from './k-quant-search.ts';

const QK = 256;
const BYTES = 84;

export function dequantizeQ2_K(b: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const y = new Float32Array(count);
  let yi = 0;
  for (let o = 0; yi < count; o += BYTES) {
    const d = t[b[o + 80] | (b[o + 81] << 8)];
    const min = t[b[o + 82] | (b[o + 83] << 8)];
    let is = 0;
    for (let q = o + 16; q < o + 80; q += 32) {
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half = 0; half < 32; half += 16) {
          const sc = b[o + is++];
          const dl = f(d * (sc & 0xf));
          const ml = f(min * (sc >> 4));
          for (let l = 0; l < 16; l++) y[yi++] = f(dl * ((b[q + half + l] >> shift) & 3)) - ml;
        }
      }
    }
  }
  return y;
}

export function quantizeQ2_K(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  const L = new Uint8Array(QK);
  const laux = new Uint8Array(16);
  const weights = new Float32Array(16);
  const scales = new Float32Array(16);
  const mins = new Float32Array(16);
  for (let xo = 0, o = 0; xo < x.length; xo += QK, o += BYTES) {
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) weights[l] = Math.abs(x[xo + 16 * j + l]);
      const r = makeQkx2Quants(16, 3, x, xo + 16 * j, weights, L, 16 * j, laux, -0.5, f(0.1), 15, true);
      scales[j] = r.scale;
      mins[j] = r.min;
      if (scales[j] > maxScale) maxScale = scales[j];
      if (mins[j] > maxMin) maxMin = mins[j];
    }
    let dBits = 0;
    let mBits = 0;
    if (maxScale > 0) {
      const iscale = f(15 / maxScale);
      for (let j = 0; j < 16; j++) out[o + j] = nearestInt(f(iscale * scales[j])) & 0xff;
      dBits = f32ToF16(f(maxScale / 15));
    }
    if (maxMin > 0) {
      const iscale = f(15 / maxMin);
      for (let j = 0; j < 16; j++) out[o + j] |= (nearestInt(f(iscale * mins[j])) << 4) & 0xff;
      mBits = f32ToF16(f(maxMin / 15));
    }
    writeU16le(out, o + 80, dBits);
    writeU16le(out, o + 82, mBits);
    for (let j = 0; j < 16; j++) {
      const d = f(f16ToF32(dBits) * (out[o + j] & 0xf));
      if (!d) continue;
      const dm = f(f16ToF32(mBits) * (out[o + j] >> 4));
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clamp(nearestInt(f(f(x[xo + 16 * j + ii] + dm) / d)), 0, 3);
    }
    for (let j = 0; j < QK; j += 128) {
      for (let l = 0; l < 32; l++) {
        out[o + 16 + j / 4 + l] = L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6);
      }
    }
  }
  return out;
}
