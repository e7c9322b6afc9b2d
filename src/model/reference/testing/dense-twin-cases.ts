/**
 * The dense twins every engine is compared with llama.cpp on (the CPU reference, CpuModel, WebGpuModel):
 * shrunk Llama-3.2-1B / Qwen2.5-0.5B / Qwen3-0.6B (dense-twins.ts: real vocab and tokenizer, the released
 * head dims, 2 layers), and the prompt: BOS, llama.cpp's own tokenization of a multilingual line, then a
 * walk over the whole id range.
 */
import type { DenseTwinName, DenseTwinShrink } from '../../../tools/fixture/dense-twins.ts';
import type { LlamaCppModel } from './llama-ref.ts';

export const DENSE_TWIN_TEXT = 'The cat sat. Le chat est assis. 猫が座った。 Кошка.';

// Llama 3's rope factors act on wavelengths over original/high_freq positions: with the released
// 8192 none acts within a short prompt, so the test twin takes 16 (every pair but the fastest scaled)
export const SHORT_LLAMA3 = { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 16 };

/** What each engine's test runs: every family's feature, F32 and llama.cpp's Q4_K_M mix. */
export const ENGINE_DENSE_TWINS: [string, DenseTwinName, DenseTwinShrink][] = [
  ['llama rope_freqs, GQA', 'llama-3.2-1b', { layers: 2, dims: { embd: 64, heads: 4, headsKv: 2, ffn: 256 }, options: { ropeFreqs: SHORT_LLAMA3 } }],
  ['qwen2 q/k/v biases', 'qwen2.5-0.5b', { layers: 2, dims: { embd: 128, heads: 2, headsKv: 1, ffn: 256 } }],
  ['qwen3 QK-norm, GQA', 'qwen3-0.6b', { layers: 2, dims: { embd: 64, heads: 4, headsKv: 2, ffn: 256 } }],
  ['llama Q4_K_M', 'llama-3.2-1b', { layers: 2, mix: 'Q4_K_M', dims: { embd: 256, heads: 4, headsKv: 1, ffn: 512 }, options: { ropeFreqs: SHORT_LLAMA3 } }],
  ['qwen3 Q4_K_M', 'qwen3-0.6b', { layers: 2, mix: 'Q4_K_M', dims: { embd: 256, heads: 2, headsKv: 1, ffn: 512 } }],
];

/** The twin's prompt: BOS, llama.cpp's tokens of DENSE_TWIN_TEXT, 4 ids spread over the vocab. */
export async function denseTwinPrompt(ll: LlamaCppModel, bos: number, vocab: number): Promise<number[]> {
  const text = await ll.tokenize(DENSE_TWIN_TEXT);
  const walk = Array.from({ length: 4 }, (_, i) => (i * 7919 + 13) % vocab);
  return [bos, ...text, ...walk];
}
