import { COMPARISON_TEXTS, TRAINING_TEXT } from './corpus.ts';
import type { GgufValue } from './gguf-test-writer.ts';

/**
 * Small vocabs llama.cpp accepts, built independently of the tokenizer under test: the byte-level
 * alphabet and the merge training are written here again on purpose, so a bug in src/ cannot make
 * both sides agree.
 */

// GPT-2 byte alphabet: printable Latin-1 bytes are themselves, the rest take 256, 257, ... in order.
const BYTE_CHARS: string[] = (() => {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : 256 + extra++));
})();

export const SPECIAL_CONTROL = ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>'];
export const SPECIAL_USER = ['<think>', '</think>'];

/** Learn `n` merges over pre-split words (plain BPE: most frequent adjacent pair, ties by first seen). */
function learnMerges(words: string[][], n: number): [string, string][] {
  const merges: [string, string][] = [];
  for (let k = 0; k < n; k++) {
    const counts = new Map<string, number>();
    for (const w of words)
      for (let i = 0; i + 1 < w.length; i++) {
        const key = `${w[i]}\u0001${w[i + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    let best: string | undefined;
    let bestCount = 1;
    for (const [key, c] of counts)
      if (c > bestCount) {
        best = key;
        bestCount = c;
      }
    if (!best) break;
    const [a, b] = best.split('\u0001') as [string, string];
    merges.push([a, b]);
    for (const w of words)
      for (let i = 0; i + 1 < w.length; i++) {
        if (w[i] === a && w[i + 1] === b) {
          w.splice(i, 2, a + b);
        }
      }
  }
  return merges;
}

/**
 * Byte-level BPE: 256 byte tokens, ~400 learnt merges (training words keep their leading space and
 * digits run together, so merges such as "Ġthe" and "123" exist and pre-tokenizers disagree), two
 * whole-word tokens without a merge path (llama3 emits them whole: `ignore_merges`), special tokens.
 */
export function byteLevelBpeKv(pre: string): Record<string, GgufValue> {
  const enc = new TextEncoder();
  // The comparison texts are in the training data and words are cut at ASCII spaces only, so merges
  // cross the places where pre-tokenizers cut (digits, NBSP, CJK, punctuation, newlines): a wrong
  // split then shows up as different ids instead of hiding behind single-byte tokens.
  const corpus = [TRAINING_TEXT, ...COMPARISON_TEXTS].join(' ');
  const words = (corpus.match(/ ?[^ ]+| +/g) ?? []).map((w) => Array.from(enc.encode(w), (b) => BYTE_CHARS[b]));
  const merges = learnMerges([...words, ...words.map((w) => w.slice())], 1200);
  const tokens = [...BYTE_CHARS];
  const seen = new Set(tokens);
  for (const [a, b] of merges)
    if (!seen.has(a + b)) {
      tokens.push(a + b);
      seen.add(a + b);
    }
  // Whole words without a merge path: only llama3's ignore_merges can emit them.
  const orphans = ['Ġsurrogates', 'Ġvertical', 'Ġpopulation', 'Ġleading', 'Ġwindows'].filter((t) => !seen.has(t));
  if (orphans.length < 2) throw new Error('fixture: expected words without a merge path');
  tokens.push(...orphans);
  const types = tokens.map(() => 1);
  for (const s of SPECIAL_CONTROL) {
    tokens.push(s);
    types.push(3);
  }
  for (const s of SPECIAL_USER) {
    tokens.push(s);
    types.push(4);
  }
  const bos = tokens.indexOf(SPECIAL_CONTROL[0]);
  const eos = tokens.indexOf(SPECIAL_CONTROL[1]);
  return {
    ...archKv(),
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: pre },
    'tokenizer.ggml.tokens': { type: 'string[]', value: tokens },
    'tokenizer.ggml.token_type': { type: 'i32[]', value: types },
    'tokenizer.ggml.merges': { type: 'string[]', value: merges.map(([a, b]) => `${a} ${b}`) },
    'tokenizer.ggml.bos_token_id': { type: 'u32', value: bos },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: eos },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: true },
    'tokenizer.ggml.add_eos_token': { type: 'bool', value: false },
  };
}

/**
 * SentencePiece-style vocab ('llama' model): <unk> <s> </s>, the 256 <0xXX> byte tokens, the
 * characters of the corpus, then pieces learnt by merging characters of the ▁-escaped corpus; the
 * score of a piece is minus its merge order, so earlier merges win, as in a real SentencePiece BPE.
 */
export function sentencePieceKv(): Record<string, GgufValue> {
  const text = ` ${TRAINING_TEXT}`.replaceAll(' ', '\u2581');
  const words = (text.match(/\u2581?[^\u2581]+|\u2581+/g) ?? []).map((w) => Array.from(w));
  const chars = [...new Set(Array.from(text))].filter((c) => c !== '\n');
  const merges = learnMerges([...words, ...words.map((w) => w.slice())], 300);
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3];
  const scores = [0, 0, 0];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
    scores.push(0);
  }
  const seen = new Set(tokens);
  chars.forEach((c, i) => {
    if (!seen.has(c)) {
      tokens.push(c);
      types.push(1);
      scores.push(-1000 - i);
      seen.add(c);
    }
  });
  merges.forEach(([a, b], i) => {
    if (!seen.has(a + b)) {
      tokens.push(a + b);
      types.push(1);
      scores.push(-i);
      seen.add(a + b);
    }
  });
  tokens.push('<think>');
  types.push(4);
  scores.push(0);
  return {
    ...archKv(),
    'tokenizer.ggml.model': { type: 'string', value: 'llama' },
    'tokenizer.ggml.tokens': { type: 'string[]', value: tokens },
    'tokenizer.ggml.token_type': { type: 'i32[]', value: types },
    'tokenizer.ggml.scores': { type: 'f32[]', value: scores },
    'tokenizer.ggml.bos_token_id': { type: 'u32', value: 1 },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: 2 },
    'tokenizer.ggml.unknown_token_id': { type: 'u32', value: 0 },
  };
}

/** Minimal 'llama' hyper-parameters; vocab-only loading still reads them. */
function archKv(): Record<string, GgufValue> {
  return {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: 'tokenizer-fixture' },
    'llama.context_length': { type: 'u32', value: 256 },
    'llama.embedding_length': { type: 'u32', value: 64 },
    'llama.block_count': { type: 'u32', value: 1 },
    'llama.feed_forward_length': { type: 'u32', value: 128 },
    'llama.attention.head_count': { type: 'u32', value: 4 },
    'llama.attention.head_count_kv': { type: 'u32', value: 4 },
    'llama.attention.layer_norm_rms_epsilon': { type: 'f32', value: 1e-5 },
    'llama.rope.dimension_count': { type: 'u32', value: 16 },
  };
}
