/**
 * Our tokenizer against llama.cpp (node-llama-cpp, vocab only) on the same GGUF metadata: every text
 * of the comparison corpus, with and without special-token parsing, and the detokenized text both
 * ways. llama.cpp's answers are the expectations; nothing here was produced by our code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LlamaCpp, LlamaCppModel } from '../../reference/llama-cpp/client.ts';
import { createTokenizer } from '../index.ts';
import { COMPARISON_TEXTS } from './corpus.ts';
import { metadataObject, serializeMetadataGguf, type GgufValue } from './gguf-test-writer.ts';

export type OurTokenizer = ReturnType<typeof createTokenizer>;

/** Writes `kv` as a tensor-less GGUF in `dir` and opens it with both tokenizers. */
export async function loadBoth(
  llama: LlamaCpp,
  dir: string,
  name: string,
  kv: Record<string, GgufValue>,
): Promise<{ model: LlamaCppModel; ours: OurTokenizer }> {
  const path = join(dir, `${name}.gguf`);
  writeFileSync(path, serializeMetadataGguf(kv));
  const ours = createTokenizer(metadataObject(kv)); // first: a throw here must not leak a loaded model
  const model = await llama.loadModel(path, { vocabOnly: true });
  return { model, ours };
}

/** Every disagreement, as readable lines (empty when both agree on the whole corpus). */
export async function compareAll(model: LlamaCppModel, ours: OurTokenizer, texts: readonly string[] = COMPARISON_TEXTS): Promise<string[]> {
  const mismatches: string[] = [];
  for (const text of texts) {
    for (const parseSpecial of [false, true]) {
      const want = await model.tokenize(text, parseSpecial);
      const got = ours.encode(text, { parseSpecial });
      if (JSON.stringify(got) !== JSON.stringify(want))
        mismatches.push(`encode ${JSON.stringify(text)} special=${parseSpecial}\n  llama.cpp ${want}\n  ours      ${got}`);
      for (const special of [false, true]) {
        const wantText = await model.detokenize(want, special);
        const gotText = ours.decode(want, { special });
        if (gotText !== wantText)
          mismatches.push(`decode ${JSON.stringify(text)} special=${special}\n  llama.cpp ${JSON.stringify(wantText)}\n  ours      ${JSON.stringify(gotText)}`);
      }
    }
  }
  return mismatches;
}

/** The special ids both sides report: BOS, EOS, EOT and the end-of-generation set. */
export async function specialIds(model: LlamaCppModel, ours: OurTokenizer): Promise<{ ours: unknown; llama: unknown }> {
  const vocab = await model.vocab(ours.vocabSize);
  return {
    ours: { bos: ours.bos, eos: ours.eos, eot: ours.eot, eog: [...ours.stopIds].sort((a, b) => a - b) },
    llama: { bos: vocab.bos, eos: vocab.eos, eot: vocab.eot, eog: vocab.eog },
  };
}
