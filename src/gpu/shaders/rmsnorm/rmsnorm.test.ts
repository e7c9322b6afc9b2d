import { describe, expect, it } from 'vitest';
import { rmsnormRef } from './rmsnorm.ref.ts';

describe('rmsnorm CPU reference', () => {
  it('normalises a row to unit RMS before the weight', () => {
    // x = [3, 4]: mean square 12.5, so y = x / sqrt(12.5) * w.
    const y = rmsnormRef(new Float32Array([3, 4]), new Float32Array([1, 2]), 1, 2, 0);
    expect(y[0]).toBeCloseTo(3 / Math.sqrt(12.5), 6);
    expect(y[1]).toBeCloseTo((4 / Math.sqrt(12.5)) * 2, 6);
  });
});
