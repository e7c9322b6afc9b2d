/**
 * `EngineApi` on the CPU: the same ModelRuntime as InProcessEngine, over CpuModel (the reference forward
 * over the file's quantized blocks, matmuls split over threads) instead of the GPU. No device: init reports a CPU "adapter", and the Speed view's profile is not
 * available. Loads run one after another; a bad file leaves the current model working.
 */
import type { GpuInfo } from '../../gpu/device.ts';
import { ModelRuntime } from '../model-runtime.ts';
import { RuntimeEngine } from '../runtime-engine.ts';
import type { EngineApi, LoadEvent, ModelSource, ModelSummary, SelfTestResult } from '../../api/protocol.ts';

export const CPU_INFO: GpuInfo = {
  vendor: 'cpu',
  architecture: 'reference',
  device: 'CPU',
  description: 'CPU forward over the GGUF blocks (src/engine/cpu)',
  name: 'CPU',
  features: [],
  limits: {},
  hasF16: false,
  hasSubgroups: false,
  hasTimestamps: false,
};

export class CpuEngine extends RuntimeEngine implements EngineApi {
  async init(): Promise<GpuInfo> {
    return CPU_INFO;
  }

  async selfTest(): Promise<SelfTestResult> {
    return { kernel: 'none (CPU)', shape: [0, 0], maxAbsError: 0, ok: true };
  }

  load(source: ModelSource, onEvent: (e: LoadEvent) => void): Promise<ModelSummary> {
    return this.queueLoad((signal) => ModelRuntime.loadCpu(source, onEvent, signal));
  }

  async restart(): Promise<GpuInfo> {
    return CPU_INFO;
  }
}
