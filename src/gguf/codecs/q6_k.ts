/**
 * Q6_K: 256 values per 210-byte super-block = ql[128] @0 (low 4 bits), qh[64] @128 (high 2 bits),
 * int8 scales[16] @192 (one per 16 values), f16 d @208; value = d · scale · (6-bit q - 32).
 * Per half (128 values; ql advances 64, qh 32, scales 8), for l < 32:
 *   v[l]    = ql[l] & 0xF    | (qh[l] >> 0 & 3) << 4     v[l+32] = ql[l+32] & 0xF | (qh[l] >> 2 & 3) << 4
 *   v[l+64] = ql[l] >> 4     | (qh[l] >> 4 & 3) << 4     v[l+96] = ql[l+32] >> 4  | (qh[l] >> 6 & 3) << 4
 * Quantizer: quantize_row_q6_K_ref (make_qx_quants per 16 values, 8-bit scales, requantize).
 */
import { f16Lookup, f32ToF16, f16ToF32 } from './half.ts';
import { GROUP_MAX_EPS, clamp, f, nearestInt, writeU16le } from './float-ops.ts';
import { makeQxQuants } from './k-quant-search.ts';

const QK = 256;
const BYTES = 210;

export function dequantizeQ6_K(b: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const y = new Float32Array(count);
  for (let o = 0, yo = 0; yo < count; o += BYTES) {
    const d = t[b[o + 208] | (b[o + 209] << 8)];
    for (let half = 0; half < 2; half++, yo += 128) {
      const ql = o + 64 * half;
      const qh = o + 128 + 32 * half;
      const sc = o + 192 + 8 * half;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = b[qh + l];
        const q1 = ((b[ql + l] & 0xf) | ((h & 3) << 4)) - 32;
        const q2 = ((b[ql + l + 32] & 0xf) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((b[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((b[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        // C evaluates (d * sc) * q in f32: the first product is exact, the second rounds once
        y[yo + l] = f(d * ((b[sc + is] << 24) >> 24)) * q1;
        y[yo + l + 32] = f(d * ((b[sc + is + 2] << 24) >> 24)) * q2;
        y[yo + l + 64] = f(d * ((b[sc + is + 4] << 24) >> 24)) * q3;
        y[yo + l + 96] = f(d * ((b[sc + is + 6] << 24) >> 24)) * q4;
      }
    }
  }
  return y;
}

export function quantizeQ6_K(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  const L = new Int8Array(QK);
  const scales = new Float32Array(16);
  for (let xo = 0, o = 0; xo < x.length; xo += QK, o += BYTES) {
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib);
      scales[ib] = scale;
      if (Math.abs(scale) > maxAbsScale) {
        maxAbsScale = Math.abs(scale);
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) continue; // the block stays all zero bytes (d = 0)
    const iscale = f(-128 / maxScale);
    const dBits = f32ToF16(f(1 / iscale));
    writeU16le(out, o + 208, dBits);
    for (let ib = 0; ib < 16; ib++) out[o + 192 + ib] = Math.min(127, nearestInt(f(iscale * scales[ib]))) & 0xff;
    for (let j = 0; j < 16; j++) {
      const d = f(f16ToF32(dBits) * ((out[o + 192 + j] << 24) >> 24));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clamp(nearestInt(f(x[xo + 16 * j + ii] / d)), -32, 31) + 32;
    }
    for (let j = 0, ql = o, qh = o + 128; j < QK; j += 128, ql += 64, qh += 32) {
      for (let l = 0; l < 32; l++) {
        const a = L[j + l],
          bb = L[j + l + 32],
          c = L[j + l + 64],
          e = L[j + l + 96];
        out[ql + l] = (a & 0xf) | ((c & 0xf) << 4);
        out[ql + l + 32] = (bb & 0xf) | ((e & 0xf) << 4);
        out[qh + l] = (a >> 4) | ((bb >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
      }
    }
  }
  return out;
}
