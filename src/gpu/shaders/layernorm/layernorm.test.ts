import { describe, expect, it } from 'vitest';
import { layernormRef } from './layernorm.ref.ts';

describe('layernorm CPU reference', () => {
  it('centres, scales to unit variance, then applies weight and bias', () => {
    // x = [1, 3]: mean 2, var 1, so the normalised row is [-1, 1].
    const y = layernormRef(new Float32Array([1, 3]), new Float32Array([2, 3]), new Float32Array([0.5, -1]), 1, 2, 0);
    expect(y[0]).toBeCloseTo(-2 + 0.5, 6);
    expect(y[1]).toBeCloseTo(3 - 1, 6);
  });
});
