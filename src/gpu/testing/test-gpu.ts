/**
 * The GPU test suites' device. scripts/gpu-suite.mjs runs the `gpu` vitest project once per software
 * adapter with SPARSESCOPE_ADAPTER set; here we insist that the adapter really exists and is the one
 * named, so a missing driver FAILS the suite instead of skipping it or silently using another adapter.
 */
import { requestGpu, type GpuContext } from '../device.ts';
import { nodeGpu } from '../node/node-gpu.ts';

/** Substrings of the adapter description that identify each software adapter. */
const ADAPTER_SIGNATURES: Record<string, RegExp> = {
  swiftshader: /swiftshader/i,
  lavapipe: /llvmpipe|lavapipe/i,
};

let shared: Promise<GpuContext> | undefined;

export function testGpu(): Promise<GpuContext> {
  shared ??= (async () => {
    const expected = process.env.SPARSESCOPE_ADAPTER;
    const ctx = await requestGpu(await nodeGpu());
    const signature = expected ? ADAPTER_SIGNATURES[expected] : undefined;
    const seen = `${ctx.info.vendor} ${ctx.info.architecture} ${ctx.info.description}`;
    if (signature && !signature.test(seen)) {
      throw new Error(`SPARSESCOPE_ADAPTER=${expected} but Dawn gave "${seen}"`);
    }
    ctx.on((e) => console.error(`[gpu ${e.kind}] ${e.message}`));
    return ctx;
  })();
  return shared;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Deterministic pseudo-random floats in [-scale, scale) (mulberry32), for test inputs. */
export function randomF32(count: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}
