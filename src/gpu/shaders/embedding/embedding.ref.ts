/** CPU reference for the row lookup: out[t, :] = table[ids[t], :] on a table already dequantized to f32 [V, K]. */
export function embeddingRef(table: Float32Array, ids: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(ids.length * k);
  for (let t = 0; t < ids.length; t++) out.set(table.subarray(ids[t] * k, (ids[t] + 1) * k), t * k);
  return out;
}
