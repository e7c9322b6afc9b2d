/** CPU reference for accumulate.wgsl. */
/** y[r, :] + scale * Σ_j w[r·terms + j] · x[r·terms + j, :] (returns a new array). */
export function accumulateRef(y: Float32Array, x: Float32Array, rows: number, n: number, terms = 1, w?: Float32Array, scale = 1): Float32Array {
  const out = y.slice();
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < terms; j++) acc += (w ? w[r * terms + j] : 1) * x[(r * terms + j) * n + i];
      out[r * n + i] += scale * acc;
    }
  return out;
}
