/**
 * A loaded model behind the engine protocol: the model (WebGPU or CPU, through RuntimeModel), its
 * tokenizer and chat template, and the generate / trace / classroom-step operations in protocol terms.
 * The engines (in-process-engine.ts on the GPU, cpu/cpu-engine.ts on the CPU) own one of these at a time.
 */
import { openGguf, type GgufFile, type GgufSource } from '../gguf/reader.ts';
import type { ModelConfig } from '../model/config.ts';
import { checkModelTensors, describeModel, type DenseModelConfig } from '../model/architectures/index.ts';
import { planMemory } from '../model/memory-plan.ts';
import { createTokenizer, type Tokenizer } from '../model/tokenizer/index.ts';
import { chatOptionsFor, describeChatFormat, familyOf, renderChatPrompt } from '../model/chat-template.ts';
import { samplerSettings } from '../gpu/shaders/sampling/sampling.ts';
import { sampleRef } from '../gpu/shaders/sampling/sampling.ref.ts';
import type { TokenTrace as RefTokenTrace } from '../model/reference/forward.ts';
import type { GpuContext } from '../gpu/device.ts';
import { SparseScopeError } from '../errors.ts';
import type { TuningStore } from '../gpu/tuning/store.ts';
import { WebGpuModel } from './webgpu/webgpu-model.ts';
import type { PassTiming } from './webgpu/pass-timer.ts';
import { CpuModel } from './cpu/cpu-model.ts';
import { choiceKey, describeChoice, fasterOf, gpuMayNotFit, planBackend, type BackendTiming } from './backend-choice.ts';
import type { ChoiceCache } from './backend-choice-cache.ts';
import { timeDecodeStep } from './backend-measure.ts';
import type { RuntimeModel, RuntimeSession, SampleRequest } from './runtime-model.ts';
import { tokenLogprob } from './token-logprobs.ts';
import type {
  BackendChoice,
  AnyModelShape,
  BackendPreference,
  Candidate,
  GenerateEvent,
  GenerateRequest,
  LoadEvent,
  ModelShape,
  ModelSource,
  ModelSummary,
  ProfileRequest,
  ProfileResult,
  StepRequest,
  StepResult,
  TemplateError,
  TokenTrace,
  TraceRequest,
} from '../api/protocol.ts';

/** Cache rows allocated at load; the UI refuses prompts that would not fit. */
const DEFAULT_CONTEXT = 2048;

/** WebGpuModel as a RuntimeModel (its sessions already have the session surface). */
function gpuRuntimeModel(model: WebGpuModel): RuntimeModel {
  return {
    backend: 'webgpu',
    config: model.config,
    capacity: model.capacity,
    hasTimestamps: model.ctx.info.hasTimestamps,
    session: (o) => model.session(o),
    destroy: () => model.destroy(),
  };
}

type Progress = (p: { loadedBytes: number; totalBytes: number; tensor: string }) => void;
type ModelLoader = (
  file: GgufFile,
  config: ModelConfig | DenseModelConfig,
  onProgress: Progress,
) => Promise<{ model: RuntimeModel; gpu?: WebGpuModel; choice?: BackendChoice }>;

/** What ModelRuntime.loadChosen needs to pick a backend (backend-choice.ts). */
export interface ChooseOptions {
  preference: BackendPreference;
  /** The device, when the engine has one. */
  ctx?: GpuContext;
  /** Why there is no device (shown as the reason for the CPU). */
  gpuMissing?: string;
  /** CPU threads asked for; CpuModel reports how many it runs (`threads`), else 1. */
  threads: number;
  cache: ChoiceCache;
  /** Where the matvec tuner keeps its verdicts; absent: no tuning (the default variants). */
  matvecTuning?: TuningStore;
  /** Cancels the load (between tensors; typed 'aborted'): the engine aborts a load a newer one supersedes. */
  signal?: AbortSignal;
}

function loadCpuModel(file: GgufFile, threads: number, onProgress: Progress, signal?: AbortSignal): Promise<CpuModel> {
  return CpuModel.load(file, { contextSize: DEFAULT_CONTEXT, onProgress, threads, signal });
}

function ggufSource(source: ModelSource): GgufSource {
  if (source.kind === 'url') return { kind: 'url', url: source.url };
  if (source.kind === 'blob') return { kind: 'blob', blob: source.blob, name: source.name };
  if (source.kind === 'blobs') return { kind: 'blobs', blobs: source.blobs, name: source.name };
  return { kind: 'path', path: source.path };
}

function shapeOf(c: ModelConfig): ModelShape;
function shapeOf(c: ModelConfig | DenseModelConfig): AnyModelShape;
function shapeOf(c: ModelConfig | DenseModelConfig): AnyModelShape {
  if ('family' in c) {
    return {
      family: 'dense',
      layers: c.layers,
      embedding: c.embd,
      heads: c.heads,
      headsKv: c.headsKv,
      headDim: c.headDim,
      ffn: c.ffn,
      contextLength: c.contextLength,
    };
  }
  return {
    layers: c.layers,
    embedding: c.embd,
    heads: c.heads,
    qLoraRank: c.qLoraRank,
    kvLoraRank: c.kvLoraRank,
    nopeDim: c.qkNope,
    ropeDim: c.qkRope,
    vDim: c.vHead,
    indexerHeads: c.indexer?.heads,
    indexerDim: c.indexer?.keyLength,
    indexerTopK: c.indexer?.topK,
    experts: c.moe?.experts,
    expertsUsed: c.moe?.used,
    sharedExperts: c.moe?.shared,
    leadingDenseLayers: c.leadingDense,
    contextLength: c.contextLength,
  };
}

/** The reference trace format (shared by both engines) in protocol terms, filtered to what was asked. */
export function toProtocolTrace(t: RefTokenTrace, req: TraceRequest, text?: string): TokenTrace {
  return {
    position: t.pos,
    token: text === undefined ? undefined : { id: t.token, text },
    layers: t.layers.map((l) => ({
      indexScores: req.indexer ? l.indexer?.scores : undefined,
      chosen: req.indexer ? l.indexer?.chosen : undefined,
      ...(l.oracle ? { oracle: l.oracle } : {}),
      ...(l.oracleRecall !== undefined ? { oracleRecall: l.oracleRecall } : {}),
      denseWeights: req.dense ? l.attnDense : undefined,
      routerProbs: req.router ? l.moe?.probs : undefined,
      experts: req.router ? l.moe?.experts : undefined,
      expertWeights: req.router ? l.moe?.weights : undefined,
    })),
  };
}

export class ModelRuntime {
  private aborted = false;

  private constructor(
    readonly model: RuntimeModel,
    /** The same model when it is on the GPU: the Speed view's profile needs its passes. */
    private readonly gpu: WebGpuModel | undefined,
    readonly tokenizer: Tokenizer,
    readonly template: string | undefined,
    readonly summary: ModelSummary,
  ) {}

  /** The model on the GPU of `ctx`. */
  static load(ctx: GpuContext, source: ModelSource, onEvent: (e: LoadEvent) => void, signal?: AbortSignal): Promise<ModelRuntime> {
    return ModelRuntime.open(source, onEvent, async (file, _config, onProgress) => {
      const gpu = await WebGpuModel.load(ctx, file, { contextSize: DEFAULT_CONTEXT, onProgress, signal });
      return { model: gpuRuntimeModel(gpu), gpu };
    });
  }

  /** The model on the CPU (the reference forward over the file's quantized blocks; MLA or dense families). */
  static loadCpu(source: ModelSource, onEvent: (e: LoadEvent) => void, signal?: AbortSignal): Promise<ModelRuntime> {
    return ModelRuntime.open(source, onEvent, async (file, _config, onProgress) => ({
      model: await CpuModel.load(file, { contextSize: DEFAULT_CONTEXT, onProgress, signal }),
    }));
  }

  /**
   * The model on the backend backend-choice.ts picks. On a software adapter without a cached
   * measurement, both backends load in turn (one at a time, so memory holds one copy) and run a decode
   * step; the faster stays loaded (the GPU is tried first and reloaded only when it wins, which on a
   * software adapter it rarely does). A CPU backend that cannot hold the model leaves WebGPU.
   */
  static loadChosen(source: ModelSource, onEvent: (e: LoadEvent) => void, o: ChooseOptions): Promise<ModelRuntime> {
    return ModelRuntime.open(source, onEvent, async (file, config, onProgress) => {
      const gpuInfo = o.ctx?.info;
      const key = gpuInfo
        ? choiceKey(
            gpuInfo,
            o.threads,
            shapeOf(config),
            config.vocab,
            file.tensors.map((t) => String(t.type)),
          )
        : '';
      const cached = gpuInfo?.software && o.preference === 'auto' ? await o.cache.get(key) : undefined;
      const plan = planBackend(o.preference, gpuInfo, cached, o.gpuMissing);
      const describe = (backend: 'webgpu' | 'cpu', threads: number, timing?: BackendTiming, failed: { cpu?: string; gpu?: string } = {}, cpu?: CpuModel) =>
        describeChoice(backend, plan, {
          simdUnavailable: cpu?.simdUnavailable,
          preference: o.preference,
          gpu: gpuInfo,
          gpuMissing: o.gpuMissing,
          threads,
          timing,
          cpuFailed: failed.cpu,
          gpuFailed: failed.gpu,
        });
      const onGpu = async () => {
        // the tuner measures on hardware GPUs (milliseconds); on a software adapter a candidate takes up
        // to ~0.4 s, so there the bench's measured default runs
        const matvecTuning = o.ctx!.info.software ? undefined : o.matvecTuning;
        const gpu = await WebGpuModel.load(o.ctx!, file, { contextSize: DEFAULT_CONTEXT, onProgress, matvecTuning, signal: o.signal });
        return { model: gpuRuntimeModel(gpu), gpu };
      };
      const onCpu = async (failed: { gpu?: string } = {}) => {
        const cpu = await loadCpuModel(file, o.threads, onProgress, o.signal);
        return { model: cpu, choice: describe('cpu', cpu.threads, plan.kind === 'use' ? cached : undefined, failed, cpu) };
      };
      /** WebGPU; with `auto`, the CPU when the adapter cannot hold or run the model. */
      const gpuElseCpu = async (timing?: BackendTiming, failed: { cpu?: string } = {}) => {
        try {
          return { ...(await onGpu()), choice: describe('webgpu', o.threads, timing, failed) };
        } catch (e) {
          if (o.preference !== 'auto' || failed.cpu || !gpuMayNotFit(e)) throw e;
          return onCpu({ gpu: e.message });
        }
      };
      if (plan.kind === 'use') return plan.backend === 'webgpu' ? gpuElseCpu(cached) : onCpu();
      let first: Awaited<ReturnType<typeof onGpu>>;
      try {
        first = await onGpu();
      } catch (e) {
        if (!gpuMayNotFit(e)) throw e;
        return onCpu({ gpu: e.message });
      }
      let webgpuMs: number;
      try {
        webgpuMs = await timeDecodeStep(first.model);
      } finally {
        first.model.destroy();
      }
      let cpu: CpuModel;
      try {
        cpu = await loadCpuModel(file, o.threads, onProgress, o.signal);
      } catch (e) {
        // too large for the CPU backend (f32 weights) or refused: WebGPU it is, without a comparison
        if (!(e instanceof SparseScopeError)) throw e;
        return gpuElseCpu(undefined, { cpu: e.message });
      }
      const timing: BackendTiming = { webgpuMs, cpuMs: await timeDecodeStep(cpu), threads: cpu.threads };
      await o.cache.set(key, timing);
      if (fasterOf(timing) === 'cpu') return { model: cpu, choice: describe('cpu', timing.threads, timing, {}, cpu) };
      cpu.destroy();
      return { ...(await onGpu()), choice: describe('webgpu', timing.threads, timing) };
    });
  }

  private static async open(source: ModelSource, onEvent: (e: LoadEvent) => void, loadModel: ModelLoader): Promise<ModelRuntime> {
    const file = await openGguf(ggufSource(source));
    try {
      // any architecture: the MLA families (ModelConfig) or a dense one (DenseModelConfig)
      const description = describeModel(file.metadata, file.tensors);
      const config = description.config;
      // Fail on a missing tensor or wrong shape before anything is uploaded.
      checkModelTensors(description, file.tensors);
      const tokenizer = createTokenizer(file.metadata);
      const largest = Math.max(...file.tensors.map((t) => t.byteLength));
      // what the GPU will hold at the page's context: weights as uploaded, caches, scratch
      const memory = planMemory(description.config, file.tensors, { context: DEFAULT_CONTEXT });
      const estimatedGpuBytes = memory.totalBytes;
      onEvent({
        kind: 'header',
        arch: config.arch,
        tensorCount: file.tensors.length,
        fileBytes: file.fileSize,
        estimatedGpuBytes,
        largestTensorBytes: largest,
        contextLength: config.contextLength,
        shape: shapeOf(config),
        ...(memory ? { memory } : {}),
      });
      const { model, gpu, choice } = await loadModel(file, config, (p) =>
        onEvent({ kind: 'progress', loadedBytes: p.loadedBytes, totalBytes: p.totalBytes, tensor: p.tensor }),
      );
      const name = source.kind === 'path' ? source.path.split('/').pop()! : (source.name ?? 'model.gguf');
      const summary: ModelSummary = {
        name: config.name ?? name,
        arch: config.arch,
        fileBytes: file.fileSize,
        layers: config.layers,
        contextLength: model.capacity,
        vocabSize: config.vocab,
        backend: model.backend,
        ...(choice ? { backendChoice: choice } : {}),
        ...(gpu && gpu.matvecTuning.length > 0 ? { matvecTuning: gpu.matvecTuning } : {}),
        shape: shapeOf(config),
        indexTopK: description.kind === 'mla' ? description.config.indexer?.topK : undefined,
        chatFormat: describeChatFormat(
          typeof file.metadata['tokenizer.chat_template'] === 'string' ? (file.metadata['tokenizer.chat_template'] as string) : undefined,
          familyOf(tokenizer, { arch: config.arch, name: config.name ?? name }),
        ),
      };
      const template = typeof file.metadata['tokenizer.chat_template'] === 'string' ? (file.metadata['tokenizer.chat_template'] as string) : undefined;
      onEvent({ kind: 'ready', model: summary });
      return new ModelRuntime(model, gpu, tokenizer, template, summary);
    } finally {
      await file.close();
    }
  }

  abort(): void {
    this.aborted = true;
  }

  /** The model's caches are shared by its sessions, so generate/trace/step run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The prompt's ids; `templateError` when the file's chat template failed and the fallback format was used. */
  private promptIds(req: { prompt?: string; messages?: GenerateRequest['messages']; thinking?: boolean }): { ids: number[]; templateError?: TemplateError } {
    const tok = this.tokenizer;
    let ids: number[];
    let templateError: TemplateError | undefined;
    if (req.messages?.length) {
      const r = renderChatPrompt(this.template, req.messages, { ...chatOptionsFor(tok, this.summary), thinking: req.thinking });
      if (r.error) templateError = { code: 'template', message: r.warning ?? r.error.message };
      ids = tok.encode(r.text, { addSpecial: false, parseSpecial: true });
    } else {
      ids = tok.encode(req.prompt ?? '', { addSpecial: true, parseSpecial: true });
    }
    if (ids.length === 0) throw new SparseScopeError('bad-argument', 'the prompt is empty');
    return { ids, templateError };
  }

  private checkFits(n: number): void {
    if (n > this.model.capacity) {
      throw new SparseScopeError(
        'context-overflow',
        `the prompt and reply need ${n} tokens, more than the ${this.model.capacity}-token context; shorten the conversation or lower max tokens`,
      );
    }
  }

  generate(req: GenerateRequest, onEvent: (e: GenerateEvent) => void): Promise<void> {
    return this.exclusive(() => this.generateNow(req, onEvent));
  }

  trace(prompt: string, req: TraceRequest, indexTopK?: number, oracleTopK?: number): Promise<TokenTrace[]> {
    return this.exclusive(() => this.traceNow(prompt, req, indexTopK, oracleTopK));
  }

  step(req: StepRequest): Promise<StepResult> {
    return this.exclusive(() => this.stepNow(req));
  }

  profile(req: ProfileRequest): Promise<ProfileResult> {
    return this.exclusive(() => this.profileNow(req));
  }

  private async generateNow(req: GenerateRequest, onEvent: (e: GenerateEvent) => void): Promise<void> {
    this.aborted = false;
    const { ids, templateError } = this.promptIds(req);
    this.checkFits(ids.length + req.maxTokens);
    const traceReq = req.trace;
    const session = this.model.session({ indexTopK: req.indexTopK, trace: !!traceReq, oracleTopK: req.oracleTopK });
    // Sampling runs on the GPU in the same submit as the pass (src/gpu/shaders/sampling): 4 bytes per token
    // come back, not a logits row. Draw n uses (seed, n), so a run is reproducible from its seed alone.
    const settings = samplerSettings(req.sampling);
    const history = [...ids];
    const t0 = performance.now();
    const wantLogprobs = req.logprobs !== undefined;
    if (wantLogprobs && !(Number.isInteger(req.logprobs) && req.logprobs! >= 0 && req.logprobs! <= 20)) {
      throw new SparseScopeError('bad-argument', `logprobs must be an integer in [0, 20] (alternatives per token), got ${req.logprobs}`);
    }
    let r = await this.feedSample(session, ids, { settings, history, step: 0 }, wantLogprobs);
    onEvent({
      kind: 'prefill',
      promptTokens: ids.length,
      ms: performance.now() - t0,
      tokens: ids.map((id) => ({ id, text: this.tokenizer.decode([id], { special: true }) })),
      ...(templateError ? { templateError } : {}),
    });
    const dec = this.tokenizer.createStreamDecoder();
    let firstAt = 0;
    let lastAt = 0;
    let n = 0;
    let reason: 'eos' | 'max-tokens' | 'aborted' = 'max-tokens';
    while (n < req.maxTokens) {
      if (this.aborted) {
        reason = 'aborted';
        break;
      }
      const next = r.token;
      if (this.tokenizer.stopIds.has(next)) {
        reason = 'eos';
        break;
      }
      history.push(next);
      const stepStart = performance.now();
      // Feed the chosen token now: its trace is the pass that reads it, and the same submit samples the next.
      const logprob =
        wantLogprobs && r.logits ? tokenLogprob(r.logits, next, req.logprobs!, (id) => this.tokenizer.decode([id], { special: true })) : undefined;
      r = await this.feedSample(session, [next], { settings, history, step: n + 1 }, wantLogprobs);
      lastAt = performance.now();
      if (n === 0) firstAt = lastAt;
      const text = dec.push(next);
      const trace = traceReq && r.trace ? { ...toProtocolTrace(r.trace[0], traceReq), ms: performance.now() - stepStart } : undefined;
      onEvent({ kind: 'token', id: next, text, index: n, trace, ...(logprob ? { logprob } : {}) });
      n++;
      if (session.position >= this.model.capacity) break;
    }
    const tail = dec.flush();
    if (tail) onEvent({ kind: 'token', id: -1, text: tail, index: n });
    // Decode speed, as the page's live meter measures it: the tokens after the first over the time since
    // the first (prefill is in the time to first token, not here).
    const decodeSeconds = (lastAt - firstAt) / 1000;
    const tokensPerSecond = n > 1 && decodeSeconds > 0 ? (n - 1) / decodeSeconds : 0;
    onEvent({ kind: 'done', reason, tokens: n, tokensPerSecond, timeToFirstTokenMs: (firstAt || performance.now()) - t0 });
  }

  /**
   * feedAndSample, but with the sampled position's logits on the host when `wantLogits` (logprobs): the
   * GPU then reads the row back and the token is drawn by the sampler's CPU twin (same draw, see
   * sampling.ref.ts); the CPU backend has the logits anyway.
   */
  private async feedSample(
    session: RuntimeSession,
    tokens: readonly number[],
    sample: SampleRequest,
    wantLogits: boolean,
  ): Promise<{ token: number; logits?: Float32Array; trace?: RefTokenTrace[] }> {
    if (!wantLogits || this.model.backend === 'cpu') return session.feedAndSample(tokens, sample);
    const r = await session.feed(tokens);
    return { token: sampleRef(r.logits[0], sample.history, sample.settings, sample.step), logits: r.logits[0], trace: r.trace };
  }

  private async traceNow(prompt: string, req: TraceRequest, indexTopK?: number, oracleTopK?: number): Promise<TokenTrace[]> {
    const { ids } = this.promptIds({ prompt });
    this.checkFits(ids.length);
    const r = await this.model.session({ indexTopK, oracleTopK, trace: true }).feed(ids);
    return r.trace!.map((t) => toProtocolTrace(t, req, this.tokenizer.decode([t.token], { special: true })));
  }

  private async stepNow(req: StepRequest): Promise<StepResult> {
    const ids = [...this.promptIds({ prompt: req.prompt }).ids, ...(req.appended ?? [])];
    this.checkFits(ids.length);
    const sparse = await this.model.session({ indexTopK: req.indexTopK, oracleTopK: req.oracleTopK, trace: !!req.trace }).feed(ids);
    const sparseLogits = sparse.logits[0];
    const trace = req.trace && sparse.trace ? toProtocolTrace(sparse.trace[sparse.trace.length - 1], req.trace) : undefined;
    const denseLogits = (await this.model.session({ indexTopK: 0 }).feed(ids)).logits[0];
    const ps = softmax(sparseLogits);
    const pd = softmax(denseLogits);
    let kl = 0;
    for (let i = 0; i < pd.length; i++) if (pd[i] > 0) kl += pd[i] * (Math.log(pd[i]) - Math.log(Math.max(ps[i], 1e-300)));
    const n = req.candidates ?? 5;
    const cands = (p: Float64Array): Candidate[] =>
      Array.from(p.keys())
        .sort((a, b) => p[b] - p[a] || a - b)
        .slice(0, n)
        .map((id) => ({ id, text: this.tokenizer.decode([id], { special: true }), prob: p[id] }));
    const candidates = cands(ps);
    const denseCandidates = cands(pd);
    return { position: ids.length, candidates, denseCandidates, klToDense: Math.max(0, kl), top1Agrees: candidates[0].id === denseCandidates[0].id, trace };
  }

  /** Prefill the prompt, then time `steps` greedy decode steps per layer; the mean per step. */
  private async profileNow(req: ProfileRequest): Promise<ProfileResult> {
    const steps = req.steps ?? 8;
    if (!Number.isInteger(steps) || steps < 1) throw new SparseScopeError('bad-argument', `profile steps must be an integer ≥ 1, got ${steps}`);
    const gpu = this.gpu;
    if (!gpu)
      throw new SparseScopeError(
        'not-implemented',
        'per-layer profiling times GPU passes, and this model runs on the CPU: choose the WebGPU backend in the settings to profile it',
      );
    const method = req.method ?? (this.model.hasTimestamps ? 'timestamp-query' : 'cpu-submit-wait');
    if (method === 'timestamp-query' && !this.model.hasTimestamps) throw new SparseScopeError('bad-argument', 'this adapter has no timestamp-query');
    const { ids } = this.promptIds({ prompt: req.prompt });
    this.checkFits(ids.length + steps);
    const session = gpu.session({ indexTopK: req.indexTopK });
    let token = (await session.feedAndSample(ids, { settings: samplerSettings({ temperature: 0 }), history: ids, step: 0 })).token;
    const runs: PassTiming[] = [];
    for (let i = 0; i < steps; i++) {
      const r = await session.profileStep(token, method);
      runs.push(r.timing);
      token = r.next;
    }
    const mean = (f: (t: PassTiming) => number) => runs.reduce((a, t) => a + f(t), 0) / runs.length;
    return {
      method,
      indexTopK: session.topK,
      position: ids.length,
      steps,
      layers: runs[0].layers.map((l, il) => ({
        layer: il,
        ms: mean((t) => t.layers[il].ms),
        attentionMs: mean((t) => t.layers[il].attentionMs),
        indexerMs: mean((t) => t.layers[il].indexerMs),
        ffnMs: mean((t) => t.layers[il].ffnMs),
      })),
      embedMs: mean((t) => t.embedMs),
      headMs: mean((t) => t.headMs),
      totalMs: mean((t) => t.totalMs),
    };
  }

  destroy(): void {
    this.model.destroy();
  }
}

function softmax(logits: Float32Array): Float64Array {
  let m = -Infinity;
  for (const v of logits) m = Math.max(m, v);
  const p = Float64Array.from(logits, (v) => Math.exp(v - m));
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / s);
}
