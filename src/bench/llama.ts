/**
 * llama.cpp (node-llama-cpp, CPU build, DESIGN.md §3) on the same GGUF: load, prompt eval of `context`
 * tokens in one call, then `decode` generated tokens (greedy), each timed as a whole.
 */
import { getLlama, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';

export interface LlamaFigures {
  loadSeconds: number;
  threads: number;
  runs: { context: number; prefillTokPerS: number; decodeTokPerS: number }[];
}

let llamaPromise: Promise<Llama> | undefined;
function llama(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: 'error' as never, logger: () => {} });
  return llamaPromise;
}

export async function benchLlama(path: string, o: { contexts: number[]; decode: number; tokens: (n: number) => number[]; threads: number }): Promise<LlamaFigures> {
  const l = await llama();
  const t0 = performance.now();
  const model: LlamaModel = await l.loadModel({ modelPath: path, gpuLayers: 0 });
  const loadSeconds = (performance.now() - t0) / 1000;
  const runs: LlamaFigures['runs'] = [];
  try {
    const maxCtx = Math.max(...o.contexts) + o.decode + 8;
    const ctx = await model.createContext({ contextSize: maxCtx, batchSize: Math.min(512, maxCtx), threads: o.threads } as never);
    try {
      // warm-up: a short prompt and a few tokens (first-use allocations)
      {
        const seq = ctx.getSequence();
        await seq.evaluateWithoutGeneratingNewTokens(o.tokens(32) as Token[]);
        seq.dispose();
      }
      for (const context of o.contexts) {
        const seq = ctx.getSequence();
        const prompt = o.tokens(context) as Token[];
        const p0 = performance.now();
        await seq.evaluateWithoutGeneratingNewTokens(prompt);
        const prefillS = (performance.now() - p0) / 1000;
        // decode: each yield is one evaluated token (the first feeds the prompt's next token)
        const d0 = performance.now();
        let n = 0;
        for await (const _ of seq.evaluate([prompt[0]], { temperature: 0 })) {
          void _;
          if (++n >= o.decode) break;
        }
        const decodeS = (performance.now() - d0) / 1000;
        runs.push({ context, prefillTokPerS: context / prefillS, decodeTokPerS: o.decode / decodeS });
        seq.dispose();
      }
    } finally {
      await ctx.dispose();
    }
  } finally {
    await model.dispose();
  }
  return { loadSeconds, threads: o.threads, runs };
}
