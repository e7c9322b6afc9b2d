/**
 * SimdAttention (cache rows in the SIMD memory, f32_rows scores, f32_wsum sums) against the reference's
 * plainAttention (f64 dots, f32 partial sums) on random rows: scores within f32 rounding of Σ|q·row|,
 * weighted sums within f32 rounding of Σ|p·row| for every position set (all, a sparse pick, one), and
 * rows the region does not hold (a full region) taking the plain loops, bitwise.
 */
import { describe, expect, it } from 'vitest';
import { plainAttention } from '../../model/reference/attention-kernels.ts';
import { makeRowKernels } from './kernels/row-kernels.ts';
import { attentionRegion, attentionRegionBytes, SimdAttention } from './simd-attention.ts';
import { createSimdArena } from './wasm/simd-arena.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

async function setup(layers: number, capacity: number, kvLora: number, rope: number) {
  const arena = await createSimdArena(attentionRegionBytes(layers, capacity, kvLora, rope), false, makeRowKernels().f16);
  if ('reason' in arena) throw new Error(arena.reason);
  return attentionRegion(arena, layers, capacity, kvLora, rope);
}

describe('SimdAttention', () => {
  it('scores and weighted sums = the plain loops within f32 rounding, for dense and sparse picks', async () => {
    const L = 64,
      R = 32,
      cap = 40;
    const region = await setup(2, cap, L, R);
    const att = new SimdAttention(region);
    const r = rng(7);
    const rand = (n: number) => Float32Array.from({ length: n }, () => 2 * r());
    const ckv: Float32Array[] = [];
    const kpe: Float32Array[] = [];
    for (let s = 0; s < 33; s++) {
      ckv.push(att.keep(1, 'ckv', rand(L)));
      kpe.push(att.keep(1, 'kpe', rand(R)));
    }
    expect(ckv[5].buffer).toBe(region.buffer);
    const q = rand(3 * L);
    for (const n of [1, 17, 33]) {
      const got = new Float64Array(n);
      const want = new Float64Array(n);
      att.addScores(q, L, ckv, n, L, got);
      att.addScores(q, 2 * L, kpe, n, R, got);
      plainAttention.addScores(q, L, ckv, n, L, want);
      plainAttention.addScores(q, 2 * L, kpe, n, R, want);
      for (let s = 0; s < n; s++) {
        let abs = 0;
        for (let i = 0; i < L; i++) abs += Math.abs(q[L + i] * ckv[s][i]);
        for (let i = 0; i < R; i++) abs += Math.abs(q[2 * L + i] * kpe[s][i]);
        expect(Math.abs(got[s] - want[s])).toBeLessThanOrEqual(1e-6 * abs);
      }
    }
    for (const idx of [Array.from({ length: 33 }, (_, s) => s), [0, 4, 9, 31, 32], [12]]) {
      const p = Float64Array.from(idx, () => r() + 0.5);
      const got = new Float32Array(L);
      const want = new Float32Array(L);
      att.weightedSum(p, ckv, idx, L, got);
      plainAttention.weightedSum(p, ckv, idx, L, want);
      for (let i = 0; i < L; i++) {
        const abs = idx.reduce((a, s, j) => a + Math.abs(p[j] * ckv[s][i]), 0);
        expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-6 * abs);
      }
    }
  });

  it('a region that is full keeps rows as they are, and such rows run the plain loops bitwise', async () => {
    const region = await setup(1, 2, 8, 4);
    const att = new SimdAttention(region);
    const r = rng(3);
    const rows = [0, 1, 2].map(() =>
      att.keep(
        0,
        'ckv',
        Float32Array.from({ length: 8 }, () => r()),
      ),
    );
    expect(rows[1].buffer).toBe(region.buffer);
    // the third row did not fit: the caller's own array comes back
    expect(rows[2].buffer).not.toBe(region.buffer);
    const q = Float32Array.from({ length: 8 }, () => r());
    const got = new Float64Array(3);
    const want = new Float64Array(3);
    att.addScores(q, 0, rows, 3, 8, got);
    plainAttention.addScores(q, 0, rows, 3, 8, want);
    expect(Array.from(got)).toEqual(Array.from(want));
    const p = Float64Array.from([0.2, 0.3, 0.5]);
    const gs = new Float32Array(8);
    const ws = new Float32Array(8);
    att.weightedSum(p, rows, [0, 1, 2], 8, gs);
    plainAttention.weightedSum(p, rows, [0, 1, 2], 8, ws);
    expect(Array.from(gs)).toEqual(Array.from(ws));
  });
});
