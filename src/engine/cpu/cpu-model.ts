/**
 * The CPU backend: the reference forward (src/model/reference/forward.ts) over the file's own GGUF
 * blocks (QuantWeights: matmuls straight over the quantized rows, split over a pool of threads),
 * behind the same session surface ModelRuntime drives (feed, feed-and-sample), with sampling by the
 * GPU sampler's CPU twin (sampleRef), so one seed draws the same tokens on both backends. A feed of
 * several tokens runs as chunks (ReferenceSession.steps): each weight row is read once per chunk.
 * Memory: the tensors' file bytes (as stored) plus the caches; only norms and biases become f32.
 */
import type { GgufFile } from '../../gguf/reader.ts';
import { assertFiniteTensor } from '../../gguf/codecs/finite.ts';
import { blockLayout, typeName } from '../../gguf/types.ts';
import type { ModelConfig } from '../../model/config.ts';
import { checkModelTensors, describeModel, type DenseModelConfig } from '../../model/architectures/index.ts';
import { ReferenceModel, type ReferenceSession, type TokenTrace } from '../../model/reference/forward.ts';
import { DenseTransformerReference, type DenseTransformerSession } from '../../model/reference/parts/dense-transformer.ts';
import { checkOracleTopK } from '../../model/reference/oracle-topk.ts';
import { memoryLimit } from '../../model/reference/weights.ts';
import { sampleRef } from '../../gpu/shaders/sampling/sampling.ref.ts';
import { SparseScopeError } from '../../errors.ts';
import type { RuntimeModel, RuntimeSession, SampleRequest, SessionOptions } from '../runtime-model.ts';
import { makeRowKernels, STAGING_BYTES, type WeightView } from './kernels/row-kernels.ts';
import { arenaBytes, createSimdArena, type SimdArena } from './wasm/simd-arena.ts';
import { MAX_PAGES } from './wasm/simd-kernels.ts';
import { canShareMemory, RowPool } from './pool/row-pool.ts';
import { QuantWeights } from './quant-weights.ts';
import { attentionRegion, attentionRegionBytes, SimdAttention, simdAttentionFits, type AttentionRegion } from './simd-attention.ts';

export interface CpuLoadOptions {
  /** Positions a session may hold; default min(file context, 4096), as WebGpuModel. */
  contextSize?: number;
  /**
   * Threads that split each matmul's rows (the calling thread included); default the machine's
   * cores (os.availableParallelism / navigator.hardwareConcurrency), at most MAX_DEFAULT_THREADS.
   * 1, or no SharedArrayBuffer (a page that is not cross-origin isolated): the calling thread alone.
   */
  threads?: number;
  /** Bytes the model may hold; default SPARSESCOPE_CPU_MEMORY_LIMIT, else total memory (Node), else none. */
  memoryLimitBytes?: number;
  onProgress?: (p: { loadedBytes: number; totalBytes: number; tensor: string }) => void;
  signal?: AbortSignal;
  /**
   * Round matmul inputs as llama.cpp's CPU matmuls do (Q8_0 / Q8_K blocks, F16, BF16 by weight type).
   * Default: as the WebGPU graph of the family does, so both backends compute the same thing: on for
   * the dense families, off for the MLA ones (their GPU graph would pay a dispatch per rounded input).
   */
  roundActivations?: boolean;
  /**
   * Run the dots of Q8_0, Q4_K, Q6_K, Q5_0 and F32 weights in WebAssembly SIMD (../wasm/simd-kernels.ts),
   * the weights and scratch in one WebAssembly memory; default true. Where the engine has no SIMD or
   * refuses the memory, the TypeScript kernels run (`model.simd` false, `simdUnavailable` says why).
   */
  simd?: boolean;
  /**
   * The largest WebAssembly memory the SIMD kernels may hold (default wasm32's 4 GiB). A model whose
   * weights and scratch do not fit keeps its weights in ordinary buffers and streams them through a
   * 64 KiB staging block per thread (`model.simdStaged`); tests set it low to run that path.
   */
  simdMemoryBytes?: number;
}

/** Tokens per prefill chunk: the forward's activations for a chunk stay small, and a feed yields between chunks. */
export const PREFILL_CHUNK = 64;
export const MAX_DEFAULT_THREADS = 8;
const READ_SLICE = 64 * 2 ** 20;
const GB = 1e9;

export async function defaultThreads(): Promise<number> {
  let n = 1;
  if (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) n = navigator.hardwareConcurrency;
  else if (typeof process !== 'undefined' && process.versions?.node) {
    const os = await import('node:os');
    n = os.availableParallelism?.() ?? os.cpus().length;
  }
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, n));
}

/** Floats of the matmul scratch: one chunk of inputs and outputs of the widest activation, plus one logits pass. */
function scratchFloats(c: ModelConfig | DenseModelConfig): number {
  if ('family' in c) {
    // dense: the widest of the residual, the FFN, q and k/v; the forward feeds one token at a time
    const widest = Math.max(c.embd, c.ffn, c.qDim, c.headsKv * c.headDim);
    return 2 * Math.max(widest, c.vocab) + 2 * widest;
  }
  const { embd: E, heads: H, qkNope: N, qkRope: R, vHead: Vd, kvLoraRank: L } = c;
  const widest = Math.max(
    E,
    c.ffn,
    c.moe ? c.moe.ffx * Math.max(1, c.moe.shared) : 0,
    c.moe?.experts ?? 0,
    H * (N + R),
    H * L,
    H * (N + Vd),
    c.qLoraRank,
    L + R,
    c.indexer ? c.indexer.heads * c.indexer.keyLength : 0,
  );
  return 2 * Math.max(widest, c.vocab) + PREFILL_CHUNK * 2 * widest;
}

/** Cache bytes of one session at `capacity` positions (f32 per cached value). */
function cacheBytes(c: ModelConfig | DenseModelConfig, capacity: number): number {
  // dense GQA: roped keys and values of every kv head
  if ('family' in c) return c.layers * capacity * 2 * c.headsKv * c.headDim * 4;
  const perPos = c.mla === 'absorbed' ? c.kvLoraRank + c.qkRope : c.qkRope + c.heads * (c.qkNope + c.vHead);
  return c.layers * capacity * (perPos + (c.indexer?.keyLength ?? 0)) * 4;
}

export class CpuModel implements RuntimeModel {
  readonly backend = 'cpu';
  readonly hasTimestamps = false;

  private constructor(
    /** the MLA families' ModelConfig, or a dense family's DenseModelConfig (family: 'dense') */
    readonly config: ModelConfig | DenseModelConfig,
    private readonly reference: ReferenceModel | DenseTransformerReference,
    readonly capacity: number,
    private readonly weights: QuantWeights,
    /** why the thread pool did not start, when threads > 1 was asked and shared memory exists */
    readonly poolError?: string,
    /** why the decode dots run in TypeScript, not WebAssembly SIMD; undefined when SIMD runs */
    readonly simdUnavailable?: string,
    /** SIMD runs over weights outside its memory, copied in through per-thread staging blocks */
    readonly simdStaged = false,
    /** absorbed MLA's cache rows in the SIMD memory (scores and sums in SIMD), when SIMD runs */
    private readonly attention?: AttentionRegion,
  ) {}

  /** whether the Q8_0 / Q4_K / Q6_K / Q5_0 / F32 dots run in WebAssembly SIMD */
  get simd(): boolean {
    return this.simdUnavailable === undefined;
  }

  static async load(file: GgufFile, o: CpuLoadOptions = {}): Promise<CpuModel> {
    // any architecture the reference runs: deepseek2 / deepseek32 (MLA) or llama / qwen2 / qwen3 (dense GQA)
    const description = describeModel(file.metadata, file.tensors);
    const config = description.config;
    const specs = checkModelTensors(description, file.tensors);
    const tsKernels = makeRowKernels();
    const infos = specs.map((spec) => {
      const t = file.tensor(spec.name)!;
      const K = t.shape.length > 0 ? t.shape[0] : 1;
      if (tsKernels.rowBytes(t.type, K) < 0) {
        throw new SparseScopeError(
          'unsupported-quant',
          `tensor "${t.name}" is ${typeName(t.type)} with rows of ${K} values: the CPU backend reads ${tsKernels.types.map((ty) => typeName(ty)).join(', ')} (rows a whole number of blocks)`,
        );
      }
      return t;
    });
    const capacity = Math.min(config.contextLength, o.contextSize ?? 4096);
    const F = scratchFloats(config);
    // refuse, before the first read, a model whose bytes (as stored) and caches cannot fit
    const totalBytes = infos.reduce((a, t) => a + t.byteLength, 0);
    const need = totalBytes + cacheBytes(config, capacity) + F * 4;
    const limit = await memoryLimit({ memoryLimitBytes: o.memoryLimitBytes });
    if (limit && need > limit.bytes) {
      throw new SparseScopeError(
        'out-of-memory',
        `the CPU backend holds the file's ${infos.length} tensors as stored plus a ${capacity}-position cache: this model needs ${(need / GB).toFixed(2)} GB (${need} bytes), more than ${limit.what} (${(limit.bytes / GB).toFixed(2)} GB); lower the context size or use a smaller quantization`,
      );
    }
    const threads = o.threads ?? (await defaultThreads());
    if (!Number.isInteger(threads) || threads < 1) throw new SparseScopeError('bad-argument', `threads must be an integer ≥ 1, got ${threads}`);
    const shared = threads > 1 && canShareMemory();
    const alloc = (bytes: number) => {
      try {
        return shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
      } catch (e) {
        throw new SparseScopeError(
          'out-of-memory',
          `the CPU backend could not allocate ${(bytes / GB).toFixed(2)} GB (${e instanceof Error ? e.message : String(e)})`,
        );
      }
    };
    // absorbed MLA keeps its cache rows in the SIMD memory too (the attention's scores and sums run there)
    const mla = !('family' in config) && config.mla === 'absorbed' && simdAttentionFits(config.kvLoraRank, config.qkRope) ? config : undefined;
    const attnBytes = mla ? attentionRegionBytes(mla.layers, capacity, mla.kvLoraRank, mla.qkRope) : [];
    // every weight and the scratch in one WebAssembly memory when the SIMD kernels can run; a model over
    // that memory's limit keeps own buffers for its weights and streams them through staging blocks
    let arena: SimdArena | undefined;
    let staging: number | undefined;
    let simdUnavailable: string | undefined = 'turned off (simd: false)';
    if (o.simd !== false) {
      const whole = [...infos.map((t) => t.byteLength), F * 4, ...attnBytes];
      const small = [F * 4, threads * STAGING_BYTES, ...attnBytes];
      const fits = arenaBytes(whole) <= Math.min(o.simdMemoryBytes ?? Infinity, MAX_PAGES * 65536);
      let a = await createSimdArena(fits ? whole : small, shared, tsKernels.f16);
      // a browser may refuse a memory of the model's size (address space, a device's limit): stream instead
      let staged = !fits;
      if ('reason' in a && fits) [a, staged] = [await createSimdArena(small, shared, tsKernels.f16), true];
      if ('reason' in a) simdUnavailable = a.reason;
      else {
        [arena, simdUnavailable] = [a, undefined];
        // participant i (0: this thread) stages at staging + i · STAGING_BYTES
        if (staged) staging = a.take(threads * STAGING_BYTES).byteOffset;
      }
    }
    const kernels = arena ? makeRowKernels({ buffer: arena.buffer, ex: arena.exports, staging }) : tsKernels;
    const attention = arena && mla ? attentionRegion(arena, mla.layers, capacity, mla.kvLoraRank, mla.qkRope) : undefined;
    const views: WeightView[] = [];
    let loadedBytes = 0;
    for (const t of infos) {
      // an own (aligned, possibly shared) copy: the kernels view F16/F32 rows as Uint16/Float32 arrays
      const bytes = arena && staging === undefined ? arena.take(t.byteLength) : new Uint8Array(alloc(t.byteLength));
      const K = t.shape.length > 0 ? t.shape[0] : 1;
      const rows = t.shape.slice(1).reduce((x, y) => x * y, 1);
      const rb = kernels.rowBytes(t.type, K);
      // read in slices of whole rows (≤ READ_SLICE bytes): no second copy of a GB tensor in flight
      const per = Math.max(1, Math.floor(READ_SLICE / rb));
      for (let r0 = 0; r0 < rows; r0 += per) {
        if (o.signal?.aborted) throw new SparseScopeError('aborted', 'the model load was cancelled');
        const n = Math.min(per, rows - r0);
        const src = await file.readBytes(t, r0 * rb, n * rb);
        // One NaN in a weight would poison every logit: refuse the file, as the GPU upload does.
        assertFiniteTensor(t.name, t.type, src, (r0 * K) / blockLayout(t.type).blockSize);
        bytes.set(src, r0 * rb);
        loadedBytes += n * rb;
        o.onProgress?.({ loadedBytes, totalBytes, tensor: t.name });
      }
      views.push(kernels.view(t.type, K, rows, bytes));
    }
    const scratchBytes = arena?.take(F * 4);
    const scratch = scratchBytes ? new Float32Array(scratchBytes.buffer, scratchBytes.byteOffset, F) : new Float32Array(alloc(F * 4));
    const weights = new QuantWeights(
      kernels,
      infos.map((t) => t.name),
      views,
      scratch,
      o.roundActivations ?? description.kind === 'dense',
    );
    let poolError: string | undefined;
    if (shared) {
      try {
        weights.attachPool(await RowPool.create(kernels, threads, views, scratch, { simd: arena && { ...arena, staging } }));
      } catch (e) {
        // workers refused (a browser's CSP, a sandbox): the same results on the calling thread alone
        poolError = e instanceof Error ? e.message : String(e);
      }
    }
    const reference =
      description.kind === 'dense' ? new DenseTransformerReference(description.config, weights) : new ReferenceModel(description.config, weights);
    return new CpuModel(config, reference, capacity, weights, poolError, simdUnavailable, staging !== undefined, attention);
  }

  /** threads that split each matmul (1: the calling thread alone) */
  get threads(): number {
    return this.weights.threads;
  }

  private active: CpuSession | undefined;

  session(o: SessionOptions = {}): CpuSession {
    const oracleTopK = checkOracleTopK(o.oracleTopK);
    if (this.reference instanceof DenseTransformerReference) {
      // no indexer in a dense model: an index top-k has nothing to select with
      this.active = new CpuSession(this, this.reference.session({ trace: o.trace, oracleTopK }), 0, !!o.trace);
      return this.active;
    }
    const indexer = 'family' in this.config ? undefined : this.config.indexer;
    const topK = o.indexTopK ?? indexer?.topK ?? 0;
    if (!Number.isInteger(topK) || topK < 0) throw new SparseScopeError('bad-argument', `index top-k must be an integer ≥ 0, got ${topK}`);
    const k = indexer ? topK : 0;
    const attention = this.attention && new SimdAttention(this.attention);
    this.active = new CpuSession(this, this.reference.session({ indexTopK: k, trace: o.trace, oracleTopK, attention }), k, !!o.trace);
    return this.active;
  }

  isActive(s: CpuSession): boolean {
    return this.active === s;
  }

  /** Ends the sessions and stops the pool's workers. */
  destroy(): void {
    this.active = undefined;
    this.weights.destroy();
  }
}

export class CpuSession implements RuntimeSession {
  constructor(
    private readonly model: CpuModel,
    private readonly ref: ReferenceSession | DenseTransformerSession,
    readonly topK: number,
    readonly tracing: boolean,
  ) {}

  get position(): number {
    return this.ref.position;
  }

  async feed(tokens: readonly number[], o: { allLogits?: boolean } = {}): Promise<{ logits: Float32Array[]; trace?: TokenTrace[] }> {
    const r = await this.run(tokens, !!o.allLogits);
    const logits = o.allLogits ? r.logits : r.logits.slice(-1);
    return this.tracing ? { logits, trace: r.trace } : { logits };
  }

  async feedAndSample(tokens: readonly number[], sample: SampleRequest): Promise<{ token: number; logits: Float32Array; trace?: TokenTrace[] }> {
    const r = await this.run(tokens, false);
    const logits = r.logits[r.logits.length - 1];
    const token = sampleRef(logits, sample.history, sample.settings, sample.step);
    return this.tracing ? { token, logits, trace: r.trace } : { token, logits };
  }

  private async run(tokens: readonly number[], allLogits: boolean): Promise<{ logits: Float32Array[]; trace: TokenTrace[] }> {
    if (!this.model.isActive(this)) throw new SparseScopeError('bad-argument', 'this session was replaced by a newer one on the same model');
    if (tokens.length === 0) throw new SparseScopeError('bad-argument', 'no tokens to feed');
    if (this.position + tokens.length > this.model.capacity) {
      throw new SparseScopeError('context-overflow', `${this.position + tokens.length} tokens do not fit the ${this.model.capacity}-token context`);
    }
    const logits: Float32Array[] = [];
    const trace: TokenTrace[] = [];
    for (let i = 0; i < tokens.length; i += PREFILL_CHUNK) {
      const lastChunk = i + PREFILL_CHUNK >= tokens.length;
      const r = this.ref.steps(tokens.slice(i, i + PREFILL_CHUNK), { logits: allLogits ? 'all' : lastChunk ? 'last' : 'none' });
      logits.push(...r.logits);
      if (r.trace) trace.push(...r.trace);
      // The forward is synchronous: give the event loop a turn per chunk, so a server keeps accepting
      // requests and noticing disconnects, and an abort arrives between chunks.
      await yieldToEventLoop();
    }
    return { logits, trace };
  }
}

/** A macrotask turn (setImmediate in Node, a MessageChannel message in browsers; microtasks would not let I/O in). */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}
