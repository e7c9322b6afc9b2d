/// <reference lib="webworker" />
/**
 * The Web Worker that owns the GPU: it exposes the engine over comlink and nothing else. The page's
 * engine picks its backend per model ('auto', backend-choice.ts) and runs on the CPU without WebGPU.
 */
import * as Comlink from 'comlink';
import { InProcessEngine } from '../engine/in-process-engine.ts';
import { indexedDbStore } from '../gpu/tuning/idb-store.ts';
import { installErrorTransfer } from './error-transfer.ts';
import { TEST_BUILD } from './test-build.ts';

/** Test builds only: destroys the device so the page's device-lost handling can be exercised. */
class TestBuildEngine extends InProcessEngine {
  async simulateDeviceLoss(): Promise<void> {
    this.ctx?.device.destroy();
  }
}

installErrorTransfer();
const gpu = () => (self.navigator as Navigator).gpu;
// hardware GPUs: each decode matvec's variant measured on first load of a kernel class, kept in IndexedDB
const options = { backend: 'auto', matvecTuning: indexedDbStore() } as const;
Comlink.expose(TEST_BUILD ? new TestBuildEngine(gpu, options) : new InProcessEngine(gpu, options));
