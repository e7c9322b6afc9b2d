/**
 * Q5_K: 256 values per 176-byte super-block = f16 d @0, f16 dmin @2, scales[12] @4, qh[32] @16,
 * qs[128] @48. Like Q4_K with a fifth bit: for the pair of sub-blocks (2p, 2p+1), bit 2p of qh[l]
 * is the high bit of the low-nibble value and bit 2p+1 that of the high-nibble value.
 * Quantizer: quantize_row_q5_K_ref.
 */
import { f16Lookup, f32ToF16, f16ToF32 } from './half.ts';
import { clamp, f, nearestInt, writeU16le } from './float-ops.ts';
import { getScaleMinK4, putScaleMinK4 } from './k-scales.ts';
import { makeQkx2Quants } from './k-quant-search.ts';

const QK = 256;
const BYTES = 176;

export function dequantizeQ5_K(b: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const y = new Float32Array(count);
  let yi = 0;
  for (let o = 0; yi < count; o += BYTES) {
    const d = t[b[o] | (b[o + 1] << 8)];
    const min = t[b[o + 2] | (b[o + 3] << 8)];
    const qh = o + 16;
    let ql = o + 48;
    let u1 = 1,
      u2 = 2;
    for (let is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      const [sc1, m1v] = getScaleMinK4(is, b, o + 4);
      const [sc2, m2v] = getScaleMinK4(is + 1, b, o + 4);
      const d1 = f(d * sc1),
        m1 = f(min * m1v);
      const d2 = f(d * sc2),
        m2 = f(min * m2v);
      for (let l = 0; l < 32; l++) y[yi++] = f(d1 * ((b[ql + l] & 0xf) + (b[qh + l] & u1 ? 16 : 0))) - m1;
      for (let l = 0; l < 32; l++) y[yi++] = f(d2 * ((b[ql + l] >> 4) + (b[qh + l] & u2 ? 16 : 0))) - m2;
    }
  }
  return y;
}

export function quantizeQ5_K(x: Float32Array): Uint8Array {
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
      const r = makeQkx2Quants(32, 31, x, s, weights, L, 32 * j, laux, -0.5, f(0.1), 15, false);
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
      for (let ii = 0; ii < 32; ii++) L[32 * j + ii] = clamp(nearestInt(f(f(x[xo + 32 * j + ii] + dm) / d)), 0, 31);
    }
    const qh = o + 16;
    let m1 = 1,
      m2 = 2;
    for (let n = 0, ql = o + 48; n < QK; n += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
      for (let j = 0; j < 32; j++) {
        let l1 = L[n + j];
        if (l1 > 15) {
          l1 -= 16;
          out[qh + j] |= m1;
        }
        let l2 = L[n + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          out[qh + j] |= m2;
        }
        out[ql + j] = l1 | (l2 << 4);
      }
    }
  }
  return out;
}
