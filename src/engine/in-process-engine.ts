/**
 * The engine behind `EngineApi`, in the calling thread: the Worker exposes an instance of it, and Node
 * code (CLI, tests) uses it directly. It owns the GPU context and reacts to its loss, and picks the
 * backend each model loads on (backend-choice.ts): with `backend: 'auto'` (the page's Worker) it also
 * runs without any WebGPU adapter, on the CPU. The default, 'webgpu', is the GPU or an error, as the
 * CLI's and the Node API's `--backend webgpu` mean.
 */
import { requestGpu, type GpuContext } from '../gpu/device.ts';
import { uploadStorage, createStorage, readF32 } from '../gpu/buffers.ts';
import { createRmsnorm } from '../gpu/shaders/rmsnorm/rmsnorm.ts';
import { rmsnormRef } from '../gpu/shaders/rmsnorm/rmsnorm.ref.ts';
import type { TuningStore } from '../gpu/tuning/store.ts';
import { SparseScopeError, isSparseScopeError } from '../errors.ts';
import { ModelRuntime } from './model-runtime.ts';
import { RuntimeEngine } from './runtime-engine.ts';
import { checkPreference } from './backend-choice.ts';
import { defaultChoiceCache, type ChoiceCache } from './backend-choice-cache.ts';
import { CPU_INFO } from './cpu/cpu-engine.ts';
import type {
  BackendPreference,
  EngineApi,
  EngineInfo,
  InitOptions,
  LoadOptions,
  EngineStatusEvent,
  LoadEvent,
  ModelSource,
  ModelSummary,
  ProfileRequest,
  ProfileResult,
  SelfTestResult,
} from '../api/protocol.ts';

export interface InProcessEngineOptions {
  /** The default backend of every load (a load's own LoadOptions.backend overrides it); default 'webgpu'. */
  backend?: BackendPreference;
  /** CPU threads for the CPU backend; default navigator.hardwareConcurrency (at most 8). */
  threads?: number;
  /** Where backend measurements are kept; default IndexedDB, or .cache/backend-choice.json in Node. */
  choiceCache?: ChoiceCache;
  /** Tune the decode matvecs on hardware GPUs, keeping the verdicts here (the page: IndexedDB); default off. */
  matvecTuning?: TuningStore;
}

/** In a page or Worker: whether this thread may share memory with Worker threads (COOP/COEP). */
function isolation(): { isolated?: boolean } {
  const v = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return typeof v === 'boolean' ? { isolated: v } : {};
}

function defaultThreads(): number {
  const n = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
  return Math.max(1, Math.min(8, n ?? 1));
}

export class InProcessEngine extends RuntimeEngine implements EngineApi {
  /** Protected so the test build's Worker can destroy the device (src/worker/engine.worker.ts). */
  protected ctx: GpuContext | undefined;
  private onStatus: ((e: EngineStatusEvent) => void) | undefined;
  private readonly backend: BackendPreference;
  private readonly threads: number;
  private readonly cache: ChoiceCache;
  private readonly matvecTuning: TuningStore | undefined;
  /** Why init found no GPU (only with backend 'auto', which then runs on the CPU). */
  private gpuUnavailable: EngineInfo['gpuUnavailable'];
  /** init({ gpu: false }) was called: restart() keeps to the CPU too. */
  private pageHasNoGpu = false;

  /** `getGpu` returns navigator.gpu in a browser or Worker, Dawn's GPU in Node. */
  constructor(
    private readonly getGpu: () => GPU | undefined | Promise<GPU | undefined>,
    o: InProcessEngineOptions = {},
  ) {
    super();
    this.backend = checkPreference(o.backend ?? 'webgpu');
    this.threads = o.threads ?? defaultThreads();
    this.cache = o.choiceCache ?? defaultChoiceCache();
    this.matvecTuning = o.matvecTuning;
  }

  async init(onStatus?: (e: EngineStatusEvent) => void, options: InitOptions = {}): Promise<EngineInfo> {
    if (onStatus) this.onStatus = onStatus;
    if (options.gpu === false) this.pageHasNoGpu = true;
    if (this.ctx && !this.ctx.isLost) return { ...this.ctx.info, ...isolation() };
    let ctx: GpuContext;
    try {
      // A page without navigator.gpu: its Worker may still have one, but the page's word counts (and a
      // browser that hides WebGPU from pages hides it from workers too).
      if (this.pageHasNoGpu) await requestGpu(undefined);
      ctx = await requestGpu(await this.getGpu());
    } catch (e) {
      // Without an adapter the 'auto' engine still runs models, on the CPU.
      if (this.backend === 'webgpu' || !isSparseScopeError(e) || (e.code !== 'no-webgpu' && e.code !== 'no-adapter')) throw e;
      this.gpuUnavailable = { code: e.code, message: e.message };
      return { ...CPU_INFO, gpuUnavailable: this.gpuUnavailable, ...isolation() };
    }
    this.gpuUnavailable = undefined;
    ctx.on((e) => {
      if (e.kind === 'lost') this.onStatus?.({ kind: 'device-lost', message: `GPU device lost (${e.reason}): ${e.message}` });
      else this.onStatus?.({ kind: 'gpu-error', message: `GPU ${e.errorType} error: ${e.message}` });
    });
    this.ctx = ctx;
    return { ...ctx.info, ...isolation() };
  }

  private gpu(): GpuContext {
    if (!this.ctx) throw new SparseScopeError('no-adapter', 'The engine has no GPU device yet: call init() first.');
    if (this.ctx.isLost) throw new SparseScopeError('device-lost', 'The GPU device was lost: restart the engine.');
    return this.ctx;
  }

  async selfTest(): Promise<SelfTestResult> {
    if (!this.ctx && this.gpuUnavailable) return { kernel: 'none (no GPU: the CPU backend runs models)', shape: [0, 0], maxAbsError: 0, ok: true };
    const { device } = this.gpu();
    const rows = 3;
    const n = 1000; // deliberately not a multiple of the 256-thread workgroup
    const x = new Float32Array(rows * n).map((_, i) => Math.sin(i * 0.37) * 3);
    const w = new Float32Array(n).map((_, i) => 1 + Math.cos(i * 0.11) / 2);
    const xb = uploadStorage(device, x, 'selftest:x');
    const wb = uploadStorage(device, w, 'selftest:w');
    const yb = createStorage(device, rows * n * 4, 'selftest:y');
    // the prepared kernel the forward graph runs, used once
    const norm = createRmsnorm(device, { x: xb, weight: wb, y: yb, rows, n, eps: 1e-6 });
    const enc = device.createCommandEncoder({ label: 'selftest' });
    norm.encode(enc);
    device.queue.submit([enc.finish()]);
    const got = await readF32(device, yb, rows * n);
    norm.destroy();
    [xb, wb, yb].forEach((b) => b.destroy());
    const want = rmsnormRef(x, w, rows, n, 1e-6);
    let maxAbsError = 0;
    for (let i = 0; i < got.length; i++) maxAbsError = Math.max(maxAbsError, Math.abs(got[i] - want[i]));
    return { kernel: 'rmsnorm', shape: [rows, n], maxAbsError, ok: maxAbsError < 1e-4 };
  }

  load(source: ModelSource, onEvent: (e: LoadEvent) => void, options: LoadOptions = {}): Promise<ModelSummary> {
    const preference = checkPreference(options.backend ?? this.backend);
    const threads = options.threads ?? this.threads;
    if (!Number.isInteger(threads) || threads < 1) throw new SparseScopeError('bad-argument', `threads must be an integer ≥ 1, got ${threads}`);
    // the device is checked when the load's turn comes, not when it is queued
    return this.queueLoad((signal) => {
      // a forced CPU load needs no device (nor init)
      const ctx = this.gpuUnavailable || preference === 'cpu' ? undefined : this.gpu();
      return ModelRuntime.loadChosen(source, onEvent, {
        preference,
        ctx,
        gpuMissing: this.gpuUnavailable?.message,
        threads,
        cache: this.cache,
        matvecTuning: this.matvecTuning,
        signal,
      });
    });
  }

  protected override loaded(): ModelRuntime {
    // a model on the CPU keeps working whatever happens to the device
    if (this.runtime?.model.backend !== 'cpu') this.gpu();
    return super.loaded();
  }

  async profile(request: ProfileRequest): Promise<ProfileResult> {
    return this.loaded().profile(request);
  }

  async restart(): Promise<EngineInfo> {
    // Everything on the old device is gone with it; the model must be loaded again.
    this.runtime = undefined;
    this.ctx?.destroy();
    this.ctx = undefined;
    return this.init();
  }
}
