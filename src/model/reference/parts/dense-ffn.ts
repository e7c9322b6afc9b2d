/**
 * The dense SwiGLU FFN of the Llama / Qwen families: down · (silu(gate · x + b_gate) ⊙ (up · x + b_up)) + b_down,
 * biases only where the file has them (llama.cpp's build_ffn with LLM_FFN_SILU, LLM_FFN_PAR).
 */
import { silu } from '../math.ts';
import type { ReferenceWeights } from '../weights.ts';
import { affine } from './affine.ts';

/** x [E] → [E] through layer `prefix` (`blk.N.`)'s ffn_gate / ffn_up {E, F} and ffn_down {F, E}. */
export function denseFfn(w: ReferenceWeights, prefix: string, x: Float32Array, E: number, F: number): Float32Array {
  const g = affine(w, `${prefix}ffn_gate.weight`, `${prefix}ffn_gate.bias`, x, E, F); // [F]
  const u = affine(w, `${prefix}ffn_up.weight`, `${prefix}ffn_up.bias`, x, E, F); // [F]
  const h = new Float32Array(F); // [F]
  for (let i = 0; i < F; i++) h[i] = silu(g[i]) * u[i];
  return affine(w, `${prefix}ffn_down.weight`, `${prefix}ffn_down.bias`, h, F, E); // [E]
}
