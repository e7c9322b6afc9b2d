/**
 * The engine behind `EngineApi`, in the calling thread: the Worker exposes an instance of it, and Node
 * code (CLI, tests) uses it directly. It owns the GPU context and reacts to its loss.
 */
import { requestGpu, type GpuContext, type GpuInfo } from '../gpu/device.ts';
import { uploadStorage, createStorage, readF32 } from '../gpu/buffers.ts';
import { encodeRmsnorm } from '../gpu/shaders/rmsnorm/rmsnorm.ts';
import { rmsnormRef } from '../gpu/shaders/rmsnorm/rmsnorm.ref.ts';
import { SparseScopeError } from '../errors.ts';
import { ModelRuntime } from './model-runtime.ts';
import { RuntimeEngine } from './runtime-engine.ts';
import type {
  EngineApi,
  EngineStatusEvent,
  LoadEvent,
  ModelSource,
  ModelSummary,
  ProfileRequest,
  ProfileResult,
  SelfTestResult,
} from '../worker/protocol.ts';

export class InProcessEngine extends RuntimeEngine implements EngineApi {
  /** Protected so the test build's Worker can destroy the device (src/worker/engine.worker.ts). */
  protected ctx: GpuContext | undefined;
  private onStatus: ((e: EngineStatusEvent) => void) | undefined;

  /** `getGpu` returns navigator.gpu in a browser or Worker, Dawn's GPU in Node. */
  constructor(private readonly getGpu: () => GPU | undefined | Promise<GPU | undefined>) {
    super();
  }

  async init(onStatus?: (e: EngineStatusEvent) => void): Promise<GpuInfo> {
    if (onStatus) this.onStatus = onStatus;
    if (this.ctx && !this.ctx.isLost) return this.ctx.info;
    const ctx = await requestGpu(await this.getGpu());
    ctx.on((e) => {
      if (e.kind === 'lost') this.onStatus?.({ kind: 'device-lost', message: `GPU device lost (${e.reason}): ${e.message}` });
      else this.onStatus?.({ kind: 'gpu-error', message: `GPU ${e.errorType} error: ${e.message}` });
    });
    this.ctx = ctx;
    return ctx.info;
  }

  private gpu(): GpuContext {
    if (!this.ctx) throw new SparseScopeError('no-adapter', 'The engine has no GPU device yet: call init() first.');
    if (this.ctx.isLost) throw new SparseScopeError('device-lost', 'The GPU device was lost: restart the engine.');
    return this.ctx;
  }

  async selfTest(): Promise<SelfTestResult> {
    const { device } = this.gpu();
    const rows = 3;
    const n = 1000; // deliberately not a multiple of the 256-thread workgroup
    const x = new Float32Array(rows * n).map((_, i) => Math.sin(i * 0.37) * 3);
    const w = new Float32Array(n).map((_, i) => 1 + Math.cos(i * 0.11) / 2);
    const xb = uploadStorage(device, x, 'selftest:x');
    const wb = uploadStorage(device, w, 'selftest:w');
    const yb = createStorage(device, rows * n * 4, 'selftest:y');
    const enc = device.createCommandEncoder({ label: 'selftest' });
    encodeRmsnorm(device, enc, { x: xb, weight: wb, y: yb, rows, n, eps: 1e-6 });
    device.queue.submit([enc.finish()]);
    const got = await readF32(device, yb, rows * n);
    [xb, wb, yb].forEach((b) => b.destroy());
    const want = rmsnormRef(x, w, rows, n, 1e-6);
    let maxAbsError = 0;
    for (let i = 0; i < got.length; i++) maxAbsError = Math.max(maxAbsError, Math.abs(got[i] - want[i]));
    return { kernel: 'rmsnorm', shape: [rows, n], maxAbsError, ok: maxAbsError < 1e-4 };
  }

  load(source: ModelSource, onEvent: (e: LoadEvent) => void): Promise<ModelSummary> {
    // the device is checked when the load's turn comes, not when it is queued
    return this.queueLoad(() => ModelRuntime.load(this.gpu(), source, onEvent));
  }

  protected override loaded(): ModelRuntime {
    this.gpu();
    return super.loaded();
  }

  async profile(request: ProfileRequest): Promise<ProfileResult> {
    return this.loaded().profile(request);
  }

  async restart(): Promise<GpuInfo> {
    // Everything on the old device is gone with it; the model must be loaded again.
    this.runtime = undefined;
    this.ctx?.destroy();
    this.ctx = undefined;
    return this.init();
  }
}
