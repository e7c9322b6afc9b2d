/**
 * Where a reference session keeps MLA's cached rows (absorbed: the latent ckv [kv_lora] and the roped kpe
 * [rope] per position) and the two loops over them: the scores q·row over positions 0..n-1, and the
 * probability-weighted sum of the visible rows. `plainAttention` is the reference's own: rows as they
 * come, f64 dots, f32 partial sums. A backend may supply one whose rows live where its kernels read them
 * (the CPU backend's WebAssembly SIMD memory: src/engine/cpu/simd-attention.ts), one per session.
 */
import { dot } from './math.ts';

export type CachedRows = 'ckv' | 'kpe';

export interface AttentionKernels {
  /** The row to keep in layer `il`'s `kind` cache for the next position: `row` itself or a copy. */
  keep(il: number, kind: CachedRows, row: Float32Array): Float32Array;
  /** out[s] += Σ_i q[qOff + i] · rows[s][i] for s < n, rows of `width` values kept by `keep`. */
  addScores(q: Float32Array, qOff: number, rows: readonly Float32Array[], n: number, width: number, out: Float64Array): void;
  /** out[i] = Σ_j p[j] · rows[idx[j]][i] for i < width, summed over j in order. */
  weightedSum(p: Float64Array, rows: readonly Float32Array[], idx: readonly number[], width: number, out: Float32Array): void;
}

/**
 * out[i] = Σ_j p[j] · rows[idx[j]][rowOff + i] for i < width, summed over j in order, each partial sum
 * rounded to f32 (out is f32), as llama.cpp's f32 accumulation (legacy MLA passes a head's slice offset).
 */
export function weightedRows(p: Float64Array, rows: readonly Float32Array[], idx: readonly number[], width: number, out: Float32Array, rowOff = 0): void {
  out.fill(0, 0, width);
  for (let j = 0; j < idx.length; j++) {
    const row = rows[idx[j]];
    const pj = p[j];
    for (let i = 0; i < width; i++) out[i] += pj * row[rowOff + i];
  }
}

export const plainAttention: AttentionKernels = {
  keep: (_il, _kind, row) => row,
  addScores(q, qOff, rows, n, width, out) {
    for (let s = 0; s < n; s++) out[s] += dot(q, qOff, rows[s], 0, width);
  },
  weightedSum: (p, rows, idx, width, out) => weightedRows(p, rows, idx, width, out),
};
