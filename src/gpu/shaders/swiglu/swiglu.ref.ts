/** CPU reference: y = silu(gate) * up, silu(g) = g * sigmoid(g). */
export function swigluRef(gate: Float32Array, up: Float32Array): Float32Array {
  const y = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) y[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
  return y;
}
