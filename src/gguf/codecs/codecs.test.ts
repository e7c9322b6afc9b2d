import { describe, expect, it } from 'vitest';
import { SparseScopeError } from '../../errors.ts';
import { GgmlType, blockLayout, typeName } from '../types.ts';
import { SUPPORTED_CODEC_TYPES, dequantize, quantize } from './index.ts';

/** Deterministic pseudo-random values: a mix of gaussian-like and outliers, with a signed offset. */
function sample(n: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = rnd() + rnd() + rnd() + rnd() - 2;
    out[i] = g * (i % 97 === 0 ? 8 : 1) + (i % 512 < 256 ? 0.3 : -0.1);
  }
  return out;
}

function maxAbs(a: Float32Array, lo: number, hi: number): number {
  let m = 0;
  for (let i = lo; i < hi; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

describe('round trips within the format error bound', () => {
  const x = sample(4096);

  it('F32 is exact, F16/BF16 within half an ulp', () => {
    expect(dequantize(GgmlType.F32, quantize(GgmlType.F32, x), x.length)).toEqual(x);
    const h = dequantize(GgmlType.F16, quantize(GgmlType.F16, x), x.length);
    const b = dequantize(GgmlType.BF16, quantize(GgmlType.BF16, x), x.length);
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(h[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -11 + 2 ** -25);
      expect(Math.abs(b[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -8);
    }
  });

  // Symmetric 32-value formats: value = q·d, d from the block's max magnitude M.
  // Q8_0: d = M/127, |err| ≤ d/2 + 127·|d - f16(d)|.  Q4_0/Q5_0: d = M/8 (M/16); the clamp at the
  // top level costs at most one step: |err| ≤ d·(1 + levels·2^-11).
  const symmetric: Array<[number, number, number]> = [
    [GgmlType.Q8_0, 127, 0.5],
    [GgmlType.Q4_0, 8, 1],
    [GgmlType.Q5_0, 16, 1],
  ];
  for (const [type, levels, steps] of symmetric) {
    it(`${typeName(type)}: |err| ≤ ${steps} step`, () => {
      const y = dequantize(type, quantize(type, x), x.length);
      for (let b = 0; b < x.length; b += 32) {
        const d = maxAbs(x, b, b + 32) / levels;
        const bound = d * (steps + levels * 2 ** -11) + 1e-7;
        for (let i = b; i < b + 32; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(bound);
      }
    });
  }

  // min/max formats: step = (max - min)/levels, rounding ≤ half a step (+ f16 rounding of d and m).
  const affine: Array<[number, number]> = [
    [GgmlType.Q4_1, 15],
    [GgmlType.Q5_1, 31],
  ];
  for (const [type, levels] of affine) {
    it(`${typeName(type)}: |err| ≤ step/2 + f16 rounding`, () => {
      const y = dequantize(type, quantize(type, x), x.length);
      for (let b = 0; b < x.length; b += 32) {
        let mn = Infinity,
          mx = -Infinity;
        for (let i = b; i < b + 32; i++) {
          mn = Math.min(mn, x[i]);
          mx = Math.max(mx, x[i]);
        }
        const step = (mx - mn) / levels;
        const bound = step / 2 + step * levels * 2 ** -11 + Math.abs(mn) * 2 ** -11 + 1e-6;
        for (let i = b; i < b + 32; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(bound);
      }
    });
  }

  // K-quants: sub-block scales are themselves quantized (6 or 8 bits) and the fit may clamp the
  // extremes, so the bound is one step of the super-block's full range (range / levels), and the
  // RMS error stays below a third of that step (a uniform quantizer gives step/√12 ≈ 0.29 step).
  const kquants: Array<[number, number]> = [
    [GgmlType.Q2_K, 3],
    [GgmlType.Q3_K, 7],
    [GgmlType.Q4_K, 15],
    [GgmlType.Q5_K, 31],
    [GgmlType.Q6_K, 63],
  ];
  for (const [type, levels] of kquants) {
    it(`${typeName(type)}: |err| ≤ one step of the block range, RMS ≤ step/3`, () => {
      const y = dequantize(type, quantize(type, x), x.length);
      for (let b = 0; b < x.length; b += 256) {
        let mn = Infinity,
          mx = -Infinity;
        for (let i = b; i < b + 256; i++) {
          mn = Math.min(mn, x[i]);
          mx = Math.max(mx, x[i]);
        }
        const step = (Math.max(mx, 0) - Math.min(mn, 0)) / levels;
        let se = 0;
        for (let i = b; i < b + 256; i++) {
          const e = Math.abs(y[i] - x[i]);
          se += e * e;
          expect(e).toBeLessThanOrEqual(step * 1.01);
        }
        expect(Math.sqrt(se / 256)).toBeLessThanOrEqual(step / 3);
      }
    });
  }

  it('all-zero input gives all-zero output for every type', () => {
    const z = new Float32Array(512);
    for (const t of SUPPORTED_CODEC_TYPES) expect(Array.from(dequantize(t, quantize(t, z), 512), (v) => v + 0)).toEqual(Array.from(z)); // -0 + 0 = +0 (ggml also yields -0)
  });

  it('quantize outputs have the table byte length', () => {
    for (const t of SUPPORTED_CODEC_TYPES) {
      const { blockSize, bytesPerBlock } = blockLayout(t);
      expect(quantize(t, x.subarray(0, 512)).length).toBe((512 / blockSize) * bytesPerBlock);
    }
  });

  it('re-quantizing dequantized Q8_0 data is a fixed point', () => {
    const q = quantize(GgmlType.Q8_0, x);
    const y = dequantize(GgmlType.Q8_0, q, x.length);
    const q2 = quantize(GgmlType.Q8_0, y);
    const y2 = dequantize(GgmlType.Q8_0, q2, x.length);
    for (let i = 0; i < x.length; i++) expect(Math.abs(y2[i] - y[i])).toBeLessThanOrEqual(Math.abs(y[i]) * 2 ** -9 + 1e-7);
  });
});

describe('argument errors', () => {
  it('unsupported types throw unsupported-quant naming the type and the supported list', () => {
    const err = (() => {
      try {
        dequantize(GgmlType.IQ2_XXS, new Uint8Array(66), 256);
      } catch (e) {
        return e as SparseScopeError;
      }
    })();
    expect(err).toBeInstanceOf(SparseScopeError);
    expect(err!.code).toBe('unsupported-quant');
    expect(err!.message).toContain('IQ2_XXS');
    expect(err!.message).toContain('Q6_K');
    expect(() => quantize(999, new Float32Array(32))).toThrow(/unknown ggml type id 999/);
  });

  it('counts that are not whole blocks or too few bytes are rejected', () => {
    expect(() => dequantize(GgmlType.Q4_K, new Uint8Array(144), 100)).toThrow(SparseScopeError);
    expect(() => dequantize(GgmlType.Q4_K, new Uint8Array(143), 256)).toThrow(/144 bytes/);
    expect(() => quantize(GgmlType.Q8_0, new Float32Array(33))).toThrow(SparseScopeError);
  });
});
