/**
 * y = W · x (+ b): a projection with the optional bias llama.cpp adds when the file has one
 * (build_qkv's wq_b / wk_b / wv_b, build_attn's wo_b, build_ffn's *_b, qwen2's output.bias).
 */
import { linearChunk, type ReferenceWeights } from '../weights.ts';

/** W{in, out} · x[in] + bias[out] when `bias` names a tensor the weights hold; else W · x. */
export function affine(w: ReferenceWeights, weight: string, bias: string | null, x: Float32Array, inDim: number, outDim: number): Float32Array {
  // one input through linearChunk: a backend's own matmul (the CPU engine's quantized rows) when it has one
  const y = linearChunk(w, weight, [x], inDim, outDim)[0];
  if (bias !== null && w.has(bias)) {
    const b = w.get(bias);
    for (let o = 0; o < outDim; o++) y[o] += b[o];
  }
  return y;
}
