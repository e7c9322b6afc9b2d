/**
 * Oracle top-k sparse attention (issue 16): per query and layer, keep the k past positions with the
 * largest DENSE attention weight, summed over the query heads, and attend over those only. It is the
 * best any selector (the DSA indexer included) could do with k positions by this measure, so it
 * bounds what a learned selector may gain, and the indexer's recall of its picks measures how close
 * the indexer comes. Shared by the MLA reference (forward.ts) and the dense GQA one (parts/gqa-attention.ts).
 */
import { SparseScopeError } from '../../errors.ts';
import { softmaxInPlace } from './math.ts';

/**
 * The k positions of `weights` [n] with the largest value, ties to the lower position (as the
 * indexer's top-k breaks them in the classroom), returned ASCENDING. k ≥ n keeps every position,
 * 0..n-1, in order — so attention over them is the dense attention, operation for operation.
 */
export function oracleTopK(weights: ArrayLike<number>, k: number): number[] {
  const n = weights.length;
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  if (k <= 0) return [];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => weights[b] - weights[a] || a - b);
  return order.slice(0, k).sort((a, b) => a - b);
}

/** Σ_h softmax(scores_h) over positions 0..n-1: the dense attention weight of each position, [n]. */
export function denseWeightSum(scores: readonly Float64Array[]): Float64Array {
  const n = scores[0]?.length ?? 0;
  const sum = new Float64Array(n);
  for (const sc of scores) {
    const pd = Float64Array.from(sc);
    softmaxInPlace(pd);
    for (let s = 0; s < n; s++) sum[s] += pd[s];
  }
  return sum;
}

/** |indexer ∩ oracle| / |oracle|: how many of the oracle's picks the indexer also kept (1 when equal sets). */
export function indexerRecall(indexer: readonly number[], oracle: readonly number[]): number {
  if (oracle.length === 0) return 1;
  const kept = new Set(indexer);
  let hit = 0;
  for (const s of oracle) if (kept.has(s)) hit++;
  return hit / oracle.length;
}

/** A session option: 0 / undefined = dense; otherwise an integer ≥ 1, else 'bad-argument'. */
export function checkOracleTopK(k: number | undefined): number {
  const v = k ?? 0;
  if (!Number.isInteger(v) || v < 0) throw new SparseScopeError('bad-argument', `oracle top-k must be an integer ≥ 0 (0 = dense attention), got ${k}`);
  return v;
}
