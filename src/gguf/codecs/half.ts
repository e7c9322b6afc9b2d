/**
 * The one place where f16 and bf16 bit patterns meet f32 values.
 * f16 -> f32 and bf16 -> f32 are exact. f32 -> f16 rounds to nearest, ties to even, overflows to
 * ±inf, keeps subnormals, and maps NaN to the quiet NaN 0x7E00 (with sign) like ggml's
 * ggml_compute_fp32_to_fp16. f32 -> bf16 follows ggml_compute_fp32_to_bf16: round to nearest even
 * on the top 16 bits, NaN forced quiet by setting bit 6.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

let f16Table: Float32Array | undefined;

function f16BitsToF32Slow(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals: mant · 2^-24
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** f16 bits (u16) -> f32 value, via a 64k-entry table built on first use (256 KiB). */
export function f16ToF32(h: number): number {
  if (f16Table === undefined) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16BitsToF32Slow(i);
  }
  return f16Table[h & 0xffff];
}

/** The whole table, for tight loops (index by u16 bits). */
export function f16Lookup(): Float32Array {
  f16ToF32(0);
  return f16Table!;
}

/** f32 value -> f16 bits, round to nearest even. */
export function f32ToF16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant !== 0 ? sign | 0x7e00 : sign | 0x7c00; // NaN, inf
  // unbiased exponent e: value = 1.mant · 2^e; f16 normal range e in [-14, 15]
  const e = exp - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    // normal: keep 10 mantissa bits, round the 13 dropped ones to nearest even
    let h = ((e + 15) << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1; // may carry into exp: correct
    return sign | h;
  }
  if (e < -25) return sign; // below half the smallest subnormal (2^-25): rounds to zero
  // subnormal: value = m · 2^-24 with m = (1.mant) · 2^(e+24); shift the 24-bit significand
  const sig = mant | 0x800000;
  const shift = -e - 1; // bits to drop so that the result counts units of 2^-24: 14 + (-14 - e)
  let m = sig >>> shift;
  const rest = sig & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (m & 1) === 1)) m += 1;
  return sign | m;
}

/** Rounds an f32 value through f16 and back. */
export function roundToF16(value: number): number {
  return f16ToF32(f32ToF16(value));
}

/** bf16 bits -> f32 value (the bits are the top half of an f32). */
export function bf16ToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** f32 value -> bf16 bits, as ggml_compute_fp32_to_bf16. */
export function f32ToBf16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 64) & 0xffff; // NaN: force quiet
  return ((x + (0x7fff + ((x >>> 16) & 1))) >>> 16) & 0xffff;
}
