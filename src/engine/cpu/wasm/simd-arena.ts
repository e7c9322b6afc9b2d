/**
 * One WebAssembly.Memory for a CPU model: the f16 table the SIMD kernels read at address 0, then every
 * weight's bytes and the matmul scratch, each at a 64-byte aligned address (the kernels' F16 / F32 views
 * need 2 / 4). Shared (a SharedArrayBuffer underneath) when the model runs on a thread pool, so every
 * worker instantiates the same module over the same bytes. wasm32 addresses 4 GiB: allocations over
 * that, an engine without SIMD, or a memory the engine refuses to reserve get `{ reason }` (CpuModel then
 * asks for a small arena and streams the weights through it, or runs the TypeScript kernels).
 */
import { F16_TABLE_BYTES, MAX_PAGES, simdModule, type SimdExports } from './simd-kernels.ts';

const PAGE = 65536;
const ALIGN = 64;

export interface SimdArena {
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  /** memory.buffer, read once: views built on it are what the kernels recognise as theirs */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly exports: SimdExports;
  /** Reserves `bytes` at the next aligned address and returns a view of them (zeroed). */
  take(bytes: number): Uint8Array;
}

const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** Bytes an arena needs for these allocations (the table, then each one aligned). */
export function arenaBytes(allocations: readonly number[]): number {
  return allocations.reduce((a, b) => a + alignUp(b), F16_TABLE_BYTES);
}

/**
 * An arena for `allocations` (byte sizes, taken in any order afterwards), the f16 table filled from
 * `f16` (65,536 f32: makeRowKernels' own table, so both paths read the same scales).
 */
export async function createSimdArena(allocations: readonly number[], shared: boolean, f16: Float32Array): Promise<SimdArena | { reason: string }> {
  const bytes = arenaBytes(allocations);
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES) return { reason: `the model needs ${(bytes / 2 ** 30).toFixed(2)} GiB, more than WebAssembly's 4 GiB memory` };
  const module = await simdModule(shared);
  if (!module) return { reason: `this JavaScript engine has no WebAssembly SIMD${shared ? ' with shared memory' : ''}` };
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
  } catch (e) {
    return { reason: `the engine refused a ${(bytes / 2 ** 30).toFixed(2)} GiB WebAssembly memory (${e instanceof Error ? e.message : String(e)})` };
  }
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const buffer = memory.buffer;
  new Float32Array(buffer, 0, 65536).set(f16);
  let next = F16_TABLE_BYTES;
  return {
    memory,
    module,
    buffer,
    exports: instance.exports as unknown as SimdExports,
    take(n: number): Uint8Array {
      if (next + n > buffer.byteLength) throw new RangeError(`simd arena: ${n} bytes do not fit (${next} of ${buffer.byteLength} taken)`);
      const view = new Uint8Array(buffer, next, n);
      next = alignUp(next + n);
      return view;
    },
  };
}
