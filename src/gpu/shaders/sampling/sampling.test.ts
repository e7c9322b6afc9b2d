import { describe, expect, it } from 'vitest';
import { argmax, applyRepetitionPenalty, filterCandidates } from '../../../model/sampling.ts';
import { CANDIDATES, f32Key, pcgHash, penalizeRef, sampleRef, sampleUniform, samplerSettings, topCandidates } from './sampling.ref.ts';
import { randomF32 } from '../../testing/test-gpu.ts';

describe('sampling CPU reference', () => {
  it('PCG hash and the draw are fixed functions of (seed, step) in [0, 1)', () => {
    // Known values pin the hash so the WGSL copy cannot drift unnoticed.
    expect(pcgHash(0)).toBe(129708002);
    expect(pcgHash(1)).toBe(2831084092);
    const seen = new Set<number>();
    for (let step = 0; step < 1000; step++) {
      const u = sampleUniform(7, step);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      expect(Math.fround(u)).toBe(u);
      seen.add(u);
    }
    expect(seen.size).toBeGreaterThan(995);
    expect(sampleUniform(7, 3)).toBe(sampleUniform(7, 3));
    expect(sampleUniform(7, 3)).not.toBe(sampleUniform(8, 3));
    // mean of 1000 uniform draws: 0.5 ± 0.03
    const mean = [...Array(1000).keys()].reduce((a, s) => a + sampleUniform(1, s), 0) / 1000;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
  });

  it('keys order floats like the floats', () => {
    const vals = [-Infinity, -3.5, -1e-30, 0, 1e-30, 2, 1e30, Infinity];
    for (let i = 1; i < vals.length; i++) expect(f32Key(vals[i])).toBeGreaterThan(f32Key(vals[i - 1]));
  });

  it('greedy equals createSampler: argmax after the penalty, ties to the lowest id', () => {
    const logits = randomF32(1000, 5, 4);
    logits[10] = logits[900] = 9; // a tie at the top
    const s = samplerSettings({ temperature: 0 });
    expect(sampleRef(logits, [], s, 0)).toBe(10);
    expect(sampleRef(logits, [], s, 0)).toBe(argmax(logits));
    const pen = samplerSettings({ temperature: 0, repetitionPenalty: 2 });
    const hist = [10, 10, 3, 900];
    expect(sampleRef(logits, hist, pen, 0)).toBe(argmax(applyRepetitionPenalty(logits, hist, 2)));
    expect(Array.from(penalizeRef(logits, hist, 2))).toEqual(Array.from(applyRepetitionPenalty(logits, hist, 2), Math.fround));
  });

  it("the kept set equals createSampler's filterCandidates whenever it fits the candidates", () => {
    for (const [V, o] of [
      [1500, { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05 }],
      [1500, { temperature: 1, topK: 0, topP: 0.5, minP: 0 }],
      [777, { temperature: 1.3, topK: 0, topP: 1, minP: 0.2 }],
      [500, { temperature: 0.5, topK: 7, topP: 1, minP: 0 }],
    ] as const) {
      const logits = randomF32(V, V, 6);
      const s = samplerSettings(o);
      const want = filterCandidates(Float64Array.from(logits), o);
      expect(want.ids.length).toBeLessThanOrEqual(CANDIDATES);
      // every draw lands in the kept set, and over many steps every kept token is drawn in proportion
      const counts = new Map<number, number>();
      const N = 800;
      for (let step = 0; step < N; step++) {
        const t = sampleRef(logits, [], s, step);
        counts.set(t, (counts.get(t) ?? 0) + 1);
      }
      for (const t of counts.keys()) expect(want.ids).toContain(t);
      want.ids.forEach((id, i) => {
        if (want.probs[i] > 0.05) expect(Math.abs((counts.get(id) ?? 0) / N - want.probs[i])).toBeLessThan(0.06);
      });
    }
  });

  it('candidates are the top of the sampling order', () => {
    const v = new Float32Array([1, 5, 5, -2, 7, 5]);
    expect(topCandidates(v, 4)).toEqual([4, 1, 2, 5]);
  });
});
