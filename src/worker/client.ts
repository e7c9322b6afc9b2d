/**
 * The page's handle on the engine Worker: the same `EngineApi` as in-process, with callbacks wrapped as
 * comlink proxies so events stream back from the worker.
 */
import * as Comlink from 'comlink';
import type { EngineApi } from './protocol.ts';
import type { InProcessEngine } from '../engine/in-process-engine.ts';
import { installErrorTransfer } from './error-transfer.ts';

export type WorkerEngine = EngineApi & { simulateDeviceLoss(): Promise<void>; terminate(): void };

export function createWorkerEngine(): WorkerEngine {
  installErrorTransfer();
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'sparsescope-engine' });
  const remote = Comlink.wrap<InProcessEngine>(worker);
  return {
    init: (onStatus) => remote.init(onStatus && Comlink.proxy(onStatus)),
    selfTest: () => remote.selfTest(),
    load: (source, onEvent) => remote.load(source, Comlink.proxy(onEvent)),
    generate: (request, onEvent) => remote.generate(request, Comlink.proxy(onEvent)),
    abort: () => remote.abort(),
    trace: (prompt, request, k) => remote.trace(prompt, request, k),
    step: (request) => remote.step(request),
    profile: (request) => remote.profile(request),
    restart: () => remote.restart(),
    simulateDeviceLoss: () => remote.simulateDeviceLoss(),
    terminate: () => worker.terminate(),
  };
}
