/**
 * The absorbed MLA weights rewritten as the legacy (expanded) form: per head, attn_kv_b's rows are
 * [k_b_hᵀ rows (nope) | v_b_h rows (v)]. Running the legacy path on these must give the absorbed
 * path's logits (the "absorbed MLA = expanded MLA" check); also handy to read MLA as plain MHA.
 */
import type { ModelConfig } from '../config.ts';
import type { ReferenceWeights } from './weights.ts';

export function expandAbsorbed(c: ModelConfig, w: ReferenceWeights): { config: ModelConfig; weights: ReferenceWeights } {
  if (c.mla !== 'absorbed') throw new Error('expandAbsorbed: the config is already legacy');
  const { heads: H, qkNope: N, vHead: V, kvLoraRank: L } = c;
  const expanded = new Map<string, Float32Array>();
  for (let il = 0; il < c.layers; il++) {
    const kb = w.get(`blk.${il}.attn_k_b.weight`); // ne {nope, kv_lora, H}: kb[i + N·(j + L·h)]
    const vb = w.get(`blk.${il}.attn_v_b.weight`); // ne {kv_lora, v, H}:   vb[j + L·(i + V·h)]
    const kvb = new Float32Array(L * H * (N + V)); // ne {kv_lora, H·(nope+v)}
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < N; i++) {
        const row = h * (N + V) + i; // knope_h[i] = Σ_j kb[i, j, h] · ckv[j]
        for (let j = 0; j < L; j++) kvb[row * L + j] = kb[i + N * (j + L * h)];
      }
      for (let i = 0; i < V; i++) {
        const row = h * (N + V) + N + i; // v_h[i] = Σ_j vb[j, i, h] · ckv[j]
        kvb.set(vb.subarray(L * (i + V * h), L * (i + V * h) + L), row * L);
      }
    }
    expanded.set(`blk.${il}.attn_kv_b.weight`, kvb);
  }
  return {
    config: Object.freeze({ ...c, mla: 'legacy' as const }),
    weights: {
      get: (name) => expanded.get(name) ?? w.get(name),
      has: (name) => expanded.has(name) || w.has(name),
    },
  };
}
