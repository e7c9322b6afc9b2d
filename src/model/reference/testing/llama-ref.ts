/**
 * Test helpers: llama.cpp (node-llama-cpp, CPU, F32 KV cache, no flash attention, in a child process:
 * ../llama-cpp/, docs/llama-cpp-reference.md) and our reference on the same GGUF file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openGguf } from '../../../gguf/reader.ts';
import { ReferenceModel } from '../forward.ts';
import { LlamaCpp, type LlamaCppModel } from '../llama-cpp/client.ts';
import { describeBuild } from '../llama-cpp/binaries.ts';
import { loadReferenceModelData } from '../weights.ts';

export type { LlamaCpp, LlamaCppModel };

/** llama.cpp in its own process, on the reference build (its one pinned CPU variant); close() it after use. */
export async function createLlama(): Promise<LlamaCpp> {
  const ll = await LlamaCpp.start();
  console.log(`llama.cpp reference: ggml CPU variant ${ll.cpuVariant ?? 'unknown'} (${describeBuild(ll.build)})`);
  return ll;
}

/**
 * A llama.cpp comparison suite's setup: llama.cpp started before the file's tests and a temporary
 * folder for its fixtures, both gone after them. `llama` and `dir` are valid inside tests.
 */
export function llamaSuite(prefix: string): { readonly llama: LlamaCpp; readonly dir: string } {
  let llama: LlamaCpp | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    llama = await createLlama();
    dir = mkdtempSync(join(tmpdir(), `sparsescope-${prefix}-`));
  });
  afterAll(async () => {
    await llama?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get llama() {
      if (!llama) throw new Error('llamaSuite: llama.cpp is started in beforeAll');
      return llama;
    },
    get dir() {
      if (!dir) throw new Error('llamaSuite: the folder is made in beforeAll');
      return dir;
    },
  };
}

/** llama.cpp's log-probabilities at every position (one prefill batch). */
export function llamaLogProbs(model: LlamaCppModel, tokens: number[]): Promise<Float64Array[]> {
  return model.logProbs(tokens);
}

/** llama.cpp's log-probabilities, feeding one token per evaluation (decode path instead of prefill). */
export function llamaLogProbsSequential(model: LlamaCppModel, tokens: number[]): Promise<Float64Array[]> {
  return model.logProbsSequential(tokens);
}

/** llama.cpp's greedy continuation of `prompt` (n new tokens, stopping at none). */
export function llamaGreedy(model: LlamaCppModel, prompt: number[], n: number): Promise<number[]> {
  return model.greedy(prompt, n);
}

export async function loadReference(path: string, options: { emulateActivationQuant?: boolean } = {}): Promise<{ model: ReferenceModel }> {
  const f = await openGguf({ kind: 'path', path });
  try {
    const { config, weights } = await loadReferenceModelData(f, options);
    return { model: new ReferenceModel(config, weights) };
  } finally {
    await f.close();
  }
}

export function logSoftmax(logits: Float32Array): Float64Array {
  let m = -Infinity;
  for (const v of logits) if (v > m) m = v;
  let s = 0;
  for (const v of logits) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return Float64Array.from(logits, (v) => v - lse);
}

/** A reference's greedy continuation (argmax, ties to the lower id), one session; any reference (MLA or dense). */
export function referenceGreedy(
  model: Pick<ReferenceModel, 'session'> | { session(): { step(t: number): { logits: Float32Array } } },
  prompt: number[],
  n: number,
  indexTopK?: number,
): number[] {
  const s = (model as ReferenceModel).session(indexTopK === undefined ? {} : { indexTopK });
  let logits: Float32Array = new Float32Array(0);
  for (const t of prompt) logits = s.step(t).logits;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    out.push(best);
    if (i + 1 < n) logits = s.step(best).logits;
  }
  return out;
}

/** max and mean |Δ| of log-softmax over all positions and the whole vocab. */
export function compareLogProbs(ours: Float32Array[], theirs: Float64Array[]): { max: number; mean: number; perPosition: number[] } {
  let max = 0;
  let sum = 0;
  let n = 0;
  const perPosition = ours.map((l, i) => {
    const a = logSoftmax(l);
    const b = theirs[i];
    let pmax = 0;
    for (let v = 0; v < a.length; v++) {
      // probabilities that underflow in llama.cpp's f32 softmax give -Infinity; skip those
      if (!Number.isFinite(b[v])) continue;
      const d = Math.abs(a[v] - b[v]);
      if (d > pmax) pmax = d;
      sum += d;
      n++;
    }
    if (pmax > max) max = pmax;
    return pmax;
  });
  return { max, mean: sum / Math.max(n, 1), perPosition };
}
