/**
 * llama.cpp (node-llama-cpp, CPU build, in its own process: src/model/reference/llama-cpp/) on the
 * same GGUF: load, prompt eval of `context` tokens in one call, then `decode` generated tokens
 * (greedy), each timed as a whole inside llama.cpp's process.
 */
import { LlamaCpp } from '../model/reference/llama-cpp/client.ts';
import { EXCLUDED_CPU_VARIANTS } from '../model/reference/llama-cpp/binaries.ts';

export interface LlamaFigures {
  loadSeconds: number;
  threads: number;
  /** the ggml CPU variant llama.cpp ran (null where it cannot be read) */
  cpuVariant: string | null;
  runs: { context: number; prefillTokPerS: number; decodeTokPerS: number }[];
}

export async function benchLlama(
  path: string,
  o: { contexts: number[]; decode: number; tokens: (n: number) => number[]; threads: number },
): Promise<LlamaFigures> {
  // timed as people run it: ggml's own choice of CPU variant (the tests pin one; AMX still aborts on deepseek32)
  const ll = await LlamaCpp.start({ exclude: EXCLUDED_CPU_VARIANTS });
  try {
    const model = await ll.loadModel(path);
    const timed = await model.bench({ warmup: o.tokens(32), prompts: o.contexts.map((c) => o.tokens(c)), decode: o.decode, threads: o.threads });
    const runs = o.contexts.map((context, i) => ({
      context,
      prefillTokPerS: context / timed[i].prefillSeconds,
      decodeTokPerS: o.decode / timed[i].decodeSeconds,
    }));
    return { loadSeconds: model.loadSeconds, threads: o.threads, cpuVariant: ll.cpuVariant, runs };
  } finally {
    await ll.close();
  }
}
