/**
 * `EngineApi` on the CPU: the same ModelRuntime as InProcessEngine, over CpuModel (the reference forward)
 * instead of the GPU. No device: init reports a CPU "adapter", and the Speed view's profile is not
 * available. Loads run one after another; a bad file leaves the current model working.
 */
import type { GpuInfo } from '../../gpu/device.ts';
import { SparseScopeError } from '../../errors.ts';
import { ModelRuntime } from '../model-runtime.ts';
import type {
  EngineApi,
  GenerateEvent,
  GenerateRequest,
  LoadEvent,
  ModelSource,
  ModelSummary,
  SelfTestResult,
  StepRequest,
  StepResult,
  TokenTrace,
  TraceRequest,
} from '../../worker/protocol.ts';

export const CPU_INFO: GpuInfo = {
  vendor: 'cpu',
  architecture: 'reference',
  device: 'CPU',
  description: 'CPU reference forward (f32)',
  name: 'CPU (reference forward)',
  features: [],
  limits: {},
  hasF16: false,
  hasSubgroups: false,
  hasTimestamps: false,
};

export class CpuEngine implements EngineApi {
  private runtime: ModelRuntime | undefined;
  private loads: Promise<unknown> = Promise.resolve();

  async init(): Promise<GpuInfo> {
    return CPU_INFO;
  }

  async selfTest(): Promise<SelfTestResult> {
    return { kernel: 'none (CPU)', shape: [0, 0], maxAbsError: 0, ok: true };
  }

  load(source: ModelSource, onEvent: (e: LoadEvent) => void): Promise<ModelSummary> {
    const run = this.loads.then(async () => {
      const runtime = await ModelRuntime.loadCpu(source, onEvent);
      this.runtime?.destroy();
      this.runtime = runtime;
      return runtime.summary;
    });
    this.loads = run.catch(() => undefined);
    return run;
  }

  private loaded(): ModelRuntime {
    if (!this.runtime) throw new SparseScopeError('bad-argument', 'No model is loaded yet.');
    return this.runtime;
  }

  async generate(request: GenerateRequest, onEvent: (e: GenerateEvent) => void): Promise<void> {
    return this.loaded().generate(request, onEvent);
  }

  async abort(): Promise<void> {
    this.runtime?.abort();
  }

  async trace(prompt: string, request: TraceRequest, indexTopK?: number): Promise<TokenTrace[]> {
    return this.loaded().trace(prompt, request, indexTopK);
  }

  async step(request: StepRequest): Promise<StepResult> {
    return this.loaded().step(request);
  }

  async restart(): Promise<GpuInfo> {
    return CPU_INFO;
  }
}
