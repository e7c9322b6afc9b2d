/**
 * llama.cpp, the numerical reference, in a child process of its own (child.ts) running the
 * reference build (binaries.ts). Tests and the bench talk to it through this client.
 *
 * Why a process: when llama.cpp aborts (a GGML_ASSERT), it ends the whole process. In-process that
 * was a dead vitest worker and every test of the file lost; here the pending calls reject with a
 * LlamaCppAborted that names the assert, the CPU variant and the call.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareReferenceBuild, type ReferenceBuild } from './binaries.ts';
import type { LlamaCppHello, LlamaCppOp, LlamaCppOps, LlamaCppReply } from './protocol.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../../..');

/** llama.cpp's process ended while calls were pending (an abort inside llama.cpp, or a crash). */
export class LlamaCppAborted extends Error {
  override name = 'LlamaCppAborted';
  constructor(
    message: string,
    /** the last lines llama.cpp wrote to stderr (where ggml prints its assert) */
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface LlamaCppOptions {
  /** CPU variants to leave out of the build (default: binaries.ts's EXCLUDED_CPU_VARIANTS; [] = ggml's own choice) */
  exclude?: readonly string[];
}

export class LlamaCpp {
  private nextId = 1;
  private readonly pending = new Map<number, { op: LlamaCppOp; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private stderrTail = '';
  private ended: LlamaCppAborted | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly build: ReferenceBuild,
    /** the ggml CPU variant the child loaded (null where it cannot be read) */
    public cpuVariant: string | null = null,
  ) {}

  static async start(o: LlamaCppOptions = {}): Promise<LlamaCpp> {
    const build = prepareReferenceBuild({ exclude: o.exclude });
    const child = fork(join(HERE, 'child.ts'), [], {
      cwd: REPO,
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced', // Float64Array log-probs travel as typed arrays
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, SPARSESCOPE_LLAMA_PACKAGE_DIR: build.packageDir, SPARSESCOPE_LLAMA_PACKAGE_NAME: build.packageName },
    });
    const ll = new LlamaCpp(child, build);
    return ll.handshake();
  }

  private handshake(): Promise<LlamaCpp> {
    const child = this.child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-8192);
    });
    return new Promise((resolveStart, rejectStart) => {
      let started = false;
      child.on('message', (m: LlamaCppHello | LlamaCppReply) => {
        if ('ready' in m) {
          started = true;
          this.cpuVariant = m.cpuVariant;
          resolveStart(this);
          return;
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`llama.cpp ${p.op}: ${m.error}`));
      });
      child.on('exit', (code, signal) => {
        // let the last stderr bytes arrive before naming the cause
        setImmediate(() => {
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          const cause = /GGML_ASSERT\([^\n]*|GGML_ABORT[^\n]*|[^\n]*error[^\n]*/i.exec(this.stderrTail)?.[0]?.trim();
          const ops = [...this.pending.values()].map((p) => p.op);
          const err = new LlamaCppAborted(
            `llama.cpp's process ${how}${started ? '' : ' while starting'}${ops.length ? ` during ${ops.join(', ')}` : ''} ` +
              `(ggml CPU variant ${this.cpuVariant ?? 'unknown'}; build ${this.build.packageDir})${cause ? `: ${cause}` : ''}`,
            this.stderrTail,
          );
          this.ended = err;
          for (const p of this.pending.values()) p.reject(err);
          this.pending.clear();
          if (!started) rejectStart(err);
        });
      });
    });
  }

  call<K extends LlamaCppOp>(op: K, args: LlamaCppOps[K]['args']): Promise<LlamaCppOps[K]['result']> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.pending.set(id, { op, resolve: res as (v: unknown) => void, reject: rej });
      this.child.send({ id, op, args });
    });
  }

  async loadModel(path: string, o: { vocabOnly?: boolean } = {}): Promise<LlamaCppModel> {
    const { model, seconds } = await this.call('load', { path, vocabOnly: o.vocabOnly });
    return new LlamaCppModel(this, model, seconds);
  }

  /** Ends the child (its models with it). */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** One GGUF loaded in llama.cpp. */
export class LlamaCppModel {
  constructor(
    private readonly ll: LlamaCpp,
    readonly handle: number,
    /** seconds llama.cpp took to load it */
    readonly loadSeconds: number,
  ) {}

  tokenize(text: string, special = false): Promise<number[]> {
    return this.ll.call('tokenize', { model: this.handle, text, special });
  }
  detokenize(tokens: number[], special = false): Promise<string> {
    return this.ll.call('detokenize', { model: this.handle, tokens, special });
  }
  vocab(vocabSize: number): Promise<LlamaCppOps['vocab']['result']> {
    return this.ll.call('vocab', { model: this.handle, vocabSize });
  }
  /** log-probabilities of the next token at every position, in one prefill batch */
  logProbs(tokens: number[]): Promise<Float64Array[]> {
    return this.ll.call('logProbs', { model: this.handle, tokens });
  }
  /** the same, one token per evaluation (llama.cpp's decode path) */
  logProbsSequential(tokens: number[]): Promise<Float64Array[]> {
    return this.ll.call('logProbs', { model: this.handle, tokens, sequential: true });
  }
  /** greedy continuation of `prompt`: n new tokens, stopping at none */
  greedy(prompt: number[], n: number): Promise<number[]> {
    return this.ll.call('greedy', { model: this.handle, prompt, n });
  }
  bench(args: Omit<LlamaCppOps['bench']['args'], 'model'>): Promise<LlamaCppOps['bench']['result']> {
    return this.ll.call('bench', { model: this.handle, ...args });
  }
  dispose(): Promise<void> {
    return this.ll.call('dispose', { model: this.handle });
  }
}
