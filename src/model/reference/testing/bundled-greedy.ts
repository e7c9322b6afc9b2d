/**
 * The shipped model against llama.cpp on the same file: greedy 32-token continuations of fixed prompts,
 * for any backend (the CPU reference, the CPU engine, the WebGPU engine). Three prompts must continue exactly as
 * llama.cpp does. On more prompts a continuation may depart from llama.cpp's, but only where the
 * measured log-prob difference allows it: if ours and llama.cpp's log-probs differ by at most ε at a
 * position, an argmax can differ there only when llama.cpp's top-two gap is ≤ 2ε. The difference is
 * llama.cpp's: before each Q8_0 matmul it rounds the activations to Q8_0, where we keep them in f32
 * (docs/llama-cpp-reference.md). A backend that rounds them the same way (`exactOnAll`: the CPU reference with
 * emulateActivationQuant, the CPU engine with roundActivations) must continue every prompt exactly as
 * llama.cpp does, which shows that the rounding is the whole difference.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGguf } from '../../../gguf/reader.ts';
import { createTokenizer, type Tokenizer } from '../../tokenizer/index.ts';
import { compareLogProbs, createLlama, llamaGreedy, llamaLogProbs, type LlamaCpp, type LlamaCppModel } from './llama-ref.ts';
import { RECALL_ANSWER, RECALL_EXAMPLE } from '../../../ui/views/recall-example.ts';
import { samplerSettings, type SamplerSettings } from '../../../gpu/shaders/sampling/sampling.ts';

export const BUNDLED_MODEL = 'public/models/sparsescope-kjv-5m-q8_0.gguf';
export const GREEDY_TOKENS = 32;
/** Continuations that must equal llama.cpp's token for token. */
export const EXACT_PROMPTS = ['Honour thy father and thy mother', 'For God so loved the world', 'The heavens declare the glory of God'];
/** Continuations that may depart from llama.cpp's where the log-prob difference allows it (f32 activations). */
export const MORE_PROMPTS = ['In the beginning', 'Thus saith the LORD', 'And God said', 'The LORD is my shepherd', 'And it came to pass'];

export interface GreedyBackend {
  /** `n` greedy tokens after `prompt`. */
  greedy(prompt: number[], n: number): Promise<number[]>;
  /** Logits f32 [vocab] after each of `tokens` (one forward over the sequence). */
  logits(tokens: number[]): Promise<Float32Array[]>;
}

/** What an engine's session offers: feed tokens, then sample the next one (the RuntimeSession surface). */
interface SamplingSession {
  feedAndSample(tokens: readonly number[], sample: { settings: SamplerSettings; history: readonly number[]; step: number }): Promise<{ token: number }>;
  feed(tokens: readonly number[], o?: { allLogits?: boolean }): Promise<{ logits: Float32Array[] }>;
}

/** A GreedyBackend over an engine model: greedy draws through its own sampler, as the page samples. */
export function engineGreedyBackend(session: () => SamplingSession): GreedyBackend {
  const settings = samplerSettings({ temperature: 0 });
  return {
    greedy: async (prompt, n) => {
      const s = session();
      const history = [...prompt];
      let r = await s.feedAndSample(prompt, { settings, history, step: 0 });
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        out.push(r.token);
        history.push(r.token);
        if (i + 1 < n) r = await s.feedAndSample([r.token], { settings, history, step: i + 1 });
      }
      return out;
    },
    logits: async (tokens) => (await session().feed(tokens, { allLogits: true })).logits,
  };
}

export interface GreedyComparison {
  prompt: string;
  ours: number[];
  theirs: number[];
  /** Index of the first differing generated token, or -1. */
  firstDiff: number;
  /** max |Δ log p| over llama.cpp's own sequence (prompt + its continuation), every position and token. */
  maxDelta: number;
  /** At firstDiff: llama.cpp's log p(its token) − log p(ours), and the |Δ log p| bound ε at that position. */
  gap?: number;
  deltaThere?: number;
  text: string;
}

export async function bundledTokenizer(): Promise<Tokenizer> {
  const f = await openGguf({ kind: 'path', path: BUNDLED_MODEL });
  try {
    return createTokenizer(f.metadata);
  } finally {
    await f.close();
  }
}

export async function compareGreedy(ll: LlamaCppModel, tok: Tokenizer, backend: GreedyBackend, prompt: string): Promise<GreedyComparison> {
  // As llama.cpp and the CLI make prompt ids: BOS when the file asks for it.
  const ids = tok.encode(prompt, { addSpecial: true, parseSpecial: true });
  const theirs = await llamaGreedy(ll, ids, GREEDY_TOKENS);
  const ours = await backend.greedy(ids, GREEDY_TOKENS);
  const firstDiff = theirs.findIndex((t, i) => t !== ours[i]);
  // Both sides on llama.cpp's sequence; row i is the distribution of token i + 1.
  const seq = [...ids, ...theirs.slice(0, -1)];
  const theirLp = await llamaLogProbs(ll, seq);
  const cmp = compareLogProbs(await backend.logits(seq), theirLp);
  const out: GreedyComparison = { prompt, ours, theirs, firstDiff, maxDelta: cmp.max, text: tok.decode(theirs) };
  if (firstDiff >= 0) {
    const row = ids.length - 1 + firstDiff;
    out.gap = theirLp[row][theirs[firstDiff]] - theirLp[row][ours[firstDiff]];
    out.deltaThere = cmp.perPosition[row];
  }
  return out;
}

export function describeComparison(c: GreedyComparison, backend: string): string {
  const where =
    c.firstDiff < 0
      ? 'identical'
      : `first difference at token ${c.firstDiff}: llama.cpp's top-two gap ${c.gap!.toFixed(4)} ≤ 2ε = ${(2 * c.deltaThere!).toFixed(4)}`;
  return `${backend} vs llama.cpp, "${c.prompt}": greedy ${GREEDY_TOKENS} ${where}; max |Δ log p| ${c.maxDelta.toFixed(4)} — ${JSON.stringify(c.text.slice(0, 60))}`;
}

/**
 * The whole check as a vitest suite for one backend: `open` makes the backend (and says how to close it).
 * EXACT_PROMPTS must be identical; on MORE_PROMPTS any departure must be one ε allows, or, with
 * `exactOnAll` (a backend that rounds activations as llama.cpp does), none at all.
 */
export function bundledModelSuite(backendName: string, open: () => Promise<GreedyBackend & { close(): void }>, options: { exactOnAll?: boolean } = {}): void {
  let llama: LlamaCpp;
  let ll: LlamaCppModel;
  let tok: Tokenizer;
  let backend: GreedyBackend & { close(): void };
  beforeAll(async () => {
    llama = await createLlama();
    ll = await llama.loadModel(BUNDLED_MODEL);
    tok = await bundledTokenizer();
    backend = await open();
  });
  afterAll(async () => {
    backend?.close();
    await ll?.dispose();
    await llama?.close();
  });

  describe(`the bundled model on ${backendName} = llama.cpp`, () => {
    for (const prompt of EXACT_PROMPTS) {
      it(`"${prompt}": the greedy continuation is identical`, async () => {
        const c = await compareGreedy(ll, tok, backend, prompt);
        console.log(describeComparison(c, backendName));
        expect(c.ours).toEqual(c.theirs);
      });
    }
    it(options.exactOnAll ? 'more prompts: identical too' : 'more prompts: any departure is one the log-prob difference allows', async () => {
      const departed: string[] = [];
      for (const prompt of MORE_PROMPTS) {
        const c = await compareGreedy(ll, tok, backend, prompt);
        console.log(describeComparison(c, backendName));
        if (c.firstDiff < 0) continue;
        departed.push(prompt);
        // llama.cpp's own margin between its token and ours is within what the measured difference can swap.
        expect(c.gap!).toBeLessThanOrEqual(2 * c.deltaThere!);
      }
      if (options.exactOnAll) expect(departed).toEqual([]);
    });
    it("answers the classroom's recall example with its number, as llama.cpp does", async () => {
      // A fact, ~250 tokens of held-out scripture, the question: more tokens than the indexer's top-k.
      const ids = tok.encode(RECALL_EXAMPLE, { addSpecial: true, parseSpecial: true });
      const n = tok.encode(RECALL_ANSWER + '.', { addSpecial: false }).length;
      const theirs = await llamaGreedy(ll, ids, n);
      const ours = await backend.greedy(ids, n);
      console.log(
        `${backendName}: recall example (${ids.length} tokens) → ${JSON.stringify(tok.decode(ours))}; llama.cpp ${JSON.stringify(tok.decode(theirs))}`,
      );
      expect(tok.decode(ours)).toBe(RECALL_ANSWER + '.');
      expect(ours).toEqual(theirs);
    });
  });
}
