import { describe, expect, it } from 'vitest';
import { indexerTopK } from './indexer-topk.ts';

/** The row used by several cases: exact zeros, repeated values, negatives. */
const ROW40 = Array.from({ length: 40 }, (_, i) => ((i * 7) % 5 === 0 ? 0 : ((i * 13) % 9) - 4));

/** Earliest-position tie-break: the rule this replaced, for contrast. */
const earliest = (v: number[], k: number) =>
  [...v.keys()]
    .sort((a, b) => v[b] - v[a] || a - b)
    .slice(0, k)
    .sort((a, b) => a - b);

describe('indexerTopK: llama.cpp’s top-k (std::partial_sort over indices, values-only comparator)', () => {
  // Expected sets printed by std::partial_sort(idx, idx + k, idx + n, [&](a, b) { return v[a] > v[b]; })
  // compiled with g++ 12 (libstdc++; the prebuilt llama.cpp is g++ 11.4, whose heap code is the same).
  const GOLDEN: [number[], number, number[]][] = [
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 3, [0, 1, 2]],
    [[1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0], 4, [0, 1, 3, 4]],
    [[0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0], 4, [1, 4, 5, 6]],
    [[0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0], 5, [1, 3, 4, 5, 6]],
    [[-0, 0, 0, 0, 0.5, 0, 0.25, 0, 0, 0.5, 0, 0, 0, 0, 0], 5, [1, 3, 4, 6, 9]],
    [[0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], 9, [1, 3, 5, 7, 8, 9, 11, 13, 15]],
    [[3, 1, 1, 1, 1, 1, 2, 1, 1, 1], 3, [0, 1, 6]],
    [ROW40, 7, [2, 4, 11, 13, 29, 31, 38]],
    [ROW40, 8, [2, 4, 11, 13, 22, 29, 31, 38]],
    [ROW40, 9, [2, 4, 11, 13, 22, 24, 29, 31, 38]],
    [ROW40, 10, [2, 4, 11, 13, 22, 24, 29, 31, 33, 38]],
  ];
  for (const [v, k, want] of GOLDEN) {
    it(`k ${k} of [${v.length > 16 ? `${v.slice(0, 8).join(', ')}, … (${v.length})` : v.join(', ')}]`, () => {
      expect(indexerTopK(v, k)).toEqual(want);
    });
  }

  it('differs from the earliest-position rule on ties (the point of it)', () => {
    expect(earliest([0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0], 4)).toEqual([0, 4, 5, 6]);
    expect(indexerTopK([0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0], 4)).toEqual([1, 4, 5, 6]);
  });

  it('keeps everything visible when n ≤ k, and reads only scores[0..n)', () => {
    expect(indexerTopK([5, 1, 2], 3)).toEqual([0, 1, 2]);
    expect(indexerTopK([5, 1], 9)).toEqual([0, 1]);
    expect(indexerTopK([0, 0, 0, 0, 1, 2, 3, 0, 9, 9, 9, 9], 4, 8)).toEqual([1, 4, 5, 6]);
  });

  it('masked -inf cells after the visible ones never change the choice (llama.cpp sorts the whole n_kv row)', () => {
    for (const k of [3, 7, 8, 9, 10]) {
      const padded = [...ROW40, ...Array<number>(216).fill(-Infinity)];
      expect(indexerTopK(padded, k)).toEqual(indexerTopK(ROW40, k));
    }
  });

  it('always returns k positions holding the k largest values (random rows with many ties)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let t = 0; t < 500; t++) {
      const n = 1 + Math.floor(rnd() * 80);
      const k = 1 + Math.floor(rnd() * n);
      const v = Array.from({ length: n }, () => Math.floor(rnd() * 4) - (rnd() < 0.3 ? 10 : 0));
      const got = indexerTopK(v, k);
      expect(got.length).toBe(k);
      expect(new Set(got).size).toBe(k);
      expect(got).toEqual([...got].sort((a, b) => a - b));
      expect(got.map((i) => v[i]).sort((a, b) => b - a)).toEqual([...v].sort((a, b) => b - a).slice(0, k));
    }
  });
});
