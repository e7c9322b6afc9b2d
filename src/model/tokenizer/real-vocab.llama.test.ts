import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaCpp } from '../reference/llama-cpp/client.ts';
import { COMPARISON_TEXTS, MULTILINGUAL_TEXTS } from './testing/corpus.ts';
import { compareAll, loadBoth, specialIds } from './testing/llama-compare.ts';
import { realVocabKv, type RealVocabFamily } from './testing/real-vocab.ts';

/**
 * The real vocabularies of DeepSeek-V3, Llama 3 and Qwen3 (from the families' own tokenizer.json) as
 * their converted GGUFs carry them: our tokenizer gives llama.cpp's ids and text on a multilingual
 * corpus, and the same BOS/EOS/EOT/end-of-generation ids.
 */
const FAMILIES: RealVocabFamily[] = ['deepseek-v3', 'llama3', 'qwen3'];
const TEXTS = [...COMPARISON_TEXTS, ...MULTILINGUAL_TEXTS, MULTILINGUAL_TEXTS.join('\n')];

let llama: LlamaCpp;
let dir: string;

beforeAll(async () => {
  llama = await LlamaCpp.start();
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-real-vocab-'));
});
afterAll(async () => {
  await llama?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('real vocabularies match llama.cpp', () => {
  for (const family of FAMILIES) {
    it(`${family}: ${TEXTS.length} texts`, { timeout: 120_000 }, async () => {
      const { model, ours } = await loadBoth(llama, dir, family, { 'general.architecture': { type: 'string', value: 'llama' }, ...realVocabKv(family) });
      try {
        expect(await compareAll(model, ours, TEXTS)).toEqual([]);
        const ids = await specialIds(model, ours);
        expect(ids.ours).toEqual(ids.llama);
      } finally {
        await model.dispose();
      }
    });
  }
});
