/** CPU reference: RMSNorm of each row of x [rows, n] with weight [n]. */
export function rmsnormRef(x: Float32Array, weight: Float32Array, rows: number, n: number, eps: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[r * n + i] * x[r * n + i];
    const scale = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = x[r * n + i] * scale * weight[i];
  }
  return y;
}
