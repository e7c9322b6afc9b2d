/** CPU references for the DSA indexer score and top-k kernels. */
import { indexerTopK } from '../../../model/reference/indexer-topk.ts';

export const NO_POSITION = 0xffffffff;
/** The indexer's score for positions a query cannot see: -FLT_MAX (WGSL has no -inf constant). */
export const NOT_VISIBLE = -3.4028234663852886e38;

/** scores [nq, stride]: wScale · Σ_h w[q,h] · ReLU(qI[q,h] · kI[s]) for visible s, NOT_VISIBLE for the rest below nKv. */
export function indexerScoreRef(
  qI: Float32Array,
  w: Float32Array,
  kI: Float32Array,
  d: { heads: number; dim: number; nq: number; nKv: number; qPos0: number; stride: number; wScale?: number },
): Float32Array {
  const out = new Float32Array(d.nq * d.stride);
  for (let q = 0; q < d.nq; q++)
    for (let s = 0; s < d.nKv; s++) {
      if (s > d.qPos0 + q) {
        out[q * d.stride + s] = NOT_VISIBLE;
        continue;
      }
      let total = 0;
      for (let h = 0; h < d.heads; h++) {
        let dot = 0;
        for (let i = 0; i < d.dim; i++) dot += qI[(q * d.heads + h) * d.dim + i] * kI[s * d.dim + i];
        total += w[q * d.heads + h] * Math.max(dot, 0);
      }
      out[q * d.stride + s] = total * (d.wScale ?? 1);
    }
  return out;
}

/**
 * Top-k of scores[0..n) as llama.cpp takes it (ties in its std::partial_sort order, the CPU
 * reference's rule: indexerTopK), returned ascending and padded to k.
 */
export function topkRef(scores: ArrayLike<number>, n: number, k: number): number[] {
  const chosen = indexerTopK(scores, k, n);
  return [...chosen, ...Array(k - chosen.length).fill(NO_POSITION)];
}
