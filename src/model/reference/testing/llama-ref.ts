/**
 * Test helpers: llama.cpp (node-llama-cpp, CPU, F32 KV cache, no flash attention — DESIGN.md §3) and
 * our reference on the same GGUF file.
 */
import { getLlama, type Llama, type LlamaModel } from 'node-llama-cpp';
import { openGguf } from '../../../gguf/reader.ts';
import { ReferenceModel } from '../forward.ts';
import { loadReferenceModelData } from '../weights.ts';

export async function createLlama(): Promise<Llama> {
  return getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: 'error' as never, logger: () => {} });
}

async function withContext<T>(model: LlamaModel, n: number, fn: (seq: ReturnType<Awaited<ReturnType<LlamaModel['createContext']>>['getSequence']>) => Promise<T>): Promise<T> {
  const ctx = await model.createContext({
    contextSize: Math.max(64, n),
    batchSize: Math.max(64, n),
    flashAttention: false,
    threads: 1,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  } as never);
  try {
    return await fn(ctx.getSequence());
  } finally {
    await ctx.dispose();
  }
}

/** llama.cpp's log-probabilities at every position (one prefill batch). */
export async function llamaLogProbs(model: LlamaModel, tokens: number[]): Promise<Float64Array[]> {
  return withContext(model, tokens.length + 8, async (seq) => {
    const res = await seq.controlledEvaluate(tokens.map((t) => [t, { generateNext: { probabilities: true, options: { temperature: 0 } } }]) as never);
    return (res as unknown as { next: { probabilities: Map<number, number> } }[]).map((r) => {
      const lp = new Float64Array(r.next.probabilities.size);
      for (const [t, p] of r.next.probabilities) lp[t] = Math.log(p);
      return lp;
    });
  });
}

/** llama.cpp's log-probabilities, feeding one token per evaluation (decode path instead of prefill). */
export async function llamaLogProbsSequential(model: LlamaModel, tokens: number[]): Promise<Float64Array[]> {
  return withContext(model, tokens.length + 8, async (seq) => {
    const out: Float64Array[] = [];
    for (const t of tokens) {
      const res = await seq.controlledEvaluate([[t, { generateNext: { probabilities: true, options: { temperature: 0 } } }]] as never);
      const p = (res as unknown as { next: { probabilities: Map<number, number> } }[])[0].next.probabilities;
      const lp = new Float64Array(p.size);
      for (const [id, pr] of p) lp[id] = Math.log(pr);
      out.push(lp);
    }
    return out;
  });
}

/** llama.cpp's greedy continuation of `prompt` (n new tokens, stopping at none). */
export async function llamaGreedy(model: LlamaModel, prompt: number[], n: number): Promise<number[]> {
  return withContext(model, prompt.length + n + 8, async (seq) => {
    const out: number[] = [];
    let input = prompt;
    for (let i = 0; i < n; i++) {
      const res = await seq.controlledEvaluate(input.map((t, j) => (j === input.length - 1 ? [t, { generateNext: { token: true, options: { temperature: 0 } } }] : t)) as never);
      const next = (res as unknown as ({ next?: { token?: number } } | undefined)[])[input.length - 1]?.next?.token;
      if (next === undefined || next === null) throw new Error('llama.cpp returned no token');
      out.push(Number(next));
      input = [Number(next)];
    }
    return out;
  });
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

/** Greedy continuation with our reference (argmax, ties to the lower id). */
export function referenceGreedy(model: ReferenceModel, prompt: number[], n: number, indexTopK?: number): number[] {
  const s = model.session(indexTopK === undefined ? {} : { indexTopK });
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
