import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.ts';

// Expected bit patterns written by hand from the IEEE 754 binary16 layout (1 sign, 5 exp, 10 mantissa).
describe('f16', () => {
  it('decodes known patterns', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x7bff)).toBe(65504); // largest finite
    expect(f16ToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16ToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(f16ToF32(0x7e00))).toBe(true);
    expect(Number.isNaN(f16ToF32(0x7c01))).toBe(true);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x3555)).toBe(Math.fround(0.333251953125));
  });

  it('encodes with round to nearest even', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65519.99)).toBe(0x7bff); // below the halfway point to 65536
    expect(f32ToF16(65520)).toBe(0x7c00); // halfway, ties to even = overflow to inf
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f32ToF16(-1e6)).toBe(0xfc00);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(NaN)).toBe(0x7e00);
    expect(f32ToF16(-0)).toBe(0x8000);
    // 1 + 2^-11 is exactly between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01): ties to even
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3·2^-11 is between 0x3c01 (odd) and 0x3c02 (even): goes up
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
  });

  it('encodes subnormals and the underflow boundary', () => {
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie between 0 and 1 unit: even is 0
    expect(f32ToF16(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // 1.5 units: tie, even is 2
    expect(f32ToF16(1023 * 2 ** -24)).toBe(0x03ff);
    expect(f32ToF16(1023.5 * 2 ** -24)).toBe(0x0400); // rounds up into the smallest normal
    expect(f32ToF16(2 ** -30)).toBe(0x0000);
    expect(f32ToF16(-(2 ** -24))).toBe(0x8001);
  });

  it('round-trips every finite f16 exactly', () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaNs
      if (f32ToF16(f16ToF32(h)) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });
});

describe('bf16', () => {
  it('decodes and encodes known patterns', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc040)).toBe(-3);
    expect(f32ToBf16(1)).toBe(0x3f80);
    // 1 + 2^-8 is halfway between 0x3f80 and 0x3f81: ties to even -> 0x3f80
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80);
    // 1 + 3·2^-8 is halfway between 0x3f81 and 0x3f82: ties to even -> 0x3f82
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f32ToBf16(Infinity)).toBe(0x7f80);
    expect(f32ToBf16(NaN)).toBe(0x7fc0);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133); // subnormal kept
  });
});
