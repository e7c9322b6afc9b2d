/**
 * The dense reference's parts without llama.cpp: grouped-query attention equals multi-head attention
 * over kv heads repeated per group (a naive, independent form of the grouping), and every variant
 * the llama.cpp comparison covers (rope_freqs, QK-norm, q/k/v biases, rope style) moves the logits
 * well past that comparison's 1e-4 tolerance at its sizes, so dropping one would fail there.
 */
import { describe, expect, it } from 'vitest';
import { isSparseScopeError } from '../../../errors.ts';
import { buildDenseFixture, type DenseFixtureOptions } from '../../../tools/fixture/dense-fixture.ts';
import type { DenseModelConfig } from '../../architectures/dense.ts';
import { logSoftmax } from '../testing/llama-ref.ts';
import { weightsFromMap } from '../weights.ts';
import { DenseTransformerReference } from './dense-transformer.ts';

const DIMS = { embd: 128, layers: 2, heads: 4, headsKv: 2, headDim: 64, ffn: 256, context: 64 };
const TOKENS = [1, 17, 200, 5, 99, 42, 300, 7, 250, 3, 64, 128];

function model(
  o: Partial<DenseFixtureOptions> & Pick<DenseFixtureOptions, 'arch'>,
  edit?: (c: DenseModelConfig, w: Map<string, Float32Array>) => DenseModelConfig,
) {
  const fx = buildDenseFixture({ dims: DIMS, residualScale: true, seed: 3, ...o });
  const map = new Map(fx.f32);
  const config = edit ? edit(fx.config, map) : fx.config;
  return new DenseTransformerReference(config, weightsFromMap(map));
}

/** max |Δ log-softmax| over all positions. */
function maxDiff(a: DenseTransformerReference, b: DenseTransformerReference): number {
  const la = a.forward(TOKENS).logits;
  const lb = b.forward(TOKENS).logits;
  let m = 0;
  la.forEach((l, i) => {
    const x = logSoftmax(l);
    const y = logSoftmax(lb[i]);
    for (let v = 0; v < x.length; v++) m = Math.max(m, Math.abs(x[v] - y[v]));
  });
  return m;
}

/** W{E, G·D} with each kv head's D rows repeated `rep` times → {E, G·rep·D}. */
function repeatHeads(w: Float32Array, E: number, G: number, D: number, rep: number): Float32Array {
  const out = new Float32Array(E * G * rep * D);
  for (let g = 0; g < G; g++) for (let r = 0; r < rep; r++) out.set(w.subarray(g * D * E, (g + 1) * D * E), (g * rep + r) * D * E);
  return out;
}

describe('DenseTransformerReference parts', () => {
  for (const arch of ['llama', 'qwen3'] as const) {
    it(`${arch}: GQA (4 query heads over 2 kv heads) = MHA with each kv head repeated for its group`, () => {
      const gqa = model({ arch });
      const mha = model({ arch }, (c, w) => {
        for (let il = 0; il < c.layers; il++) {
          for (const t of ['attn_k', 'attn_v']) {
            const name = `blk.${il}.${t}.weight`;
            w.set(name, repeatHeads(w.get(name)!, c.embd, c.headsKv, c.headDim, c.heads / c.headsKv));
          }
        }
        return { ...c, headsKv: c.heads };
      });
      expect(maxDiff(gqa, mha)).toBeLessThan(1e-5);
    });
  }

  it('each variant moves the logits far past the llama.cpp tolerance (1e-4)', () => {
    const llama3 = { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 16 };
    const withFreqs = model({ arch: 'llama', ropeFreqs: llama3 });
    expect(
      maxDiff(
        withFreqs,
        model({ arch: 'llama', ropeFreqs: llama3 }, (c) => ({ ...c, ropeFreqs: false })),
      ),
    ).toBeGreaterThan(1e-2);
    const q2 = model({ arch: 'qwen2', dims: { ...DIMS, heads: 2, headsKv: 1 }, qkvBias: true });
    expect(
      maxDiff(
        q2,
        model({ arch: 'qwen2', dims: { ...DIMS, heads: 2, headsKv: 1 }, qkvBias: true }, (c, w) => {
          for (const [k] of w) if (/attn_[qkv]\.bias$/.test(k)) w.delete(k);
          return { ...c, qkvBias: false };
        }),
      ),
    ).toBeGreaterThan(1e-2);
    const q3 = model({ arch: 'qwen3' });
    expect(
      maxDiff(
        q3,
        model({ arch: 'qwen3' }, (c) => ({ ...c, qkNorm: false })),
      ),
    ).toBeGreaterThan(1e-2);
    expect(
      maxDiff(
        q3,
        model({ arch: 'qwen3' }, (c) => ({ ...c, ropeStyle: 'normal' })),
      ),
    ).toBeGreaterThan(1e-2);
  });

  it('a token outside the vocab or a position past the context is a typed error', () => {
    const m = model({ arch: 'llama', dims: { ...DIMS, context: 2 } });
    const s = m.session();
    for (const bad of [-1, m.config.vocab, 1.5]) {
      let err: unknown;
      try {
        s.step(bad);
      } catch (e) {
        err = e;
      }
      expect(isSparseScopeError(err) && err.code).toBe('bad-argument');
    }
    s.step(1);
    s.step(2);
    let err: unknown;
    try {
      s.step(3);
    } catch (e) {
      err = e;
    }
    expect(isSparseScopeError(err) && err.code).toBe('context-overflow');
    expect(s.position).toBe(2);
  });

  it("the trace holds each layer's dense attention weights summed over heads (heads in total)", () => {
    const m = model({ arch: 'qwen3' });
    const { trace } = m.forward(TOKENS.slice(0, 4), { trace: true });
    expect(trace.map((t) => t.layers.length)).toEqual([2, 2, 2, 2]);
    for (const t of trace)
      for (const l of t.layers) {
        expect(l.attnDense.length).toBe(t.pos + 1);
        expect(l.attnDense.reduce((a, b) => a + b, 0)).toBeCloseTo(m.config.heads, 9);
      }
  });
});
