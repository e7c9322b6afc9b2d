/** CPU references for the quantized products, on weights already dequantized to f32 (row-major [N, K]). */

/** y[m, N] = X[m, K] · W[N, K]ᵀ, accumulated in f64. */
export function matmulRef(w: Float32Array, x: Float32Array, m: number, k: number, n: number): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += w[r * k + j] * x[i * k + j];
      y[i * n + r] = s;
    }
  }
  return y;
}

/**
 * Gathered products over an expert tensor wAll [X, N, K]: y[j, N] = W[ids[j]] · x[floor(j / xDiv), K];
 * slots whose id is out of range keep `fill`.
 */
export function gatherMatvecRef(
  wAll: Float32Array,
  ids: Uint32Array,
  x: Float32Array,
  k: number,
  n: number,
  nExperts: number,
  xDiv: number,
  fill = 0,
): Float32Array {
  const y = new Float32Array(ids.length * n).fill(fill);
  ids.forEach((e, j) => {
    if (e >= nExperts) return;
    const w = wAll.subarray(e * n * k, (e + 1) * n * k);
    y.set(matmulRef(w, x.subarray(Math.floor(j / xDiv) * k, (Math.floor(j / xDiv) + 1) * k), 1, k, n), j * n);
  });
  return y;
}

/** Largest |a - b| relative to the largest |b| (1 when b is all zeros). */
export function relMaxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Number.isNaN(a[i]) ? Infinity : Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / (s || 1);
}
