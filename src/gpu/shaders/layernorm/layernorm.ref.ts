/** CPU reference: LayerNorm of each row of x [rows, n] with weight [n] and bias [n] (float64 inside). */
export function layernormRef(x: Float32Array, weight: Float32Array, bias: Float32Array, rows: number, n: number, eps = 1e-6): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[r * n + i];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[r * n + i] - mean) ** 2;
    const scale = 1 / Math.sqrt(v / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = (x[r * n + i] - mean) * scale * weight[i] + bias[i];
  }
  return y;
}
