import { describe, expect, it } from 'vitest';
import { applyRepetitionPenalty, argmax, createSampler, filterCandidates } from './sampling.ts';

const LOGITS = [1, 3, 2, 0.5, 3, -1];

describe('sampling', () => {
  it('greedy: argmax with ties to the lower id; temperature 0 ignores the seed', () => {
    expect(argmax(LOGITS)).toBe(1);
    for (const seed of [1, 2, 3]) expect(createSampler({ temperature: 0, seed }).sample(LOGITS)).toBe(1);
  });

  it('same seed, same draws; different seeds differ', () => {
    const draw = (seed: number) => {
      const s = createSampler({ temperature: 1, topK: 0, topP: 1, minP: 0, seed });
      return Array.from({ length: 50 }, () => s.sample(LOGITS));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('draw frequencies follow softmax(logits / T)', () => {
    const s = createSampler({ temperature: 2, topK: 0, topP: 1, minP: 0, seed: 1 });
    const counts = new Array(LOGITS.length).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[s.sample(LOGITS)]++;
    const e = LOGITS.map((l) => Math.exp(l / 2));
    const z = e.reduce((a, b) => a + b, 0);
    counts.forEach((c, i) => expect(Math.abs(c / n - e[i] / z)).toBeLessThan(0.015));
  });

  it('top-k, top-p and min-p filters', () => {
    const base = { temperature: 1, topK: 0, topP: 1, minP: 0 };
    expect(filterCandidates(LOGITS, { ...base, topK: 2 }).ids).toEqual([1, 4]);
    // sorted p ≈ [0.384, 0.384, 0.141, 0.052, ...]
    expect(filterCandidates(LOGITS, { ...base, topP: 0.3 }).ids).toEqual([1]);
    expect(filterCandidates(LOGITS, { ...base, topP: 0.7 }).ids).toEqual([1, 4]);
    expect(filterCandidates(LOGITS, { ...base, topP: 0.8 }).ids).toEqual([1, 4, 2]);
    // min-p 0.3: keeps tokens with p ≥ 0.3 · p_max, i.e. logit ≥ 3 + ln 0.3 ≈ 1.80
    expect(filterCandidates(LOGITS, { ...base, minP: 0.3 }).ids).toEqual([1, 4, 2]);
    const { probs } = filterCandidates(LOGITS, { ...base, topK: 3 });
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
    const l = applyRepetitionPenalty(LOGITS, [1, 5, 1], 2);
    expect(Array.from(l)).toEqual([1, 1.5, 2, 0.5, 3, -2]);
    expect(createSampler({ temperature: 0, repetitionPenalty: 2 }).sample(LOGITS, [1])).toBe(4);
  });

  it('rejects bad options', () => {
    expect(() => createSampler({ temperature: -1 })).toThrow(/temperature/);
    expect(() => createSampler({ topP: 0 })).toThrow(/top-p/);
  });
});
