/**
 * Q3_K: 256 values per 110-byte super-block = hmask[32] @0 (high bits), qs[64] @32 (low 2 bits),
 * scales[12] @96 (sixteen 6-bit scales, stored +32), f16 d @108;
 * value = d · (scale - 32) · (2-bit q - (high bit set ? 0 : 4)).
 * Scale j: low 4 bits = j < 8 ? s[j] & 0xF : s[j-8] >> 4; high 2 bits = s[8 + j%4] >> 2·⌊j/4⌋ & 3.
 * Value order as Q2_K; the high bit of value k is bit ⌊k/32⌋ of hmask[k % 32].
 * Quantizer: quantize_row_q3_K_ref.
 */
import { f16Lookup, f32ToF16, f16ToF32 } from './half.ts';
import { clamp, f, nearestInt, writeU16le } from './float-ops.ts';
import { makeQ3Quants } from './k-quant-search.ts';

const QK = 256;
const BYTES = 110;

/** The 16 signed scales (scale - 32) of the block at `o`. */
function q3Scales(b: Uint8Array, o: number, out: Int32Array): void {
  const s = o + 96;
  for (let j = 0; j < 16; j++) {
    const low = j < 8 ? b[s + j] & 0xf : b[s + j - 8] >> 4;
    const high = (b[s + 8 + (j % 4)] >> (2 * (j >> 2))) & 3;
    out[j] = (low | (high << 4)) - 32;
  }
}

export function dequantizeQ3_K(b: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const y = new Float32Array(count);
  const scales = new Int32Array(16);
  let yi = 0;
  for (let o = 0; yi < count; o += BYTES) {
    const dAll = t[b[o + 108] | (b[o + 109] << 8)];
    q3Scales(b, o, scales);
    const hm = o;
    let m = 1;
    let is = 0;
    for (let q = o + 32; q < o + 96; q += 32) {
      for (let shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (let half = 0; half < 32; half += 16) {
          const dl = f(dAll * scales[is++]);
          for (let l = 0; l < 16; l++) {
            y[yi++] = dl * (((b[q + half + l] >> shift) & 3) - (b[hm + half + l] & m ? 0 : 4));
          }
        }
      }
    }
  }
  return y;
}

export function quantizeQ3_K(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / QK) * BYTES);
  const L = new Int8Array(QK);
  const scales = new Float32Array(16);
  const sc = new Int32Array(16);
  for (let xo = 0, o = 0; xo < x.length; xo += QK, o += BYTES) {
    let maxScale = 0;
    let amax = 0;
    for (let j = 0; j < 16; j++) {
      scales[j] = makeQ3Quants(16, 4, x, xo + 16 * j, L, 16 * j);
      const a = Math.abs(scales[j]);
      if (a > amax) {
        amax = a;
        maxScale = scales[j];
      }
    }
    let dBits = 0;
    if (maxScale) {
      const iscale = f(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        let l = (nearestInt(f(iscale * scales[j])) << 24) >> 24; // int8_t l = nearest_int(...)
        l = clamp(l, -32, 31) + 32;
        if (j < 8) out[o + 96 + j] = l & 0xf;
        else out[o + 96 + j - 8] |= (l & 0xf) << 4;
        l >>= 4;
        out[o + 96 + 8 + (j % 4)] |= l << (2 * (j >> 2));
      }
      dBits = f32ToF16(f(1 / iscale));
    }
    writeU16le(out, o + 108, dBits);
    q3Scales(out, o, sc);
    for (let j = 0; j < 16; j++) {
      const d = f(f16ToF32(dBits) * sc[j]);
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) L[16 * j + ii] = clamp(nearestInt(f(x[xo + 16 * j + ii] / d)), -4, 3) + 4;
    }
    let m = 0;
    let hm = 1;
    for (let j = 0; j < QK; j++) {
      if (L[j] > 3) {
        out[o + m] |= hm;
        L[j] -= 4;
      }
      if (++m === 32) {
        m = 0;
        hm <<= 1;
      }
    }
    for (let j = 0; j < QK; j += 128) {
      for (let l = 0; l < 32; l++) {
        out[o + 32 + j / 4 + l] = L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6);
      }
    }
  }
  return out;
}
