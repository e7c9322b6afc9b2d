import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaCpp, type LlamaCppModel } from '../reference/llama-cpp/client.ts';
import { createTokenizer } from './index.ts';
import { COMPARISON_TEXTS } from './testing/corpus.ts';
import { metadataObject, serializeMetadataGguf, type GgufValue } from './testing/gguf-test-writer.ts';
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

async function loadBoth(name: string, kv: Record<string, GgufValue>): Promise<{ model: LlamaCppModel; ours: ReturnType<typeof createTokenizer> }> {
  const path = join(dir, `${name}.gguf`);
  writeFileSync(path, serializeMetadataGguf(kv));
  const ours = createTokenizer(metadataObject(kv)); // first: a throw here must not leak a loaded model
  const model = await llama.loadModel(path, { vocabOnly: true });
  return { model, ours };
}

async function compareAll(model: LlamaCppModel, ours: ReturnType<typeof createTokenizer>): Promise<string[]> {
  const mismatches: string[] = [];
  for (const text of COMPARISON_TEXTS) {
    for (const parseSpecial of [false, true]) {
      const want = await model.tokenize(text, parseSpecial);
      const got = ours.encode(text, { parseSpecial });
      if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`encode ${JSON.stringify(text)} special=${parseSpecial}\n  llama.cpp ${want}\n  ours      ${got}`);
      for (const special of [false, true]) {
        const wantText = await model.detokenize(want, special);
        const gotText = ours.decode(want, { special });
        if (gotText !== wantText) mismatches.push(`decode ${JSON.stringify(text)} special=${special}\n  llama.cpp ${JSON.stringify(wantText)}\n  ours      ${JSON.stringify(gotText)}`);
      }
    }
  }
  return mismatches;
}

describe('byte-level BPE matches llama.cpp', () => {
  for (const pre of PRE_TOKENIZERS) {
    it(`pre-tokenizer ${pre}: ${COMPARISON_TEXTS.length} texts`, async () => {
      const { model, ours } = await loadBoth(`bpe-${pre}`, byteLevelBpeKv(pre));
      try {
        expect(await compareAll(model, ours)).toEqual([]);
        const vocab = await model.vocab(ours.vocabSize);
        expect(ours.bos).toBe(vocab.bos);
        expect(ours.eos).toBe(vocab.eos);
        expect(ours.eot).toBe(vocab.eot);
        expect([...ours.stopIds].sort((a, b) => a - b)).toEqual(vocab.eog);
      } finally {
        await model.dispose();
      }
    });
  }
});

describe('SentencePiece (llama) matches llama.cpp', () => {
  it(`${COMPARISON_TEXTS.length} texts, byte fallback and space prefix`, async () => {
    const { model, ours } = await loadBoth('spm', sentencePieceKv());
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
    const { model, ours } = await loadBoth('spm-noprefix', kv);
    try {
      expect(await compareAll(model, ours)).toEqual([]);
    } finally {
      await model.dispose();
    }
  });
});
