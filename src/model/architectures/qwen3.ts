/**
 * `qwen3`: Qwen3 dense models. llama.cpp: src/models/qwen3.cpp. NeoX RoPE, per-head RMSNorm of q and
 * k (attn_q_norm / attn_k_norm, ne [head_dim], the model's rms eps) before RoPE, head_dim from
 * attention.key_length (128 in every release, so heads · head_dim ≠ embd in general); q/k/v biases
 * are optional to llama.cpp (absent in the releases).
 */
import type { DenseArchitecture } from './dense.ts';

export const QWEN3: DenseArchitecture = {
  arch: 'qwen3',
  models: 'Qwen3 (dense)',
  ropeStyle: 'neox',
  qkNorm: true,
  qWidth: 'heads',
  optionalBiases: { qkv: true, attnOutput: false, ffn: false, output: false },
  ropeFreqs: false,
  ropeDimsKey: 'asserted',
};
