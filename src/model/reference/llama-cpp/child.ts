/**
 * The llama.cpp child process: node-llama-cpp (CPU, F32 KV cache, no flash attention) behind the
 * request table of protocol.ts, over the IPC channel of `fork`. It runs apart from the tests so that
 * an abort inside llama.cpp (a GGML_ASSERT) ends this process, not the test worker, and the client
 * can name the cause. Started by client.ts with the reference build's package (binaries.ts) in
 * SPARSESCOPE_LLAMA_PACKAGE_DIR / _NAME.
 */
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LlamaCppHello, LlamaCppOps, LlamaCppReply, LlamaCppRequest } from './protocol.ts';

const packageDir = process.env.SPARSESCOPE_LLAMA_PACKAGE_DIR;
const packageName = process.env.SPARSESCOPE_LLAMA_PACKAGE_NAME;
if (!packageDir || !packageName || !process.send) throw new Error('child.ts is started by client.ts (fork with an IPC channel)');
register('./resolve-hooks.mjs', import.meta.url, { data: { packageName, indexUrl: pathToFileURL(join(packageDir, 'dist', 'index.js')).href } });

const { getLlama } = await import('node-llama-cpp');
type Llama = Awaited<ReturnType<typeof getLlama>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type Sequence = ReturnType<Awaited<ReturnType<LlamaModel['createContext']>>['getSequence']>;
type NextProbs = { next: { probabilities: Map<number, number> } }[];

const llama: Llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: 'error' as never, logger: () => {} });
const models = new Map<number, LlamaModel>();
let nextModel = 1;

/** The ggml CPU variant mapped into this process (Linux), e.g. `libggml-cpu-icelake.so` → `icelake`. */
function loadedCpuVariant(): string | null {
  try {
    return /libggml-cpu-([\w-]+)\.so/.exec(readFileSync('/proc/self/maps', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

function model(id: number): LlamaModel {
  const m = models.get(id);
  if (!m) throw new Error(`no loaded model ${id}`);
  return m;
}

async function withSequence<T>(m: LlamaModel, n: number, fn: (seq: Sequence) => Promise<T>, threads = 1): Promise<T> {
  const ctx = await m.createContext({
    contextSize: Math.max(64, n),
    batchSize: Math.max(64, Math.min(n, 2048)),
    flashAttention: false,
    threads,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  } as never);
  try {
    return await fn(ctx.getSequence());
  } finally {
    await ctx.dispose();
  }
}

function logProbsOf(p: Map<number, number>): Float64Array {
  const lp = new Float64Array(p.size);
  for (const [t, pr] of p) lp[t] = Math.log(pr);
  return lp;
}

const probs = (t: number) => [t, { generateNext: { probabilities: true, options: { temperature: 0 } } }];

const handlers: { [K in keyof LlamaCppOps]: (a: LlamaCppOps[K]['args']) => Promise<LlamaCppOps[K]['result']> } = {
  async load({ path, vocabOnly }) {
    const t0 = performance.now();
    const m = await llama.loadModel({ modelPath: path, vocabOnly: vocabOnly ?? false, gpuLayers: 0 });
    const id = nextModel++;
    models.set(id, m);
    return { model: id, seconds: (performance.now() - t0) / 1000 };
  },
  async dispose({ model: id }) {
    await models.get(id)?.dispose();
    models.delete(id);
  },
  async tokenize({ model: id, text, special }) {
    return Array.from(model(id).tokenize(text, special ?? false), Number);
  },
  async detokenize({ model: id, tokens, special }) {
    return model(id).detokenize(tokens as never, special ?? false);
  },
  async vocab({ model: id, vocabSize }) {
    const m = model(id);
    const eog: number[] = [];
    for (let t = 0; t < vocabSize; t++) if (m.isEogToken(t as never)) eog.push(t);
    const num = (t: unknown) => (t === null || t === undefined ? null : Number(t));
    return { bos: num(m.tokens.bos), eos: num(m.tokens.eos), eot: num(m.tokens.eot), eog };
  },
  async logProbs({ model: id, tokens, sequential }) {
    return withSequence(model(id), tokens.length + 8, async (seq) => {
      if (!sequential) {
        const res = (await seq.controlledEvaluate(tokens.map(probs) as never)) as unknown as NextProbs;
        return res.map((r) => logProbsOf(r.next.probabilities));
      }
      const out: Float64Array[] = [];
      for (const t of tokens) {
        const res = (await seq.controlledEvaluate([probs(t)] as never)) as unknown as NextProbs;
        out.push(logProbsOf(res[0].next.probabilities));
      }
      return out;
    });
  },
  async greedy({ model: id, prompt, n }) {
    return withSequence(model(id), prompt.length + n + 8, async (seq) => {
      const out: number[] = [];
      let input = prompt;
      for (let i = 0; i < n; i++) {
        const res = await seq.controlledEvaluate(
          input.map((t, j) => (j === input.length - 1 ? [t, { generateNext: { token: true, options: { temperature: 0 } } }] : t)) as never,
        );
        const next = (res as unknown as ({ next?: { token?: number } } | undefined)[])[input.length - 1]?.next?.token;
        if (next === undefined || next === null) throw new Error('llama.cpp returned no token');
        out.push(Number(next));
        input = [Number(next)];
      }
      return out;
    });
  },
  async abort({ message }) {
    process.stderr.write(`${message}\n`);
    process.abort();
  },
  async bench({ model: id, warmup, prompts, decode, threads }) {
    const m = model(id);
    const longest = Math.max(warmup.length, ...prompts.map((p) => p.length));
    // default context settings (F16 cache, flash attention as llama.cpp chooses): the bench times
    // llama.cpp as people run it, not the comparison configuration
    const ctx = await m.createContext({ contextSize: longest + decode + 8, batchSize: Math.min(512, longest + decode + 8), threads } as never);
    try {
      {
        const seq = ctx.getSequence();
        await seq.evaluateWithoutGeneratingNewTokens(warmup as never); // first-use allocations
        seq.dispose();
      }
      const out: { prefillSeconds: number; decodeSeconds: number }[] = [];
      for (const prompt of prompts) {
        const seq = ctx.getSequence();
        const p0 = performance.now();
        await seq.evaluateWithoutGeneratingNewTokens(prompt as never);
        const prefillSeconds = (performance.now() - p0) / 1000;
        // decode: each yield is one evaluated token (the first feeds the prompt's next token)
        const d0 = performance.now();
        let k = 0;
        for await (const _ of seq.evaluate([prompt[0]] as never, { temperature: 0 })) {
          void _;
          if (++k >= decode) break;
        }
        out.push({ prefillSeconds, decodeSeconds: (performance.now() - d0) / 1000 });
        seq.dispose();
      }
      return out;
    } finally {
      await ctx.dispose();
    }
  },
};

process.on('message', (msg: LlamaCppRequest) => {
  const handler = handlers[msg.op] as (a: unknown) => Promise<unknown>;
  handler(msg.args).then(
    (result) => process.send!({ id: msg.id, ok: true, result } satisfies LlamaCppReply),
    (e: unknown) => process.send!({ id: msg.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) } satisfies LlamaCppReply),
  );
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, cpuVariant: loadedCpuVariant() } satisfies LlamaCppHello);
