import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaCpp } from '../reference/llama-cpp/client.ts';
import { COMPARISON_TEXTS } from './testing/corpus.ts';
import type { GgufValue } from './testing/gguf-test-writer.ts';
import { compareAll, loadBoth, specialIds } from './testing/llama-compare.ts';
import { byteLevelBpeKv, sentencePieceKv } from './testing/vocab-fixtures.ts';

/**
 * Our tokenizer against llama.cpp (through node-llama-cpp) on the same GGUF metadata: every text,
 * every pre-tokenizer, with and without special-token parsing, and the detokenized text. llama.cpp's
 * answers are the expectations; nothing here was produced by our code.
 */
const PRE_TOKENIZERS = ['deepseek-v3', 'deepseek-llm', 'deepseek-coder', 'llama-bpe', 'qwen2', 'gpt-2', 'default'];

let llama: LlamaCpp;
let dir: string;

beforeAll(async () => {
  llama = await LlamaCpp.start();
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-tok-'));
});
afterAll(async () => {
  await llama?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const load = (name: string, kv: Record<string, GgufValue>) => loadBoth(llama, dir, name, kv);

describe('byte-level BPE matches llama.cpp', () => {
  for (const pre of PRE_TOKENIZERS) {
    it(`pre-tokenizer ${pre}: ${COMPARISON_TEXTS.length} texts`, async () => {
      const { model, ours } = await load(`bpe-${pre}`, byteLevelBpeKv(pre));
      try {
        expect(await compareAll(model, ours)).toEqual([]);
        const ids = await specialIds(model, ours);
        expect(ids.ours).toEqual(ids.llama);
      } finally {
        await model.dispose();
      }
    });
  }
});

describe('SentencePiece (llama) matches llama.cpp', () => {
  it(`${COMPARISON_TEXTS.length} texts, byte fallback and space prefix`, async () => {
    const { model, ours } = await load('spm', sentencePieceKv());
    try {
      expect(await compareAll(model, ours)).toEqual([]);
      // add_special: BOS from the file's defaults, as llama.cpp adds it (node-llama-cpp never does).
      expect(ours.encode('Hi', { addSpecial: true })[0]).toBe((await model.vocab(ours.vocabSize)).bos);
    } finally {
      await model.dispose();
    }
  });

  it('without a space prefix', async () => {
    const kv = { ...sentencePieceKv(), 'tokenizer.ggml.add_space_prefix': { type: 'bool', value: false } as GgufValue };
    const { model, ours } = await load('spm-noprefix', kv);
    try {
      expect(await compareAll(model, ours)).toEqual([]);
    } finally {
      await model.dispose();
    }
  });
});
