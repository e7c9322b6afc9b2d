/**
 * Test helpers for the deepseek32 fixtures whose index scores tie at the top-k boundary
 * (indexer-ties.llama.test.ts, indexer-ties.llama.gpu.test.ts).
 *
 * score(t, s) = Σ_h w_h(t) · ReLU(qI_h(t) · kI(s)) is exactly 0 wherever every head's dot product is
 * ≤ 0. With the fixtures' 16 indexer heads that never happens; with 1–4 heads it happens for a
 * quarter or more of the (query, key) pairs, so the k-th and (k+1)-th largest scores are often
 * both 0 and the kept set is decided by llama.cpp's tie order (../indexer-topk.ts).
 */
import type { FixtureOptions } from '../../../tools/fixture/fixture.ts';
import type { TokenTrace } from '../forward.ts';

export interface TieCase {
  name: string;
  fixture: FixtureOptions;
  /** the fixture's indexer top-k */
  k: number;
  /** tokens compared */
  n: number;
}

const tieCase = (k: number, n: number, indexerHeads: number, seed: number): TieCase => ({
  name: `top-k ${k} of ${n} tokens, ${indexerHeads} indexer head${indexerHeads > 1 ? 's' : ''}, seed ${seed}`,
  fixture: { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: k, indexerHeads }, seed },
  k,
  n,
});

/** F32 fixtures with few indexer heads, so that ReLU zeroes many scores; an odd and an even k (the heap's two sift paths). */
export const TIE_CASES: TieCase[] = [tieCase(9, 40, 1, 31), tieCase(9, 40, 2, 32), tieCase(9, 40, 2, 33), tieCase(9, 40, 4, 34), tieCase(8, 64, 2, 41)];

/** BOS, then a fixed pseudo-random tail (as webgpu.llama.gpu.test.ts). */
export function tieTokens(bos: number, vocab: number, n: number): number[] {
  return [bos, ...Array.from({ length: n - 1 }, (_, i) => (i * 37 + 11) % (vocab - 2))];
}

/** (query, layer) pairs with more than k visible positions whose k-th and (k+1)-th largest index scores are equal. */
export function boundaryTies(trace: readonly TokenTrace[], k: number): number {
  let ties = 0;
  for (const t of trace)
    for (const l of t.layers) {
      if (!l.indexer || l.indexer.scores.length <= k) continue;
      const s = [...l.indexer.scores].sort((a, b) => b - a);
      if (s[k - 1] === s[k]) ties++;
    }
  return ties;
}
