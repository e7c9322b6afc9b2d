/**
 * WebGPU in Node through Dawn (npm `webgpu`). `nodeGpu()` returns a `GPU` object like `navigator.gpu`.
 *
 * Adapter choice, so a user never exports variables: with SPARSESCOPE_ADAPTER unset we first ask Dawn
 * with the machine's own Vulkan drivers (a real GPU when there is one); when that finds nothing we point
 * the Vulkan loader at the software drivers the test setup installed (lavapipe, then SwiftShader).
 * SPARSESCOPE_ADAPTER=swiftshader|lavapipe|system forces one (the GPU test suite uses it).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SparseScopeError } from '../../errors.ts';
import { isSoftwareAdapter } from '../device.ts';
import { setDawnPolling, type DawnPolling } from './dawn-polling.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SOFTWARE_ICDS: Record<string, string> = {
  lavapipe: join(root, '.cache', 'lavapipe', 'lvp_icd.json'),
  swiftshader: '/usr/lib/chromium/vk_swiftshader_icd.json',
};

type DawnModule = typeof import('webgpu');
let dawn: DawnModule | undefined;

async function loadDawn(): Promise<DawnModule> {
  if (!dawn) {
    dawn = await import('webgpu');
    // Dawn's globals (GPUBufferUsage, GPUValidationError, ...) are what browser code expects to find.
    Object.assign(globalThis, dawn.globals);
  }
  return dawn;
}

function useDriver(icd: string | undefined): void {
  // The Vulkan loader reads these when Dawn creates its instance, so setting them in-process works.
  if (icd) {
    process.env.VK_DRIVER_FILES = icd;
    process.env.VK_ICD_FILENAMES = icd;
  } else {
    delete process.env.VK_DRIVER_FILES;
    delete process.env.VK_ICD_FILENAMES;
  }
  process.env.NODEVICE_SELECT ??= '1';
}

/**
 * Software adapters run shaders on this CPU's cores, which Dawn's busy polling would compete for
 * (dawn-polling.ts); SPARSESCOPE_DAWN_POLLING=busy|polite overrides the choice.
 */
function pollingFor(software: boolean): DawnPolling {
  const forced = process.env.SPARSESCOPE_DAWN_POLLING;
  if (forced === 'busy' || forced === 'polite') return forced;
  if (forced) throw new SparseScopeError('bad-argument', `SPARSESCOPE_DAWN_POLLING must be busy or polite, not ${forced}`);
  return software ? 'polite' : 'busy';
}

/** Returns a GPU whose requestAdapter() finds an adapter, or throws 'no-adapter' naming what was tried. */
export async function nodeGpu(): Promise<GPU> {
  const { create } = await loadDawn();
  const forced = process.env.SPARSESCOPE_ADAPTER;
  const candidates = forced ? [forced] : process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES ? ['env'] : ['system', 'lavapipe', 'swiftshader'];
  const tried: string[] = [];
  for (const name of candidates) {
    if (name !== 'env') {
      const icd = name === 'system' ? undefined : SOFTWARE_ICDS[name];
      if (name !== 'system' && (!icd || !existsSync(icd))) {
        tried.push(`${name} (not installed: run npm run setup:test)`);
        continue;
      }
      useDriver(icd);
    }
    const gpu = create([]);
    const adapter = await gpu.requestAdapter();
    if (adapter) {
      setDawnPolling(pollingFor(isSoftwareAdapter(adapter.info)));
      return gpu;
    }
    tried.push(name === 'env' ? `VK_DRIVER_FILES=${process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES}` : name);
  }
  throw new SparseScopeError('no-adapter', `No WebGPU adapter found in Node (tried: ${tried.join(', ')}).`);
}
