/**
 * Which backend runs a model, and why (docs/backends.md). The rule:
 *   - a forced preference (`webgpu` | `cpu`, the page's settings or the CLI) wins;
 *   - no WebGPU adapter → the CPU;
 *   - a hardware GPU → WebGPU;
 *   - a software adapter (SwiftShader, llvmpipe/lavapipe, WARP: the CPU runs the shaders) → both are
 *     measured on the loaded model (one decode step each, after a warm-up step) and the faster one is
 *     kept; the measurement is cached per adapter + model shape + threads, so it runs once.
 * Pure functions only: the measuring is in backend-measure.ts, the cache in backend-choice-cache.ts.
 */
import type { GpuInfo } from '../gpu/device.ts';
import { SparseScopeError } from '../errors.ts';
import type { AnyModelShape, BackendChoice, BackendPreference } from '../api/protocol.ts';

export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'webgpu', 'cpu'];

export function checkPreference(p: unknown): BackendPreference {
  if (p === undefined) return 'auto';
  if (typeof p === 'string' && (BACKEND_PREFERENCES as readonly string[]).includes(p)) return p as BackendPreference;
  throw new SparseScopeError('bad-argument', `unknown backend "${String(p)}"; supported: ${BACKEND_PREFERENCES.join(', ')}`);
}

/** One decode step's wall time on each backend, ms (the faster wins). */
export interface BackendTiming {
  webgpuMs: number;
  cpuMs: number;
  /** CPU threads the CPU step ran on. */
  threads: number;
}

export type BackendPlan = { kind: 'use'; backend: 'webgpu' | 'cpu'; why: 'forced' | 'no-gpu' | 'hardware' | 'cached' } | { kind: 'measure' };

/**
 * `gpu`: the adapter the engine got, undefined without one. `cached`: an earlier measurement for this
 * adapter and model shape. Throws when WebGPU is forced and there is no adapter.
 */
export function planBackend(preference: BackendPreference, gpu: GpuInfo | undefined, cached?: BackendTiming, gpuMissing?: string): BackendPlan {
  if (preference === 'cpu') return { kind: 'use', backend: 'cpu', why: 'forced' };
  if (preference === 'webgpu') {
    if (!gpu)
      throw new SparseScopeError(
        'no-adapter',
        `the WebGPU backend was asked for, but ${gpuMissing ?? 'there is no WebGPU adapter'}; choose the CPU backend (or auto)`,
      );
    return { kind: 'use', backend: 'webgpu', why: 'forced' };
  }
  if (!gpu) return { kind: 'use', backend: 'cpu', why: 'no-gpu' };
  if (!gpu.software) return { kind: 'use', backend: 'webgpu', why: 'hardware' };
  if (cached) return { kind: 'use', backend: fasterOf(cached), why: 'cached' };
  return { kind: 'measure' };
}

export function fasterOf(t: BackendTiming): 'webgpu' | 'cpu' {
  return t.cpuMs < t.webgpuMs ? 'cpu' : 'webgpu';
}

/**
 * The cache key: the adapter as it reports itself, the CPU threads, and what decides a decode step's
 * cost (the architecture sizes, the vocabulary and the weights' storage types).
 */
export function choiceKey(gpu: GpuInfo, threads: number, shape: AnyModelShape, vocab: number, tensorTypes: readonly string[]): string {
  const adapter = [gpu.vendor, gpu.architecture, gpu.device, gpu.description].join('/');
  const types = [...new Set(tensorTypes)].sort().join(',');
  return `${adapter}|threads=${threads}|vocab=${vocab}|${types}|${JSON.stringify(shape)}`;
}

/**
 * Failures of a WebGPU load that the CPU may not share (the adapter's limits, its memory, a kernel not
 * written yet): with `auto`, the CPU is tried instead. Anything else (a bad file) fails the load.
 */
export function gpuMayNotFit(e: unknown): e is SparseScopeError {
  return (
    e instanceof SparseScopeError &&
    (e.code === 'device-limits' || e.code === 'out-of-memory' || e.code === 'unsupported-quant' || e.code === 'not-implemented')
  );
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(2));

/** The choice the engine reports (ModelSummary.backendChoice), with its reason in one sentence. */
export function describeChoice(
  backend: 'webgpu' | 'cpu',
  plan: BackendPlan,
  o: {
    preference: BackendPreference;
    gpu?: GpuInfo;
    gpuMissing?: string;
    threads: number;
    timing?: BackendTiming;
    cpuFailed?: string;
    gpuFailed?: string;
    /** the CPU model's decode dots: undefined = WebAssembly SIMD, else why TypeScript runs them */
    simdUnavailable?: string;
  },
): BackendChoice {
  const adapter = o.gpu ? `${o.gpu.name}${o.gpu.software ? ' (software)' : ''}` : undefined;
  const simd = backend === 'cpu' && o.simdUnavailable === undefined;
  const label = backend === 'cpu' ? `CPU${simd ? ' (WebAssembly SIMD)' : ''}, ${o.threads} thread${o.threads === 1 ? '' : 's'}` : `WebGPU: ${adapter}`;
  const t = o.timing;
  const compared = t ? `one decode step took ${ms(t.cpuMs)} ms on the CPU and ${ms(t.webgpuMs)} ms on WebGPU` : '';
  let reason: string;
  if (o.gpuFailed) reason = `the adapter is ${adapter}, but WebGPU cannot run this model (${o.gpuFailed})`;
  else if (o.cpuFailed) reason = `the adapter is ${adapter}, but the CPU backend cannot hold this model (${o.cpuFailed})`;
  else if (plan.kind === 'use' && plan.why === 'forced') reason = `asked for (backend: ${o.preference})`;
  else if (plan.kind === 'use' && plan.why === 'no-gpu') reason = o.gpuMissing ?? 'there is no WebGPU adapter';
  else if (plan.kind === 'use' && plan.why === 'hardware') reason = `the adapter is a hardware GPU (${adapter})`;
  else if (t) {
    const ratio = backend === 'cpu' ? t.webgpuMs / t.cpuMs : t.cpuMs / t.webgpuMs;
    const fromCache = plan.kind === 'use' && plan.why === 'cached' ? ', measured earlier on this adapter and model shape' : '';
    reason = `the adapter is ${adapter} and the ${backend === 'cpu' ? 'CPU' : 'GPU'} measured ${ratio.toFixed(1)}× faster (${compared}${fromCache})`;
  } else reason = 'auto';
  const cpuKernels = backend !== 'cpu' ? undefined : simd ? 'WebAssembly SIMD' : `TypeScript (no SIMD: ${o.simdUnavailable})`;
  return { backend, preference: o.preference, label, reason, threads: backend === 'cpu' ? o.threads : undefined, cpuKernels, adapter, timing: t };
}
