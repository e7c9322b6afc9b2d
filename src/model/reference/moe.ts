/**
 * FFN blocks: the dense SwiGLU and the DeepSeek MoE (router → top-k experts → weighted SwiGLU
 * experts, plus shared experts), following llama.cpp's build_moe_ffn (src/llama-graph.cpp).
 */
import type { MoeConfig } from '../config.ts';
import { sigmoid, silu, softmaxInPlace, softplus, topK } from './math.ts';
import { linear, type ReferenceWeights } from './weights.ts';

/** SwiGLU: down · (silu(gate · x) ⊙ (up · x)), with matrices optionally one slice (expert) of a 3-D tensor. */
export function swiglu(w: ReferenceWeights, gate: string, up: string, down: string, x: Float32Array, E: number, F: number, expert = 0): Float32Array {
  const g = linear(w, gate, x, E, F, expert * F); // [F]
  const u = linear(w, up, x, E, F, expert * F); // [F]
  const h = new Float32Array(F); // [F]
  for (let i = 0; i < F; i++) h[i] = silu(g[i]) * u[i];
  return linear(w, down, h, F, E, expert * E); // [E]
}

export interface RouterResult {
  /** router probabilities after the gating function, unbiased ([experts]) */
  probs: Float32Array;
  /** chosen experts, best first */
  experts: number[];
  /** their final weights (after softmax_weight / norm / scale) */
  weights: number[];
}

/** The router: gating function, selection bias, expert groups, top-k, norm and scale. */
export function route(m: MoeConfig, logits: Float32Array, bias: Float32Array | null): RouterResult {
  const X = m.experts;
  // probs = gating(logits)                                   [X]
  const probs = new Float32Array(X);
  if (m.gating === 'softmax') {
    const p = Float64Array.from(logits);
    softmaxInPlace(p);
    probs.set(p);
  } else {
    for (let e = 0; e < X; e++) {
      const z = logits[e];
      probs[e] = m.gating === 'sigmoid' ? sigmoid(z) : m.gating === 'sqrt_softplus' ? Math.sqrt(softplus(z)) : z; // softmax_weight: raw logits
    }
  }
  // selection scores: probs + bias (the bias only chooses)   [X]
  const sel = new Float64Array(X);
  for (let e = 0; e < X; e++) sel[e] = probs[e] + (bias ? bias[e] : 0);
  // expert groups: a group's score is the sum of its top 2; keep the best groupsUsed groups
  if (m.groups > 1) {
    const per = X / m.groups;
    const groupScore = new Float64Array(m.groups);
    for (let g = 0; g < m.groups; g++) {
      const members = sel.subarray(g * per, (g + 1) * per);
      groupScore[g] = topK(members, 2).reduce((s, i) => s + members[i], 0);
    }
    const keep = new Set(topK(groupScore, m.groupsUsed));
    for (let e = 0; e < X; e++) if (!keep.has(Math.floor(e / per))) sel[e] = -Infinity;
  }
  // top `used` experts, their unbiased probs as weights
  const experts = topK(sel, m.used);
  let weights = experts.map((e) => probs[e]);
  if (m.gating === 'softmax_weight') {
    const w = Float64Array.from(weights);
    softmaxInPlace(w);
    weights = Array.from(w);
  }
  if (m.weightsNorm) {
    // llama.cpp clamps the sum to the smallest normal f16 to avoid dividing by zero
    const sum = Math.max(
      weights.reduce((a, b) => a + b, 0),
      6.103515625e-5,
    );
    weights = weights.map((w) => w / sum);
  }
  if (m.weightsScale !== 1) weights = weights.map((w) => w * m.weightsScale);
  return { probs, experts, weights };
}

/** Routed experts + shared experts for one token: x [E] → [E]. */
export function moeFfn(m: MoeConfig, w: ReferenceWeights, p: string, x: Float32Array, E: number): { out: Float32Array; router: RouterResult } {
  // router logits = ffn_gate_inp · x                         [X]
  const logits = linear(w, `${p}ffn_gate_inp.weight`, x, E, m.experts);
  const bias = w.has(`${p}exp_probs_b.bias`) ? w.get(`${p}exp_probs_b.bias`) : null;
  const router = route(m, logits, bias);
  const [gate, up, down] = [`${p}ffn_gate_exps.weight`, `${p}ffn_up_exps.weight`, `${p}ffn_down_exps.weight`];
  // out = Σ_k weight_k · expert_k(x)                         [E]
  const out = new Float32Array(E);
  router.experts.forEach((e, k) => {
    const y = swiglu(w, gate, up, down, x, E, m.ffx, e);
    for (let i = 0; i < E; i++) out[i] += router.weights[k] * y[i];
  });
  // + shared experts (one SwiGLU of width ffx · shared)      [E]
  if (m.shared > 0) {
    const y = swiglu(w, `${p}ffn_gate_shexp.weight`, `${p}ffn_up_shexp.weight`, `${p}ffn_down_shexp.weight`, x, E, m.ffx * m.shared);
    for (let i = 0; i < E; i++) out[i] += y[i];
  }
  return { out, router };
}

/**
 * The naive form, for tests: run EVERY expert and weight it by a mask (its routing weight, 0 when
 * not chosen). Must equal moeFfn.
 */
export function moeFfnDenseMasked(m: MoeConfig, w: ReferenceWeights, p: string, x: Float32Array, E: number): Float32Array {
  const logits = linear(w, `${p}ffn_gate_inp.weight`, x, E, m.experts);
  const bias = w.has(`${p}exp_probs_b.bias`) ? w.get(`${p}exp_probs_b.bias`) : null;
  const { experts, weights } = route(m, logits, bias);
  const mask = new Float64Array(m.experts);
  experts.forEach((e, k) => (mask[e] = weights[k]));
  const out = new Float32Array(E);
  for (let e = 0; e < m.experts; e++) {
    const y = swiglu(w, `${p}ffn_gate_exps.weight`, `${p}ffn_up_exps.weight`, `${p}ffn_down_exps.weight`, x, E, m.ffx, e);
    for (let i = 0; i < E; i++) out[i] += mask[e] * y[i];
  }
  if (m.shared > 0) {
    const y = swiglu(w, `${p}ffn_gate_shexp.weight`, `${p}ffn_up_shexp.weight`, `${p}ffn_down_shexp.weight`, x, E, m.ffx * m.shared);
    for (let i = 0; i < E; i++) out[i] += y[i];
  }
  return out;
}
