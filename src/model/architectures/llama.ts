/**
 * `llama`: Llama 2 / 3.x (and the many models converted as llama). llama.cpp: src/models/llama.cpp.
 * Normal (adjacent-pair) RoPE, no biases in Meta's releases but llama.cpp loads q/k/v, attn_output
 * and FFN biases when a file has them, and `rope_freqs.weight` for Llama 3.1+'s rope scaling.
 */
import type { DenseArchitecture } from './dense.ts';

export const LLAMA: DenseArchitecture = {
  arch: 'llama',
  models: 'Llama 2 / 3.x',
  ropeStyle: 'normal',
  qkNorm: false,
  qWidth: 'heads',
  optionalBiases: { qkv: true, attnOutput: true, ffn: true, output: false },
  ropeFreqs: true,
  ropeDimsKey: 'checked',
};
