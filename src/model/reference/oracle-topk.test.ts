/**
 * Oracle top-k sparse attention in both CPU references (MLA: forward.ts, dense GQA: parts/): with
 * k ≥ the number of tokens it IS dense attention (bitwise), a small k changes the logits, and the
 * traced picks are the top-k of the dense weights as this test computes them (by repeated argmax,
 * from a dense run where the layer's inputs do not depend on the selection).
 */
import { describe, expect, it } from 'vitest';
import { isSparseScopeError } from '../../errors.ts';
import { buildDenseFixture } from '../../tools/fixture/dense-fixture.ts';
import { buildFixture } from '../../tools/fixture/fixture.ts';
import { ReferenceModel } from './forward.ts';
import { indexerRecall, oracleTopK } from './oracle-topk.ts';
import { DenseTransformerReference } from './parts/dense-transformer.ts';
import { weightsFromMap } from './weights.ts';

const TOKENS = Array.from({ length: 20 }, (_, i) => (i * 53 + 7) % 300);

/** The k largest of w (ties to the lower position) by repeated argmax, ascending. */
function naiveTopK(w: readonly number[], k: number): number[] {
  const left = new Set(w.keys());
  const out: number[] = [];
  while (out.length < k && left.size) {
    let best = -1;
    for (const s of left) if (best < 0 || w[s] > w[best]) best = s; // Set iterates ascending: ties keep the lower
    out.push(best);
    left.delete(best);
  }
  return out.sort((a, b) => a - b);
}

function bitwiseEqual(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((row, i) => row.length === b[i].length && row.every((v, j) => Object.is(v, b[i][j])));
}

type AnyRef = {
  forward(
    t: readonly number[],
    o?: { trace?: boolean; oracleTopK?: number; indexTopK?: number },
  ): { logits: Float32Array[]; trace: { layers: { attnDense: number[]; oracle?: number[] }[] }[] };
};

const MODELS: [string, () => AnyRef][] = [
  [
    'llama (dense GQA)',
    () => {
      const fx = buildDenseFixture({ arch: 'llama', seed: 5, dims: { embd: 64, layers: 2, heads: 4, headsKv: 2, headDim: 16, ffn: 128, context: 64 } });
      return new DenseTransformerReference(fx.config, weightsFromMap(fx.f32));
    },
  ],
  [
    'qwen3 (dense GQA)',
    () => {
      const fx = buildDenseFixture({ arch: 'qwen3', seed: 6, dims: { embd: 64, layers: 2, heads: 4, headsKv: 2, headDim: 16, ffn: 128, context: 64 } });
      return new DenseTransformerReference(fx.config, weightsFromMap(fx.f32));
    },
  ],
  [
    'deepseek2 (MLA)',
    () => {
      const fx = buildFixture({ arch: 'deepseek2', seed: 7 });
      return new ReferenceModel(fx.config, weightsFromMap(fx.f32));
    },
  ],
  [
    'deepseek32 (MLA + DSA, dense attention)',
    () => {
      const fx = buildFixture({ arch: 'deepseek32', seed: 8 });
      const m = new ReferenceModel(fx.config, weightsFromMap(fx.f32));
      return { forward: (t, o) => m.forward(t, { indexTopK: 0, ...o }) };
    },
  ],
];

describe('oracle top-k', () => {
  it('selection: ties to the lower position, ascending, k ≥ n keeps all in order', () => {
    expect(oracleTopK([0.1, 0.5, 0.5, 0.2, 0.5], 2)).toEqual([1, 2]);
    expect(oracleTopK([3, 1, 2], 5)).toEqual([0, 1, 2]);
    expect(indexerRecall([1, 2, 4], [1, 2])).toBe(1);
    expect(indexerRecall([0, 3], [1, 3])).toBe(0.5);
  });

  for (const [label, make] of MODELS) {
    it(`${label}: k ≥ tokens = dense bitwise; k = 3 differs; picks = top-3 of the dense weights`, () => {
      const m = make();
      const dense = m.forward(TOKENS, { trace: true });
      const all = m.forward(TOKENS, { oracleTopK: TOKENS.length });
      expect(bitwiseEqual(all.logits, dense.logits)).toBe(true);
      const k = 3;
      const sparse = m.forward(TOKENS, { oracleTopK: k, trace: true });
      let maxDiff = 0;
      sparse.logits.forEach((row, i) => row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - dense.logits[i][j])))));
      // the first k tokens see ≤ k positions: the same logits there
      expect(bitwiseEqual(sparse.logits.slice(0, k), dense.logits.slice(0, k))).toBe(true);
      expect(maxDiff).toBeGreaterThan(1e-4);
      sparse.trace.forEach((t, pos) => {
        // layer 0's inputs are the embeddings: its dense weights are the dense run's
        expect(t.layers[0].oracle).toEqual(naiveTopK(dense.trace[pos].layers[0].attnDense, k));
        // later layers: the top-k of the dense weights over this run's own (sparse) hidden states
        for (const l of t.layers) expect(l.oracle).toEqual(naiveTopK(l.attnDense, k));
      });
    });
  }

  it('deepseek32: the trace carries the oracle picks beside the indexer picks, with the recall per row', () => {
    const fx = buildFixture({ arch: 'deepseek32', seed: 9 });
    const m = new ReferenceModel(fx.config, weightsFromMap(fx.f32));
    const k = 4;
    const r = m.forward(TOKENS, { indexTopK: 6, oracleTopK: k, trace: true });
    let below1 = 0;
    for (const t of r.trace)
      for (const l of t.layers) {
        const chosen = l.indexer!.chosen;
        const oracle = l.oracle!;
        const hits = oracle.filter((s) => chosen.includes(s)).length;
        expect(l.oracleRecall).toBe(hits / oracle.length);
        if (l.oracleRecall! < 1) below1++;
      }
    expect(below1).toBeGreaterThan(0);
    // an indexer top-k ≥ tokens keeps every position: it holds every oracle pick (recall 1)
    const full = m.forward(TOKENS, { indexTopK: TOKENS.length, oracleTopK: k, trace: true });
    for (const t of full.trace) for (const l of t.layers) expect(l.oracleRecall).toBe(1);
    // oracle picks replace the indexer's in the attention: indexTopK does not change the logits then
    const other = m.forward(TOKENS, { indexTopK: 2, oracleTopK: k });
    expect(bitwiseEqual(other.logits, r.logits)).toBe(true);
  });

  it('a bad oracle top-k is a typed error', () => {
    const m = MODELS[0][1]() as DenseTransformerReference;
    for (const bad of [-1, 1.5]) {
      let err: unknown;
      try {
        m.session({ oracleTopK: bad });
      } catch (e) {
        err = e;
      }
      expect(isSparseScopeError(err) && err.code).toBe('bad-argument');
    }
  });
});
