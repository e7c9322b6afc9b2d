/**
 * `qwen2`: Qwen2 / Qwen2.5. llama.cpp: src/models/qwen2.cpp. NeoX RoPE, q/k/v biases (always in the
 * released files, optional to llama.cpp), an optional output.bias, attn_q / attn_output sized
 * {embd, embd} (so heads · head_dim = embd).
 */
import type { DenseArchitecture } from './dense.ts';

export const QWEN2: DenseArchitecture = {
  arch: 'qwen2',
  models: 'Qwen2 / Qwen2.5',
  ropeStyle: 'neox',
  qkNorm: false,
  qWidth: 'embd',
  optionalBiases: { qkv: true, attnOutput: false, ffn: false, output: true },
  ropeFreqs: false,
  ropeDimsKey: 'asserted',
};
