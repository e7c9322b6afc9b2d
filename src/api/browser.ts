/**
 * The package's browser entry: `createEngine()` runs the WebGPU engine in a Web Worker (the page's own
 * engine, src/worker/client.ts), or in the calling thread with `worker: false`; `backend: 'cpu'` runs
 * the reference forward in the calling thread (small models only).
 */
import { SparseScopeError } from '../errors.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import type { EngineApi } from './protocol.ts';
import { SparseScopeEngine } from './engine.ts';

export * from './public-types.ts';
export { SparseScopeEngine } from './engine.ts';

export interface CreateEngineOptions {
  /** Default 'webgpu'. */
  backend?: 'webgpu' | 'cpu';
  /** WebGPU only: run the engine in a Web Worker (default true). */
  worker?: boolean;
  /** Where the bundled model is served from (default: models/ next to this module). */
  bundledModelUrl?: string;
}

export async function createEngine(o: CreateEngineOptions = {}): Promise<SparseScopeEngine> {
  const backend = o.backend ?? 'webgpu';
  let api: EngineApi;
  if (backend === 'cpu') api = new CpuEngine();
  else if (backend !== 'webgpu') throw new SparseScopeError('bad-argument', `unknown backend "${String(backend)}"; supported: webgpu, cpu`);
  else if (o.worker ?? true) api = (await import('../worker/client.ts')).createWorkerEngine();
  else {
    const { InProcessEngine } = await import('../engine/in-process-engine.ts');
    api = new InProcessEngine(() => navigator.gpu);
  }
  // A literal `new URL(..., import.meta.url)`: an app's Vite build finds the file next to this module in the
  // package (dist/lib/browser/models) and emits it as an asset; unbundled, the browser fetches it from there.
  const bundled = () => o.bundledModelUrl ?? new URL('./models/sparsescope-kjv-5m-q8_0.gguf', import.meta.url).href;
  return new SparseScopeEngine({ api, bundled, paths: false });
}
