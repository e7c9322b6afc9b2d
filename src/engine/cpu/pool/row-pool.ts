/**
 * N-1 workers plus the engine thread splitting each matmul's output rows. Weights, inputs and
 * outputs live in SharedArrayBuffers; a job is a few Int32 fields in a shared control block:
 * the engine thread writes them, bumps the generation (Atomics.notify), computes its own share of
 * rows, then Atomics.waits until every worker has counted itself done. Participant i of P takes rows
 * [⌊i·rows/P⌋, ⌊(i+1)·rows/P⌋): each row is computed by the same code whichever thread gets it, so
 * results are bitwise identical for any thread count.
 *
 * Node: worker_threads, started from ./worker-source.ts's text. Browser (the engine already runs in a
 * Worker): module Workers from ./pool-worker.ts. Atomics.wait blocks the calling thread: fine in
 * Node's main thread and in Workers, not allowed on a page's main thread.
 */
import { SparseScopeError } from '../../../errors.ts';
import type { RowJob, RowKernels, WeightView } from '../kernels/row-kernels.ts';
import type { PoolInit } from './worker-main.ts';
import { nodeWorkerSource } from './worker-source.ts';

/** Int32 slots of the control block (worker-main.ts reads the same). */
const CTL = {
  gen: 0,
  done: 1,
  error: 2,
  exit: 3,
  weight: 4,
  rows: 5,
  rowOffset: 6,
  T: 7,
  xBase: 8,
  xTok: 9,
  groupRows: 10,
  xGroup: 11,
  yBase: 12,
  yTok: 13,
  die: 14,
} as const;
const CTL_SLOTS = 16;

/** The engine thread waits for the workers in slices this long, re-checking their progress between. */
const WAIT_SLICE_MS = 50;
/** Atomics.load polls before the engine thread sleeps on the workers' done count. */
const ENGINE_SPIN = 20000;
/**
 * A job whose workers make no progress (no share counted done) for this long after the engine thread
 * finished its own share, and at least STALL_FACTOR times what that share took, has a dead worker.
 * Shares are equal (rows / threads): a live worker on a loaded machine is slower, not 20× slower.
 */
export const DEFAULT_STALL_MS = 5000;
const STALL_FACTOR = 20;

interface AnyWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

export interface PoolOptions {
  /** no-progress time after which a job's missing workers count as dead (default DEFAULT_STALL_MS) */
  stallMs?: number;
  /**
   * The SIMD kernels' module and shared memory (../wasm/simd-arena.ts), when the weights and scratch
   * live there: each worker instantiates the module over the same memory.
   */
  simd?: { module: WebAssembly.Module; memory: WebAssembly.Memory; buffer: ArrayBufferLike; staging?: number };
}

/**
 * True where a pool can run here: SharedArrayBuffer exists (a browser page must be cross-origin
 * isolated) and this thread may block in Atomics.wait (Node, a Worker; not a page's main thread,
 * where `createEngine({ backend: 'cpu' })` of the browser entry runs: that stays single-threaded).
 */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  const g = globalThis as { crossOriginIsolated?: boolean; document?: unknown };
  if (g.document !== undefined) return false;
  return g.crossOriginIsolated !== false;
}

export class RowPool {
  private readonly ctl: Int32Array;
  private destroyed = false;
  /** set by a worker's exit / error event (seen between jobs, when the event loop has run) */
  private deadWorker: string | undefined;
  private stallMs = DEFAULT_STALL_MS;

  private constructor(
    private readonly kernels: RowKernels,
    private readonly workers: AnyWorker[],
    control: SharedArrayBuffer,
    private readonly views: readonly WeightView[],
    private readonly F: Float32Array,
    private readonly scratch: Float32Array,
  ) {
    this.ctl = new Int32Array(control);
  }

  /** participants, the engine thread included */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Starts threads-1 workers over `views` (whose bytes must be SharedArrayBuffer-backed) and the
   * shared scratch `F`; resolves once every worker is waiting for jobs.
   */
  static async create(kernels: RowKernels, threads: number, views: readonly WeightView[], F: Float32Array, o: PoolOptions = {}): Promise<RowPool> {
    if (!(F.buffer instanceof SharedArrayBuffer)) throw new SparseScopeError('bad-argument', 'the pool scratch must be a SharedArrayBuffer');
    const control = new SharedArrayBuffer(CTL_SLOTS * 4);
    const maxK = views.reduce((a, v) => Math.max(a, v.K), 1);
    const weights = views.map((v) => {
      if (!(v.u8.buffer instanceof SharedArrayBuffer)) throw new SparseScopeError('bad-argument', 'pool weights must be SharedArrayBuffer-backed');
      const inSimd = o.simd !== undefined && v.u8.buffer === o.simd.buffer;
      return { type: v.type, K: v.K, rows: v.rows, buffer: v.u8.buffer, byteOffset: v.u8.byteOffset, byteLength: v.u8.byteLength, inSimd };
    });
    if (o.simd && F.buffer !== o.simd.buffer) throw new SparseScopeError('bad-argument', 'with SIMD kernels the pool scratch must live in their memory');
    const simd = o.simd && { module: o.simd.module, memory: o.simd.memory, staging: o.simd.staging };
    const workers: AnyWorker[] = [];
    const ready: Promise<void>[] = [];
    const isNode = typeof process !== 'undefined' && !!process.versions?.node;
    try {
      for (let i = 1; i < threads; i++) {
        const init: PoolInit = {
          index: i,
          participants: threads,
          control,
          scratch: F.buffer,
          scratchOffset: F.byteOffset,
          scratchLength: F.length,
          maxK,
          weights,
          simd,
        };
        if (isNode) {
          const { Worker } = await import('node:worker_threads');
          const w = new Worker(nodeWorkerSource(), { eval: true });
          // a pool left undestroyed must not keep the process alive
          w.unref();
          workers.push(w);
          ready.push(
            new Promise((resolve, reject) => {
              w.once('message', () => resolve());
              w.once('error', reject);
            }),
          );
          w.postMessage(init);
        } else {
          const w = new Worker(new URL('./pool-worker.ts', import.meta.url), { type: 'module' });
          workers.push(w);
          ready.push(
            new Promise((resolve, reject) => {
              w.onmessage = () => resolve();
              w.onerror = (e) => reject(new Error(e.message || 'the CPU pool worker failed to start'));
            }),
          );
          w.postMessage(init);
        }
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw new SparseScopeError('bad-argument', `the CPU thread pool could not start ${threads - 1} workers: ${e instanceof Error ? e.message : String(e)}`);
    }
    const pool = new RowPool(kernels, workers, control, views, F, new Float32Array(maxK));
    pool.stallMs = o.stallMs ?? DEFAULT_STALL_MS;
    workers.forEach((w, i) => {
      const dead = (why: string) => {
        if (!pool.destroyed) pool.deadWorker ??= `worker ${i + 1} ${why}`;
      };
      if (isNode) {
        const nw = w as unknown as { on(ev: string, f: (x: unknown) => void): void };
        nw.on('exit', (code) => dead(`exited (code ${String(code)})`));
        nw.on('error', (e) => dead(`failed (${e instanceof Error ? e.message : String(e)})`));
      } else {
        (w as Worker).onerror = (e) => dead(`failed (${e.message || 'error'})`);
      }
    });
    return pool;
  }

  /** Tests: terminates worker `index` (1..threads-1) and lets its exit event arrive. */
  async terminateWorkerForTest(index: number): Promise<void> {
    await this.workers[index - 1].terminate();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Tests: worker `index` (1..threads-1) stops mid-way through the next job, never reporting done. */
  killWorkerOnNextJobForTest(index: number): void {
    Atomics.store(this.ctl, CTL.die, index);
  }

  /** Runs `job` (rows [0, rows)) over all threads; `job.r0/r1` are ignored. Blocks until every share is done. */
  run(weight: number, rows: number, job: RowJob): void {
    if (this.destroyed) throw new SparseScopeError('bad-argument', 'the CPU thread pool was destroyed');
    if (this.deadWorker) throw new SparseScopeError('worker-failed', `a CPU pool ${this.deadWorker}; the next matmuls run on the engine thread alone`);
    const c = this.ctl;
    c[CTL.weight] = weight;
    c[CTL.rows] = rows;
    c[CTL.rowOffset] = job.rowOffset;
    c[CTL.T] = job.T;
    c[CTL.xBase] = job.xBase;
    c[CTL.xTok] = job.xTok;
    c[CTL.groupRows] = job.groupRows;
    c[CTL.xGroup] = job.xGroup;
    c[CTL.yBase] = job.yBase;
    c[CTL.yTok] = job.yTok;
    Atomics.store(c, CTL.done, 0);
    Atomics.add(c, CTL.gen, 1);
    Atomics.notify(c, CTL.gen);
    // the engine thread is participant 0
    const P = this.threads;
    job.r0 = 0;
    job.r1 = Math.floor(rows / P);
    const t0 = performance.now();
    this.kernels.runRows(this.views[weight], job, this.F, this.F, this.scratch);
    const mine = performance.now() - t0;
    const n = this.workers.length;
    // bounded wait: a worker that died holding its share must not hang the engine thread forever
    const stall = Math.max(this.stallMs, STALL_FACTOR * mine);
    let last = Atomics.load(c, CTL.done);
    let since = performance.now();
    // the workers usually finish within microseconds of the engine thread's own share: spin briefly first
    for (let spin = 0; spin < ENGINE_SPIN && Atomics.load(c, CTL.done) < n; spin++);
    for (let d = Atomics.load(c, CTL.done); d < n; d = Atomics.load(c, CTL.done)) {
      Atomics.wait(c, CTL.done, d, WAIT_SLICE_MS);
      const now = performance.now();
      const got = Atomics.load(c, CTL.done);
      if (got !== last) {
        last = got;
        since = now;
      } else if (now - since > stall) {
        this.deadWorker = `worker stopped answering (${n - got} of ${n} workers did not finish a matmul of weight ${weight} within ${Math.round(stall)} ms)`;
        throw new SparseScopeError('worker-failed', `a CPU pool ${this.deadWorker}; the next matmuls run on the engine thread alone`);
      }
    }
    const failed = Atomics.exchange(c, CTL.error, 0);
    if (failed !== 0) throw new SparseScopeError('bad-argument', `CPU pool worker ${failed} failed on a matmul of weight ${weight}`);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    Atomics.store(this.ctl, CTL.exit, 1);
    Atomics.add(this.ctl, CTL.gen, 1);
    Atomics.notify(this.ctl, CTL.gen);
    for (const w of this.workers) void w.terminate();
  }
}
