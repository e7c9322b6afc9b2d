import { describe, expect, it } from 'vitest';
import { buildFixture, type FixtureOptions } from '../../tools/fixture/fixture.ts';
import { createPrng } from '../random.ts';
import type { GatingFunc, MoeConfig } from '../config.ts';
import { expandAbsorbed } from './expand.ts';
import { ReferenceModel } from './forward.ts';
import { moeFfn, moeFfnDenseMasked, route } from './moe.ts';
import { indexerTopK } from './indexer-topk.ts';
import { weightsFromMap } from './weights.ts';

function model(o: FixtureOptions): ReferenceModel {
  const fx = buildFixture(o);
  return new ReferenceModel(fx.config, weightsFromMap(fx.f32));
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

const TOKENS = Array.from({ length: 24 }, (_, i) => (i * 53 + 7) % 300);

describe('naive vs fast', () => {
  for (const arch of ['deepseek2', 'deepseek32'] as const) {
    it(`${arch}: absorbed MLA = expanded MLA (attn_kv_b built from attn_k_b / attn_v_b)`, () => {
      const m = model({ arch, seed: 3 });
      const ex = expandAbsorbed(m.config, m.weights);
      const a = m.forward(TOKENS).logits;
      const b = new ReferenceModel(ex.config, ex.weights).forward(TOKENS).logits;
      const d = maxAbsDiff(a, b);
      console.log(`${arch} absorbed vs expanded: max |Δ logit| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);
    });
  }

  it('deepseek32: sparse with top-k ≥ tokens = dense', () => {
    const m = model({ arch: 'deepseek32', seed: 4, dims: { topK: TOKENS.length } });
    const sparse = m.forward(TOKENS, { trace: true });
    const dense = m.forward(TOKENS, { indexTopK: 0 });
    expect(maxAbsDiff(sparse.logits, dense.logits)).toBe(0);
    // every query kept every visible position
    for (const t of sparse.trace) for (const l of t.layers) expect(l.indexer!.chosen).toEqual(Array.from({ length: t.pos + 1 }, (_, s) => s));
  });

  it('deepseek32: top-k < tokens changes the logits and keeps exactly k positions', () => {
    const m = model({ arch: 'deepseek32', seed: 4, dims: { topK: 4 } });
    const sparse = m.forward(TOKENS, { trace: true });
    const dense = m.forward(TOKENS, { indexTopK: 0 });
    expect(maxAbsDiff(sparse.logits.slice(0, 4), dense.logits.slice(0, 4))).toBe(0);
    expect(maxAbsDiff(sparse.logits.slice(4), dense.logits.slice(4))).toBeGreaterThan(1e-3);
    for (const t of sparse.trace) {
      for (const l of t.layers) {
        const { scores, chosen } = l.indexer!;
        expect(chosen.length).toBe(Math.min(4, t.pos + 1));
        expect(chosen).toEqual(indexerTopK(scores, 4));
        expect(l.attnDense.reduce((a, b) => a + b, 0)).toBeCloseTo(m.config.heads, 5);
      }
    }
  });

  const gatings: [GatingFunc, Partial<MoeConfig>][] = [
    ['softmax', {}],
    ['sigmoid', { groups: 4, groupsUsed: 2, weightsNorm: true, weightsScale: 2.5 }],
    ['softmax_weight', {}],
    ['sqrt_softplus', { weightsNorm: true }],
  ];
  for (const [gating, extra] of gatings) {
    it(`routed MoE = loop over all experts with masks (${gating})`, () => {
      const fx = buildFixture({ arch: 'deepseek2', gating, probsBias: true, seed: 5 });
      const m: MoeConfig = { ...fx.config.moe!, ...extra };
      const w = weightsFromMap(fx.f32);
      const rng = createPrng(9);
      for (let k = 0; k < 10; k++) {
        const x = Float32Array.from({ length: fx.config.embd }, () => rng.normal());
        const fast = moeFfn(m, w, 'blk.1.', x, fx.config.embd);
        const naive = moeFfnDenseMasked(m, w, 'blk.1.', x, fx.config.embd);
        fast.out.forEach((v, i) => expect(Math.abs(v - naive[i])).toBeLessThan(1e-5));
        expect(fast.router.experts.length).toBe(m.used);
      }
    });
  }

  it('router: the bias only chooses, groups mask whole groups, norm and scale', () => {
    const m: MoeConfig = {
      experts: 8,
      used: 2,
      shared: 0,
      ffx: 1,
      groups: 4,
      groupsUsed: 1,
      gating: 'sigmoid',
      weightsNorm: true,
      weightsScale: 2,
      selectionBias: false,
    };
    const logits = Float32Array.from([0, 3, 0, 0, 2, 2.5, 0, 0]);
    // group scores (top-2 sums of sigmoid): g0 = s(0)+s(3) ≈ 1.45, g2 = s(2)+s(2.5) ≈ 1.80 → group 2 wins
    const r = route(m, logits, null);
    expect(r.experts).toEqual([5, 4]);
    const s = (z: number) => 1 / (1 + Math.exp(-z));
    expect(r.weights[0]).toBeCloseTo((2 * s(2.5)) / (s(2.5) + s(2)), 6);
    // a bias moves the choice but not the weights' source
    const biased = route({ ...m, groups: 0, groupsUsed: 0, weightsNorm: false, weightsScale: 1 }, logits, Float32Array.from([5, 0, 0, 0, 0, 0, 0, 0]));
    expect(biased.experts).toEqual([0, 1]);
    expect(biased.weights[0]).toBeCloseTo(0.5, 6);
  });
});

describe('incremental session', () => {
  it('step-by-step equals a fresh forward at every prefix', () => {
    const m = model({ arch: 'deepseek32', seed: 6, dims: { topK: 5 } });
    const full = m.forward(TOKENS).logits;
    const again = m.forward(TOKENS.slice(0, 10)).logits;
    expect(maxAbsDiff(full.slice(0, 10), again)).toBe(0);
  });

  it('trace: router probabilities, chosen experts and weights per MoE layer', () => {
    const m = model({ arch: 'deepseek2', gating: 'sigmoid', seed: 7 });
    const { trace } = m.forward(TOKENS.slice(0, 3), { trace: true });
    expect(trace).toHaveLength(3);
    const l = trace[2].layers[1];
    expect(l.moe!.probs).toHaveLength(m.config.moe!.experts);
    expect(l.moe!.experts).toHaveLength(m.config.moe!.used);
    expect(trace[2].layers[0].moe).toBeUndefined();
    expect(l.attnDense).toHaveLength(3);
  });
});
