/**
 * The package's Node entry: `createEngine({ backend })` runs the engine in this process, on the GPU
 * through Dawn (npm `webgpu`, an optional peer dependency) or on the CPU (the reference forward).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SparseScopeError } from '../errors.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import type { EngineApi } from './protocol.ts';
import { SparseScopeEngine } from './engine.ts';
import { BUNDLED_MODEL_FILE } from './load-source.ts';

export * from './public-types.ts';
export { SparseScopeEngine } from './engine.ts';

export interface CreateEngineOptions {
  /** Default 'webgpu'. */
  backend?: 'webgpu' | 'cpu';
  /** Browser only (Node runs the engine in process). */
  worker?: boolean;
}

/** The bundled model: in the built package (dist/lib/browser/models, this code being dist/lib/ or dist/lib/chunks/), or in the repository (public/models). */
export function bundledModelPath(): string {
  const candidates = [`./browser/models/`, `../browser/models/`, `../../public/models/`].map((dir) => new URL(dir + BUNDLED_MODEL_FILE, import.meta.url));
  const found = candidates.map((u) => fileURLToPath(u)).find((p) => existsSync(p));
  if (!found)
    throw new SparseScopeError('bad-argument', `the bundled model ${BUNDLED_MODEL_FILE} is not installed next to the package; pass a .gguf path to load()`);
  return found;
}

async function gpuEngine(): Promise<EngineApi> {
  const [{ InProcessEngine }, { nodeGpu }] = await Promise.all([import('../engine/in-process-engine.ts'), import('../gpu/node/node-gpu.ts')]);
  return new InProcessEngine(async () => {
    try {
      return await nodeGpu();
    } catch (e) {
      if (e instanceof Error && /Cannot find (package|module) 'webgpu'/.test(e.message)) {
        throw new SparseScopeError(
          'no-webgpu',
          "WebGPU in Node needs the optional package `webgpu` (Dawn): npm i webgpu, or use createEngine({ backend: 'cpu' })",
        );
      }
      throw e;
    }
  });
}

export async function createEngine(o: CreateEngineOptions = {}): Promise<SparseScopeEngine> {
  const backend = o.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu') throw new SparseScopeError('bad-argument', `unknown backend "${String(backend)}"; supported: webgpu, cpu`);
  if (o.worker) throw new SparseScopeError('bad-argument', 'worker: true is for browsers; in Node the engine runs in this process');
  const api = backend === 'cpu' ? new CpuEngine() : await gpuEngine();
  return new SparseScopeEngine({ api, bundled: bundledModelPath, paths: true });
}
