/**
 * The browser's pool worker entry: a module Worker the engine's own Worker starts with
 * `new Worker(new URL('./pool-worker.ts', import.meta.url), { type: 'module' })`, which Vite bundles
 * as a worker chunk. Node does not load this file (it runs ./worker-source.ts's text instead).
 */
import { makeRowKernels } from '../kernels/row-kernels.ts';
import { poolWorkerMain, type PoolInit } from './worker-main.ts';

const scope = self as unknown as { onmessage: ((e: MessageEvent<PoolInit>) => void) | null; postMessage(m: unknown): void };
poolWorkerMain(
  {
    onMessage(handler) {
      scope.onmessage = (e) => {
        scope.onmessage = null;
        handler(e.data);
      };
    },
    post: (m) => scope.postMessage(m),
  },
  makeRowKernels,
);
