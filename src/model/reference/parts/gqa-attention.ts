/**
 * Grouped-query attention for one query token over a growing KV cache (MHA when headsKv = heads,
 * MQA when 1), as llama.cpp's build_qkv + build_attn run it for the dense families:
 *
 *   q = W_q x (+ b_q)  [heads·D]      k = W_k x (+ b_k), v = W_v x (+ b_v)  [headsKv·D]
 *   qk-norm (Qwen3):   q_h = RMSNorm(q_h) · attn_q_norm,  k_g = RMSNorm(k_g) · attn_k_norm   (per head, [D])
 *   RoPE over each whole head (normal = adjacent pairs, neox = halves), at this position
 *   o_h = Σ_{s ≤ pos} softmax_s(q_h · k_{g(h),s} · kq_scale) · v_{g(h),s},   g(h) = ⌊h / (heads / headsKv)⌋
 *   out = W_o · concat_h(o_h) (+ b_o)  [E]
 */
import { dot, rmsNorm, ropeNeox, ropeNormal, softmaxInPlace } from '../math.ts';
import type { ReferenceWeights } from '../weights.ts';
import { affine } from './affine.ts';
import { denseWeightSum, oracleTopK } from '../oracle-topk.ts';

export interface GqaShape {
  readonly embd: number;
  readonly heads: number;
  readonly headsKv: number;
  readonly headDim: number;
  readonly kqScale: number;
  readonly rmsEps: number;
  readonly qkNorm: boolean;
  readonly ropeStyle: 'normal' | 'neox';
}

/** One layer's cache: roped keys and values, one [headsKv·D] entry per position. */
export interface GqaCache {
  readonly k: Float32Array[];
  readonly v: Float32Array[];
}

export function emptyGqaCache(): GqaCache {
  return { k: [], v: [] };
}

export interface GqaResult {
  /** [E] */
  out: Float32Array;
  /** when asked: the softmax weights over positions 0..pos, summed over the query heads */
  attnDense?: number[];
  /** when traced with an oracle top-k: the positions attended (ascending) */
  oracle?: number[];
}

/** RMSNorm of every D-wide head of x in place, with one shared weight [D]. */
function normHeads(x: Float32Array, n: number, D: number, weight: Float32Array, eps: number): void {
  for (let h = 0; h < n; h++) x.set(rmsNorm(x.subarray(h * D, (h + 1) * D), weight, eps), h * D);
}

/**
 * Attention of layer `prefix` (`blk.N.`) for x [E] at position cache.k.length; appends this
 * token's k and v to `cache`. `rope` holds cos/sin for this position ([D/2]).
 */
export function gqaAttention(
  w: ReferenceWeights,
  prefix: string,
  s: GqaShape,
  x: Float32Array,
  rope: { cos: Float32Array; sin: Float32Array },
  cache: GqaCache,
  trace = false,
  /** oracle top-k (0 = dense): attend over the k positions of largest dense weight summed over heads */
  oracleK = 0,
): GqaResult {
  const { embd: E, heads: H, headsKv: HK, headDim: D } = s;
  const p = prefix;
  const q = affine(w, `${p}attn_q.weight`, `${p}attn_q.bias`, x, E, H * D); // [H·D]
  const k = affine(w, `${p}attn_k.weight`, `${p}attn_k.bias`, x, E, HK * D); // [HK·D]
  const v = affine(w, `${p}attn_v.weight`, `${p}attn_v.bias`, x, E, HK * D); // [HK·D]
  if (s.qkNorm) {
    normHeads(q, H, D, w.get(`${p}attn_q_norm.weight`), s.rmsEps);
    normHeads(k, HK, D, w.get(`${p}attn_k_norm.weight`), s.rmsEps);
  }
  const rot = s.ropeStyle === 'neox' ? ropeNeox : ropeNormal;
  for (let h = 0; h < H; h++) rot(q, h * D, rope);
  for (let g = 0; g < HK; g++) rot(k, g * D, rope);
  cache.k.push(k);
  cache.v.push(v);

  const T = cache.k.length; // positions 0..pos
  const group = H / HK;
  const o = new Float32Array(H * D); // [H·D]
  // per-head scores over all of 0..pos                       [H][T]
  const scores: Float64Array[] = [];
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / group);
    const sc = new Float64Array(T);
    for (let t = 0; t < T; t++) sc[t] = dot(q, h * D, cache.k[t], g * D, D) * s.kqScale;
    scores.push(sc);
  }
  // dense weights summed over heads, when traced or when the oracle picks from them   [T]
  const dense = trace || oracleK > 0 ? denseWeightSum(scores) : null;
  // oracle top-k: attend over its picks (ascending; all of 0..pos when k ≥ T: the dense attention)
  const picks = oracleK > 0 ? oracleTopK(dense!, oracleK) : null;
  const visible = picks ?? Array.from({ length: T }, (_, t) => t);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / group);
    const pr = Float64Array.from(visible, (t) => scores[h][t]);
    softmaxInPlace(pr);
    visible.forEach((t, j) => {
      const vt = cache.v[t];
      for (let i = 0; i < D; i++) o[h * D + i] += pr[j] * vt[g * D + i];
    });
  }
  const out = affine(w, `${p}attn_output.weight`, `${p}attn_output.bias`, o, H * D, E);
  if (!trace) return { out };
  return picks ? { out, attnDense: Array.from(dense!), oracle: picks } : { out, attnDense: Array.from(dense!) };
}
