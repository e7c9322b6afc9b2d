/// <reference lib="webworker" />
/** The Web Worker that owns the GPU: it exposes the engine over comlink and nothing else. */
import * as Comlink from 'comlink';
import { InProcessEngine } from '../engine/in-process-engine.ts';
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
Comlink.expose(TEST_BUILD ? new TestBuildEngine(gpu) : new InProcessEngine(gpu));
