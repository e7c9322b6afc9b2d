/**
 * The page's handle on the engine Worker: the same `EngineApi` as in-process, with callbacks wrapped as
 * comlink proxies so events stream back from the worker; load and generate resolve after their last event.
 */
import * as Comlink from 'comlink';
import type { EngineApi } from '../api/protocol.ts';
import type { InProcessEngine } from '../engine/in-process-engine.ts';
import { installErrorTransfer } from './error-transfer.ts';
import { TEST_BUILD } from './test-build.ts';

/** `simulateDeviceLoss` exists in test builds only (./test-build.ts): production has no way to destroy the device. */
export type WorkerEngine = EngineApi & { simulateDeviceLoss?(): Promise<void>; terminate(): void };

/** How long a finished call waits for its final event before resolving anyway (a lost event never hangs the page). */
const FINAL_EVENT_GRACE_MS = 5_000;

/**
 * Comlink delivers a callback's events on the proxy's own channel, so a call's reply can overtake its
 * last events. Resolves with the call's result only once the final event (`last`) has been delivered
 * too, so callers may treat "resolved" as "every event seen" (the chat saves a reply then).
 */
async function afterFinalEvent<E extends { kind: string }, T>(
  call: (onEvent: (e: E) => void) => Promise<T>,
  onEvent: (e: E) => void,
  last: E['kind'],
): Promise<T> {
  let seen: () => void = () => {};
  const delivered = new Promise<void>((resolve) => (seen = resolve));
  const result = await call(
    Comlink.proxy((e: E) => {
      onEvent(e);
      if (e.kind === last) seen();
    }),
  );
  await Promise.race([delivered, new Promise((resolve) => setTimeout(resolve, FINAL_EVENT_GRACE_MS))]);
  return result;
}

export function createWorkerEngine(): WorkerEngine {
  installErrorTransfer();
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'sparsescope-engine' });
  const remote = Comlink.wrap<InProcessEngine & { simulateDeviceLoss(): Promise<void> }>(worker);
  return {
    init: (onStatus, options) => remote.init(onStatus && Comlink.proxy(onStatus), options),
    selfTest: () => remote.selfTest(),
    load: (source, onEvent, options) => afterFinalEvent((cb) => remote.load(source, cb, options), onEvent, 'ready'),
    generate: (request, onEvent) => afterFinalEvent((cb) => remote.generate(request, cb), onEvent, 'done'),
    abort: () => remote.abort(),
    trace: (prompt, request, k, oracle) => remote.trace(prompt, request, k, oracle),
    step: (request) => remote.step(request),
    profile: (request) => remote.profile(request),
    restart: () => remote.restart(),
    ...(TEST_BUILD ? { simulateDeviceLoss: () => remote.simulateDeviceLoss() } : {}),
    terminate: () => worker.terminate(),
  };
}
