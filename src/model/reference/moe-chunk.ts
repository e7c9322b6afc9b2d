/**
 * The FFN blocks of moe.ts over a chunk of tokens: every linear runs once for all the tokens that use
 * it (linearChunk), so a backend reads each weight row once per chunk. Routed experts gather the
 * tokens that chose them. Per token, the same operations in the same order as swiglu / moeFfn.
 */
import type { MoeConfig } from '../config.ts';
import { silu } from './math.ts';
import { route, type RouterResult } from './moe.ts';
import { linearChunk, type ReferenceWeights } from './weights.ts';

/** SwiGLU for each x of the chunk: [T][E] → [T][E] (matrices optionally expert `expert` of a 3-D tensor). */
export function swigluChunk(
  w: ReferenceWeights,
  gate: string,
  up: string,
  down: string,
  xs: readonly Float32Array[],
  E: number,
  F: number,
  expert = 0,
): Float32Array[] {
  const g = linearChunk(w, gate, xs, E, F, { rowOffset: expert * F }); // [T][F]
  const u = linearChunk(w, up, xs, E, F, { rowOffset: expert * F }); // [T][F]
  const h = g.map((gt, t) => {
    const ht = new Float32Array(F);
    for (let i = 0; i < F; i++) ht[i] = silu(gt[i]) * u[t][i];
    return ht;
  });
  return linearChunk(w, down, h, F, E, { rowOffset: expert * E }); // [T][E]
}

/** Routed + shared experts for each x of the chunk: [T][E] → [T][E], with each token's router result. */
export function moeFfnChunk(
  m: MoeConfig,
  w: ReferenceWeights,
  p: string,
  xs: readonly Float32Array[],
  E: number,
): { out: Float32Array[]; routers: RouterResult[] } {
  // router logits = ffn_gate_inp · x                         [T][X]
  const logits = linearChunk(w, `${p}ffn_gate_inp.weight`, xs, E, m.experts);
  const bias = w.has(`${p}exp_probs_b.bias`) ? w.get(`${p}exp_probs_b.bias`) : null;
  const routers = logits.map((l) => route(m, l, bias));
  // the tokens (and their rank k) that chose each expert
  const users = new Map<number, { t: number; k: number }[]>();
  routers.forEach((r, t) =>
    r.experts.forEach((e, k) => {
      if (!users.has(e)) users.set(e, []);
      users.get(e)!.push({ t, k });
    }),
  );
  // y[t][k] = expert_k(x_t)                                  [T][used][E]
  const y: Float32Array[][] = xs.map(() => []);
  for (const [e, us] of [...users].sort((a, b) => a[0] - b[0])) {
    const ys = swigluChunk(
      w,
      `${p}ffn_gate_exps.weight`,
      `${p}ffn_up_exps.weight`,
      `${p}ffn_down_exps.weight`,
      us.map((u) => xs[u.t]),
      E,
      m.ffx,
      e,
    );
    us.forEach((u, j) => (y[u.t][u.k] = ys[j]));
  }
  // out_t = Σ_k weight_k · y[t][k], k in the router's order (as moeFfn)   [T][E]
  const out = xs.map((_, t) => {
    const o = new Float32Array(E);
    routers[t].weights.forEach((wk, k) => {
      for (let i = 0; i < E; i++) o[i] += wk * y[t][k][i];
    });
    return o;
  });
  // + shared experts                                         [T][E]
  if (m.shared > 0) {
    const ys = swigluChunk(w, `${p}ffn_gate_shexp.weight`, `${p}ffn_up_shexp.weight`, `${p}ffn_down_shexp.weight`, xs, E, m.ffx * m.shared);
    out.forEach((o, t) => {
      for (let i = 0; i < E; i++) o[i] += ys[t][i];
    });
  }
  return { out, routers };
}
