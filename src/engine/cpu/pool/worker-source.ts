/**
 * The Node pool worker's program as text, started with `new Worker(source, { eval: true })`: the
 * kernels' and the worker loop's own source (Function.prototype.toString), so the same code runs from
 * the TypeScript sources (vitest, tsx) and from the packaged library's bundle, with no worker file to
 * locate next to whichever chunk the bundler put this module in. Both functions are self-contained
 * by contract (see makeRowKernels). `__name` is esbuild's keep-names helper (tsx emits calls to it
 * inside function bodies); here it is a no-op.
 */
import { makeRowKernels } from '../kernels/row-kernels.ts';
import { poolWorkerMain } from './worker-main.ts';

export function nodeWorkerSource(): string {
  return [
    "'use strict';",
    'var __name = function (target) { return target; };',
    `const makeRowKernels = ${makeRowKernels.toString()};`,
    `const poolWorkerMain = ${poolWorkerMain.toString()};`,
    "const { parentPort } = require('node:worker_threads');",
    'poolWorkerMain({ onMessage: (h) => parentPort.once("message", h), post: (m) => parentPort.postMessage(m) }, makeRowKernels);',
  ].join('\n');
}
