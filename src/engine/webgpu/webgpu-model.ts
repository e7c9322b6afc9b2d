/**
 * A model on the GPU: config, weights, caches for a chosen context, and sessions that feed tokens
 * through forward graph passes (decode: one token; prefill: chunks): ForwardGraph for the MLA families,
 * DenseForwardGraph for llama / qwen2 / qwen3. Only the logits rows the caller
 * wants, and traces when asked, are read back.
 */
import type { GgufFile } from '../../gguf/reader.ts';
import type { ModelConfig } from '../../model/config.ts';
import { checkModelTensors, describeModel, type DenseModelConfig } from '../../model/architectures/index.ts';
import type { TokenTrace, LayerTrace } from '../../model/reference/forward.ts';
import { readBack } from '../../gpu/buffers.ts';
import type { GpuContext } from '../../gpu/device.ts';
import { NO_POSITION } from '../../gpu/shaders/dsa/dsa.ts';
import { SparseScopeError } from '../../errors.ts';
import { checkOracleTopK, indexerRecall } from '../../model/reference/oracle-topk.ts';
import { uploadWeights, type GpuWeights, type WeightProgress } from './gpu-weights.ts';
import { planMemory } from '../../model/memory-plan.ts';
import { allocateCaches, cacheBytes, destroyCaches, type LayerCache } from './kv-cache.ts';
import { ForwardGraph } from './forward-graph.ts';
import { DenseForwardGraph } from './dense-forward-graph.ts';
import type { GpuForwardGraph, GraphOptions } from './graph-builder.ts';
import { formatTuningSummary, openMatvecTuner, type MatvecTuner } from '../../gpu/shaders/matmul/tune.ts';
import type { TuningStore } from '../../gpu/tuning/store.ts';
import { createGpuSampler, samplerSettings, type GpuSampler, type SamplerSettings } from '../../gpu/shaders/sampling/sampling.ts';
import { PassTimer, type PassTiming } from './pass-timer.ts';
import type { TimingMethod } from '../../api/protocol.ts';

export interface LoadOptions {
  /** Cache rows to allocate; default min(file context, 4096). */
  contextSize?: number;
  onProgress?: (p: WeightProgress) => void;
  signal?: AbortSignal;
  /** Tokens per prefill pass (default 32: big enough for the matmul tiles, small enough for modest scratch). */
  prefillChunk?: number;
  /**
   * Choose each decode matvec's variant by measuring the candidates on this adapter (tune.ts), with the
   * verdicts kept in this store per adapter and kernel version (the page: IndexedDB). Absent: the
   * adapter kind's default variant, no measuring (what the tests and the CLI run: deterministic).
   */
  matvecTuning?: TuningStore;
  /**
   * Round quantized matmuls' inputs as llama.cpp's CPU does (GraphOptions.roundActivations). Default: on for
   * the dense families (their llama.cpp comparison is held to 0.08), off for the MLA graph.
   */
  roundActivations?: boolean;
}

export interface SessionOptions {
  /** Override the file's indexer top-k; 0 = dense attention. */
  indexTopK?: number;
  trace?: boolean;
  /** Oracle top-k (any model; GraphOptions.oracleTopK); 0 / absent = off. */
  oracleTopK?: number;
}

export class WebGpuModel {
  private readonly graphs = new Map<string, GpuForwardGraph>();
  private activeSession: WebGpuSession | undefined;
  private gpuSampler: GpuSampler | undefined;
  private readonly timers = new Map<GpuForwardGraph, PassTimer>();

  private constructor(
    readonly ctx: GpuContext,
    /** MLA families: ModelConfig; dense families: DenseModelConfig (family: 'dense') */
    readonly config: ModelConfig | DenseModelConfig,
    readonly weights: GpuWeights,
    readonly caches: LayerCache[],
    readonly capacity: number,
    readonly prefillChunk: number,
  ) {}

  static async load(ctx: GpuContext, file: GgufFile, o: LoadOptions = {}): Promise<WebGpuModel> {
    // the MLA families (ForwardGraph) or a dense one (DenseForwardGraph): one description, read from GGUF once
    const description = describeModel(file.metadata, file.tensors);
    const config = description.config;
    const specs = checkModelTensors(description, file.tensors);
    if (description.kind === 'dense') {
      // llama.cpp loads these when a file has them; no released Llama / Qwen2 / Qwen3 does, and the graph has no slot for them
      const extra = specs.filter((t) => /(^|\.)(attn_output|ffn_gate|ffn_up|ffn_down|output)\.bias$/.test(t.name));
      if (extra.length > 0)
        throw new SparseScopeError(
          'not-implemented',
          `the WebGPU backend runs ${config.arch} without ${extra[0].name} (biases other than attn_q/k/v); this file has it: use the CPU backend`,
        );
    }
    // the context asked for (default min(file, 4096)), sized down so each layer's cache buffer fits one
    // storage binding of this device (memory-plan.ts; V2-Lite's file says 163,840)
    const limits = ctx.device.limits;
    const plan = planMemory(config, file.tensors, {
      context: Math.min(config.contextLength, o.contextSize ?? 4096),
      limits: { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize, maxBufferSize: limits.maxBufferSize },
      prefillChunk: o.prefillChunk,
    });
    const capacity = plan.cache.context;
    const weights = await uploadWeights(ctx.device, file, specs, o.onProgress, o.signal);
    const model = new WebGpuModel(ctx, config, weights, allocateCaches(ctx.device, config, capacity), capacity, o.prefillChunk ?? 32);
    model.roundActivations = o.roundActivations ?? description.kind === 'dense';
    if (o.matvecTuning) {
      // one measurement per weight type × size class (milliseconds each), kept for the next load
      const tuner = await openMatvecTuner(ctx.device, { ...ctx.info, software: ctx.info.software === true }, o.matvecTuning);
      const matrices = specs.filter((t) => t.shape.length >= 2 && !t.name.startsWith('token_embd') && weights.has(t.name)).map((t) => weights.matrix(t.name));
      await tuner.tuneAll(matrices.map((t) => ({ type: t.type, k: t.shape[0], n: t.shape[1] })));
      model.tuner = tuner;
    }
    return model;
  }

  /** Whether the graphs round quantized matmuls' inputs as llama.cpp does (LoadOptions.roundActivations). */
  roundActivations = false;

  /** The matvec tuner when the load measured variants (LoadOptions.matvecTuning). */
  tuner: MatvecTuner | undefined;

  /** What the tuner chose per kernel class, one line each (the GPU panel shows them); empty when not tuned. */
  get matvecTuning(): string[] {
    return this.tuner ? formatTuningSummary(this.tuner.summary()) : [];
  }

  get cacheBytes() {
    return cacheBytes(this.config, this.capacity);
  }

  /** A fresh session; the caches are shared, so an older session must not be used afterwards. */
  session(o: SessionOptions = {}): WebGpuSession {
    const indexer = 'family' in this.config ? undefined : this.config.indexer;
    const topK = o.indexTopK ?? indexer?.topK ?? 0;
    if (!Number.isInteger(topK) || topK < 0) throw new SparseScopeError('bad-argument', `index top-k must be an integer ≥ 0, got ${topK}`);
    this.activeSession = new WebGpuSession(this, indexer ? topK : 0, !!o.trace, checkOracleTopK(o.oracleTopK));
    return this.activeSession;
  }

  isActive(s: WebGpuSession): boolean {
    return this.activeSession === s;
  }

  graph(o: GraphOptions): GpuForwardGraph {
    const key = `${o.m}:${o.topK}:${o.oracleTopK ?? 0}:${o.trace}:${o.roundActivations ?? this.roundActivations}`;
    let g = this.graphs.get(key);
    const tuner = this.tuner;
    const base: GraphOptions = { roundActivations: this.roundActivations, ...o };
    const tuned: GraphOptions =
      tuner && !o.matvec && !o.variantFor ? { ...base, variantFor: (t) => tuner.variantFor(t.type, t.shape[0], t.shape[1] ?? 1) } : base;
    if (!g) {
      const c = this.config;
      const { device } = this.ctx;
      g = 'family' in c ? new DenseForwardGraph(device, c, this.weights, this.caches, tuned) : new ForwardGraph(device, c, this.weights, this.caches, tuned);
      this.graphs.set(key, g);
    }
    return g;
  }

  /** The model's GPU sampler (one per model: its buffers are sized by the vocabulary). */
  sampler(): GpuSampler {
    return (this.gpuSampler ??= createGpuSampler(this.ctx.device, this.config.vocab));
  }

  /** The timer of a graph (made on first use: its query set and buffers are reused). */
  timer(g: GpuForwardGraph): PassTimer {
    let t = this.timers.get(g);
    if (!t) this.timers.set(g, (t = new PassTimer(this.ctx.device, g)));
    return t;
  }

  destroy(): void {
    this.timers.forEach((t) => t.destroy());
    this.timers.clear();
    this.gpuSampler?.destroy();
    this.graphs.forEach((g) => g.destroy());
    this.graphs.clear();
    destroyCaches(this.caches);
    this.weights.destroy();
  }
}

export interface StepResult {
  /** One row per requested position: all fed tokens with `allLogits`, else only the last. */
  logits: Float32Array[];
  trace?: TokenTrace[];
}

/** Sampling on the GPU after a pass: only the chosen id comes back. */
export interface SampleRequest {
  settings: SamplerSettings;
  /** The tokens so far, including the ones being fed (the repetition penalty's window). */
  history: readonly number[];
  /** The draw's number (the generated token's index): the draw depends only on (seed, step). */
  step: number;
}

export interface SampledResult {
  token: number;
  trace?: TokenTrace[];
}

const GREEDY = samplerSettings({ temperature: 0 });

export class WebGpuSession {
  private pos = 0;
  /** Host copy of a pass's ids, reused so a decode step allocates nothing it does not need. */
  private readonly idsHost = new Uint32Array(64);

  constructor(
    private readonly model: WebGpuModel,
    readonly topK: number,
    readonly tracing: boolean,
    /** oracle top-k (0 = off) */
    readonly oracleK = 0,
  ) {}

  get position(): number {
    return this.pos;
  }

  /** Feeds tokens at the next positions; returns logits for the token after the last (or each) one. */
  async feed(tokens: readonly number[], o: { allLogits?: boolean } = {}): Promise<StepResult> {
    this.check(tokens);
    const logits: Float32Array[] = [];
    const trace: TokenTrace[] = [];
    const step = this.model.prefillChunk;
    for (let start = 0; start < tokens.length; start += step) {
      const chunk = tokens.slice(start, start + step);
      const isLast = start + chunk.length === tokens.length;
      const r = await this.pass(chunk, o.allLogits ? 'all' : isLast ? 'last' : 'none');
      logits.push(...r.logits);
      if (r.trace) trace.push(...r.trace);
    }
    return this.tracing ? { logits, trace } : { logits };
  }

  /**
   * Feeds tokens like feed(), then samples the next token on the GPU from the last position's logits,
   * in the same submit: 4 bytes come back instead of a logits row (plus traces when the session traces).
   */
  async feedAndSample(tokens: readonly number[], sample: SampleRequest): Promise<SampledResult> {
    this.check(tokens);
    const trace: TokenTrace[] = [];
    const chunk = this.model.prefillChunk;
    let token = -1;
    for (let start = 0; start < tokens.length; start += chunk) {
      const part = tokens.slice(start, start + chunk);
      const isLast = start + part.length === tokens.length;
      const r = await this.pass(part, 'none', isLast ? sample : undefined);
      if (r.token !== undefined) token = r.token;
      if (r.trace) trace.push(...r.trace);
    }
    return this.tracing ? { token, trace } : { token };
  }

  /**
   * One decode step of `token`, timed per layer (see PassTimer), then the greedy next token (sampled
   * in a separate, untimed submit). Only for the Speed view: it costs extra passes or submits.
   */
  async profileStep(token: number, method: TimingMethod): Promise<{ next: number; timing: PassTiming }> {
    this.check([token]);
    const { device } = this.model.ctx;
    const g = this.model.graph({ m: 1, topK: this.topK, oracleTopK: this.oracleK, trace: false, capacity: this.model.capacity });
    this.idsHost[0] = token;
    device.queue.writeBuffer(g.ids, 0, this.idsHost, 0, 1);
    const timing = await this.model.timer(g).run(this.pos, method);
    const sampler = this.model.sampler();
    const enc = device.createCommandEncoder({ label: 'profile: greedy next' });
    sampler.encode(enc, { logits: g.logits, history: [], step: 0, settings: GREEDY });
    device.queue.submit([enc.finish()]);
    const next = await sampler.readToken();
    this.pos += 1;
    return { next, timing };
  }

  private check(tokens: readonly number[]): void {
    const { config: c, capacity } = this.model;
    if (!this.model.isActive(this)) throw new SparseScopeError('bad-argument', 'this session was replaced by a newer one on the same model');
    if (tokens.length === 0) throw new SparseScopeError('bad-argument', 'no tokens to feed');
    if (this.pos + tokens.length > capacity) {
      throw new SparseScopeError('context-overflow', `${this.pos + tokens.length} tokens do not fit the ${capacity}-token context`);
    }
    for (const t of tokens) {
      if (!Number.isInteger(t) || t < 0 || t >= c.vocab) throw new SparseScopeError('bad-argument', `token id ${t} is outside the vocab (0..${c.vocab - 1})`);
    }
  }

  private async pass(tokens: number[], want: 'all' | 'last' | 'none', sample?: SampleRequest): Promise<StepResult & { token?: number }> {
    const { device } = this.model.ctx;
    const c = this.model.config;
    const m = tokens.length;
    const g = this.model.graph({ m, topK: this.topK, oracleTopK: this.oracleK, trace: this.tracing, capacity: this.model.capacity });
    const ids = m <= this.idsHost.length ? this.idsHost.subarray(0, m) : new Uint32Array(m);
    ids.set(tokens);
    device.queue.writeBuffer(g.ids, 0, ids);
    const enc = device.createCommandEncoder({ label: `forward m=${m} pos=${this.pos}` });
    g.encode(enc, this.pos);
    const V = c.vocab;
    const sampler = sample ? this.model.sampler() : undefined;
    sampler?.encode(enc, { logits: g.logits, byteOffset: (m - 1) * V * 4, history: sample!.history, step: sample!.step, settings: sample!.settings });
    device.queue.submit([enc.finish()]);
    const token = sampler ? await sampler.readToken() : undefined;
    let logits: Float32Array[] = [];
    if (want !== 'none') {
      const first = want === 'all' ? 0 : m - 1;
      const flat = new Float32Array(await readBack(device, g.logits, (m - first) * V * 4, first * V * 4));
      logits = Array.from({ length: m - first }, (_, i) => flat.slice(i * V, (i + 1) * V));
    } else if (!sampler) {
      await device.queue.onSubmittedWorkDone();
    }
    const trace = this.tracing ? await this.readTrace(g, tokens) : undefined;
    this.pos += m;
    return { logits, ...(trace ? { trace } : {}), ...(token !== undefined ? { token } : {}) };
  }

  /** Per query token and layer: index scores and chosen positions, dense weights, router choices. */
  private async readTrace(g: GpuForwardGraph, tokens: number[]): Promise<TokenTrace[]> {
    const { device } = this.model.ctx;
    const c = this.model.config;
    const cap = this.model.capacity;
    const f32 = async (b: GPUBuffer | undefined) => (b ? new Float32Array(await readBack(device, b)) : undefined);
    const u32 = async (b: GPUBuffer | undefined) => (b ? new Uint32Array(await readBack(device, b)) : undefined);
    const layers = await Promise.all(
      g.traces.map(async (t) => ({
        dense: (await f32(t.dense))!,
        scores: await f32(t.scores),
        chosen: await u32(t.chosen),
        probs: await f32(t.probs),
        experts: await u32(t.experts),
        weights: await f32(t.expertWeights),
        oracle: await u32(t.oracle),
      })),
    );
    return tokens.map((token, r) => {
      const pos = this.pos + r;
      const visible = pos + 1;
      const perLayer: LayerTrace[] = layers.map((l, il) => {
        const lt: LayerTrace = { layer: il, attnDense: Array.from(l.dense.subarray(r * cap, r * cap + visible)) };
        if (l.scores) {
          const scores = Array.from(l.scores.subarray(r * cap, r * cap + visible));
          const chosen = l.chosen
            ? Array.from(l.chosen.subarray(r * this.topK, (r + 1) * this.topK)).filter((p) => p !== NO_POSITION)
            : Array.from({ length: visible }, (_, s) => s);
          lt.indexer = { scores, chosen };
        }
        if (l.oracle) {
          lt.oracle = Array.from(l.oracle.subarray(r * this.oracleK, (r + 1) * this.oracleK)).filter((p) => p !== NO_POSITION);
          if (lt.indexer && this.topK > 0) lt.oracleRecall = indexerRecall(lt.indexer.chosen, lt.oracle);
        }
        if (l.probs && l.experts && l.weights) {
          const moe = 'family' in c ? null : c.moe;
          const X = moe!.experts;
          const k = moe!.used;
          lt.moe = {
            probs: Array.from(l.probs.subarray(r * X, (r + 1) * X)),
            experts: Array.from(l.experts.subarray(r * k, (r + 1) * k)),
            weights: Array.from(l.weights.subarray(r * k, (r + 1) * k)),
          };
        }
        return lt;
      });
      return { pos, token, layers: perLayer };
    });
  }
}
