/**
 * Test data: DeepSeek-V2-Lite-Chat's shape (its published config as llama.cpp's converter writes the
 * metadata), optionally shrunk, with tensor infos from weights-spec.ts in a chosen type mix. For
 * header-only sparse files (writeSparseGguf) and plans; no weights.
 */
import { GgmlType, tensorByteLength } from '../../gguf/types.ts';
import type { GgufMetadataEntry } from '../../gguf/writer.ts';
import { readModelConfig } from '../config.ts';
import { expectedTensors } from '../weights-spec.ts';

/** DeepSeek-V2-Lite-Chat's published config as llama.cpp's converter writes it (absorbed MLA keys). */
export function v2LiteChatMetadata(
  d: Partial<Record<'layers' | 'context' | 'embd' | 'ffn' | 'heads' | 'vocab' | 'experts' | 'ffx', number>> = {},
): GgufMetadataEntry[] {
  const u32 = (key: string, value: number): GgufMetadataEntry => ({ key: `deepseek2.${key}`, type: 'u32', value });
  const f32 = (key: string, value: number): GgufMetadataEntry => ({ key: `deepseek2.${key}`, type: 'f32', value });
  return [
    { key: 'general.architecture', type: 'string', value: 'deepseek2' },
    { key: 'general.name', type: 'string', value: 'DeepSeek-V2-Lite-Chat (shape only)' },
    u32('block_count', d.layers ?? 27),
    u32('context_length', d.context ?? 163840),
    u32('embedding_length', d.embd ?? 2048),
    u32('feed_forward_length', d.ffn ?? 10944),
    u32('attention.head_count', d.heads ?? 16),
    u32('attention.head_count_kv', 1),
    f32('rope.freq_base', 10000),
    f32('attention.layer_norm_rms_epsilon', 1e-6),
    u32('expert_used_count', 6),
    u32('leading_dense_block_count', 1),
    u32('vocab_size', d.vocab ?? 102400),
    u32('attention.kv_lora_rank', 512),
    u32('attention.key_length', 576),
    u32('attention.value_length', 512),
    u32('attention.key_length_mla', 192),
    u32('attention.value_length_mla', 128),
    u32('expert_feed_forward_length', d.ffx ?? 1408),
    u32('expert_count', d.experts ?? 64),
    u32('expert_shared_count', 2),
    f32('expert_weights_scale', 1),
    u32('rope.dimension_count', 64),
    { key: 'deepseek2.rope.scaling.type', type: 'string', value: 'yarn' },
    f32('rope.scaling.factor', 40),
    u32('rope.scaling.original_context_length', 4096),
    f32('rope.scaling.yarn_log_multiplier', 0.0707),
  ];
}

/** config and tensor infos (with `type(shape)`, offsets unused) of a V2-Lite-Chat-shaped file */
export function shaped(metadata: GgufMetadataEntry[], type: (shape: readonly number[]) => number) {
  const plain = Object.fromEntries(metadata.map((e) => [e.key, e.value]));
  const embd = plain['deepseek2.embedding_length'] as number,
    vocab = plain['deepseek2.vocab_size'] as number;
  const config = readModelConfig(plain, [
    { name: 'token_embd.weight', shape: [embd, vocab] },
    { name: 'output.weight', shape: [embd, vocab] },
  ]);
  const infos = expectedTensors(config)
    .filter((s) => !s.optional || s.name === 'output.weight')
    .map((s) => ({ name: s.name, type: type(s.shape), shape: [...s.shape] }));
  const tensors = infos.map((t, i) => ({ ...t, offset: i, byteLength: tensorByteLength(t.type, t.shape) }));
  return { config, infos, tensors };
}

/** Q4_K where a row is whole 256-value blocks, Q8_0 otherwise (llama.cpp's fallback), F32 vectors. */
export function q4kMix(shape: readonly number[]): number {
  if (shape.length === 1) return GgmlType.F32;
  return shape[0] % 256 === 0 ? GgmlType.Q4_K : GgmlType.Q8_0;
}
