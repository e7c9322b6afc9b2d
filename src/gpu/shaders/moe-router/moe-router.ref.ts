/**
 * CPU reference of the MoE router for one token, as llama.cpp's build_moe_ffn computes it:
 *   probs    = gating(logits)                       [X]   softmax | sigmoid | raw (softmax_weight) | sqrt(softplus)
 *   select   = probs + bias                         [X]   the bias only chooses (DeepSeek-V3's balance bias)
 *   groups   : a group's score is the sum of its top-2 `select`; only the best `groupsUsed` groups stay eligible
 *   experts  = top-k of select, ties to the lower expert index   [k]
 *   weights  = probs[experts]   (softmax_weight: softmax of logits[experts])   [k]
 *   weights /= max(Σ weights, 2^-14) when normalising; weights *= scale
 */
export type GatingFunc = 'softmax' | 'sigmoid' | 'softmax_weight' | 'sqrt_softplus';

export interface RouterOptions {
  gating: GatingFunc;
  topK: number;
  groupCount: number;
  groupsUsed: number;
  normalize: boolean;
  scale: number;
}

export interface RouterResult {
  probs: Float32Array; // [X]
  experts: Int32Array; // [k]
  weights: Float32Array; // [k]
}

export function routeRef(logits: Float32Array, bias: Float32Array | undefined, o: RouterOptions): RouterResult {
  const X = logits.length;
  const probs = new Float32Array(X);
  if (o.gating === 'softmax') {
    const m = Math.max(...logits);
    let s = 0;
    for (let e = 0; e < X; e++) s += probs[e] = Math.exp(logits[e] - m);
    for (let e = 0; e < X; e++) probs[e] /= s;
  } else if (o.gating === 'sigmoid') {
    for (let e = 0; e < X; e++) probs[e] = 1 / (1 + Math.exp(-logits[e]));
  } else if (o.gating === 'sqrt_softplus') {
    for (let e = 0; e < X; e++) probs[e] = Math.sqrt(Math.log1p(Math.exp(logits[e])));
  } else probs.set(logits);

  const select = Float64Array.from(probs, (p, e) => p + (bias ? bias[e] : 0));
  if (o.groupCount > 1) {
    const per = X / o.groupCount;
    const groupScore = Array.from({ length: o.groupCount }, (_, g) => {
      const vals = Array.from(select.subarray(g * per, (g + 1) * per)).sort((a, b) => b - a);
      return vals[0] + (vals[1] ?? 0);
    });
    const kept = topIndices(groupScore, o.groupsUsed);
    for (let g = 0; g < o.groupCount; g++) if (!kept.includes(g)) select.fill(-Infinity, g * per, (g + 1) * per);
  }
  const experts = Int32Array.from(topIndices(Array.from(select), o.topK));
  let weights = Float32Array.from(experts, (e) => probs[e]);
  if (o.gating === 'softmax_weight') {
    const l = Array.from(experts, (e) => logits[e]);
    const m = Math.max(...l);
    const ex = l.map((v) => Math.exp(v - m));
    const s = ex.reduce((a, b) => a + b, 0);
    weights = Float32Array.from(ex, (v) => v / s);
  }
  if (o.normalize) {
    const s = Math.max(weights.reduce((a, b) => a + b, 0), 6.103515625e-5);
    weights = weights.map((w) => w / s);
  }
  return { probs, experts, weights: weights.map((w) => w * o.scale) };
}

/** Indices of the k largest values, largest first; ties go to the lower index. */
function topIndices(values: number[], k: number): number[] {
  return values
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}
