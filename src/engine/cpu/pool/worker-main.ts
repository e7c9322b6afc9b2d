/**
 * A pool worker's whole life, written self-contained (like makeRowKernels) because Node workers get
 * its source text: one init message (control block, scratch, every weight's shared bytes), a 'ready'
 * reply, then a loop blocked in Atomics.wait on the job generation, computing its share of each job's
 * rows and counting itself done. The control block's layout is CTL in ./row-pool.ts.
 */
import type { RowJob, RowKernels, SimdBinding, WeightView } from '../kernels/row-kernels.ts';
import type { SimdExports } from '../wasm/simd-kernels.ts';

export interface PoolPort {
  onMessage(handler: (m: PoolInit) => void): void;
  post(m: unknown): void;
}

export interface PoolInit {
  /** this worker's participant index, 1..workers (the engine thread is 0) */
  index: number;
  participants: number;
  control: SharedArrayBuffer;
  /** the matmul scratch: scratchLength floats at byte scratchOffset of `scratch`, or of the SIMD memory when `simd` is set */
  scratch: SharedArrayBuffer;
  scratchOffset: number;
  scratchLength: number;
  maxK: number;
  /** `inSimd`: the bytes live in the SIMD memory (`buffer` is then that memory's) */
  weights: { type: number; K: number; rows: number; buffer: SharedArrayBuffer; byteOffset: number; byteLength: number; inSimd: boolean }[];
  /**
   * The WebAssembly SIMD kernels' module and the shared memory holding the scratch (and the weights,
   * unless `staging`: then participant i copies rows in at staging + i · 64 KiB)
   */
  simd?: { module: WebAssembly.Module; memory: WebAssembly.Memory; staging?: number };
}

export function poolWorkerMain(port: PoolPort, makeKernels: (simd?: SimdBinding) => RowKernels): void {
  port.onMessage((m) => {
    // control Int32 slots (row-pool.ts CTL): 0 gen, 1 done, 2 error, 3 exit, 4 weight, 5 rows, 6 rowOffset,
    // 7 T, 8 xBase, 9 xTok, 10 groupRows, 11 xGroup, 12 yBase, 13 yTok, 14 die (tests: this index stops mid-job)
    // this thread's instance of the SIMD kernels over the same memory; views on its buffer run there
    const simd: SimdBinding | undefined = m.simd
      ? {
          buffer: m.simd.memory.buffer,
          ex: new WebAssembly.Instance(m.simd.module, { env: { memory: m.simd.memory } }).exports as unknown as SimdExports,
          staging: m.simd.staging === undefined ? undefined : m.simd.staging + m.index * 65536,
        }
      : undefined;
    const k = makeKernels(simd);
    const ctl = new Int32Array(m.control);
    const F = new Float32Array(simd ? simd.buffer : m.scratch, m.scratchOffset, m.scratchLength);
    const views: WeightView[] = m.weights.map((w) =>
      k.view(w.type, w.K, w.rows, new Uint8Array(w.inSimd && simd ? simd.buffer : w.buffer, w.byteOffset, w.byteLength)),
    );
    const scratch = new Float32Array(m.maxK);
    const me = m.index;
    const P = m.participants;
    const job: RowJob = { r0: 0, r1: 0, rowOffset: 0, T: 1, xBase: 0, xTok: 0, groupRows: 1, xGroup: 0, yBase: 0, yTok: 0 };
    port.post('ready');
    let gen = 0;
    const SPIN = 20000;
    for (;;) {
      // a short spin before sleeping: decode issues a job every ~0.1-0.3 ms, and a futex wake-up costs a
      // good part of that (measured: npm run bench:cpu, 2 threads); then block as before
      for (let spin = 0; spin < SPIN && Atomics.load(ctl, 0) === gen; spin++);
      Atomics.wait(ctl, 0, gen);
      gen = Atomics.load(ctl, 0);
      if (Atomics.load(ctl, 3) === 1) return;
      // a worker that dies holding a job (what RowPool must survive): it never counts itself done
      if (Atomics.load(ctl, 14) === me) return;
      try {
        const rows = ctl[5];
        job.r0 = Math.floor((me * rows) / P);
        job.r1 = Math.floor(((me + 1) * rows) / P);
        job.rowOffset = ctl[6];
        job.T = ctl[7];
        job.xBase = ctl[8];
        job.xTok = ctl[9];
        job.groupRows = ctl[10];
        job.xGroup = ctl[11];
        job.yBase = ctl[12];
        job.yTok = ctl[13];
        k.runRows(views[ctl[4]], job, F, F, scratch);
      } catch {
        Atomics.store(ctl, 2, me);
      }
      Atomics.add(ctl, 1, 1);
      Atomics.notify(ctl, 1);
    }
  });
}
