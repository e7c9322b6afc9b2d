/**
 * Requests the test process sends to the llama.cpp child process (child.ts) and their results.
 * One table, so the client's methods and the child's handlers cannot drift apart.
 */
export interface LlamaCppOps {
  /** load a GGUF (vocabOnly: tokenizer only, no weights) → model handle */
  load: { args: { path: string; vocabOnly?: boolean }; result: { model: number; seconds: number } };
  dispose: { args: { model: number }; result: void };
  tokenize: { args: { model: number; text: string; special?: boolean }; result: number[] };
  detokenize: { args: { model: number; tokens: number[]; special?: boolean }; result: string };
  /** bos/eos/eot ids (null when absent) and the ids llama.cpp treats as end of generation */
  vocab: { args: { model: number; vocabSize: number }; result: { bos: number | null; eos: number | null; eot: number | null; eog: number[] } };
  /** log-probabilities of the next token at every position: one prefill batch, or one token per evaluation */
  logProbs: { args: { model: number; tokens: number[]; sequential?: boolean }; result: Float64Array[] };
  /** greedy continuation: n new tokens, none treated as a stop */
  greedy: { args: { model: number; prompt: number[]; n: number }; result: number[] };
  /** timings for the bench: prompt eval of each prompt in one call, then `decode` greedy tokens */
  /** end the process as an abort inside llama.cpp does (SIGABRT): tests the client's report on every CPU */
  abort: { args: { message: string }; result: never };
  bench: {
    args: { model: number; warmup: number[]; prompts: number[][]; decode: number; threads: number };
    result: { prefillSeconds: number; decodeSeconds: number }[];
  };
}

export type LlamaCppOp = keyof LlamaCppOps;

export type LlamaCppRequest = { [K in LlamaCppOp]: { id: number; op: K; args: LlamaCppOps[K]['args'] } }[LlamaCppOp];

export type LlamaCppReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** The child's first message: which CPU variant of ggml it loaded. */
export interface LlamaCppHello {
  ready: true;
  /** e.g. `icelake`, read from the libraries mapped into the process; null where it cannot be seen */
  cpuVariant: string | null;
}
