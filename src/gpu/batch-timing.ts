/**
 * Batch timing for the measure helpers and the benchmark. One kernel on a real GPU takes microseconds,
 * about what a submit and a CPU wake-up cost, so timing one submit per kernel measures the overhead
 * (an H200 showed 0.4 ms per attention step whichever path ran). Here `reps` repetitions are recorded
 * in one command encoder and submitted once, and the time is divided by `reps`:
 *  - 'timestamp': with timestamp-query, two empty compute passes bracket the batch (the first writes
 *    its beginning, the last its end), so the GPU clock spans exactly the recorded work, whatever the
 *    work is (copies have no timestamp writes of their own);
 *  - 'cpu': otherwise, submit → onSubmittedWorkDone on the CPU clock, which includes one submit and
 *    one wake-up per batch; a batch long enough (`minSeconds`) makes that share small.
 * The best of `trials` batches counts: shared machines only ever make a run slower.
 */

export type TimingMethod = 'timestamp' | 'cpu';

export interface BatchTiming {
  /** how `seconds` was measured */
  method: TimingMethod;
  /** repetitions per timed batch (after calibration to `minSeconds`) */
  reps: number;
  /** per repetition, by `method` (best trial) */
  seconds: number;
  /** per repetition on the CPU clock (best trial), for comparison */
  cpuSeconds: number;
}

export interface BatchOptions {
  reps: number;
  trials?: number;
  /** grow `reps` until one batch takes at least this long on the CPU clock (0: keep `reps`) */
  minSeconds?: number;
  /** cap on the grown `reps` (encoding cost and memory) */
  maxReps?: number;
  /** reps is rounded up to a multiple of this (e.g. the number of rotated buffers) */
  multipleOf?: number;
}

/** Records `reps` repetitions of the work into `enc` (the helper adds the timestamp brackets). */
export type RecordBatch = (enc: GPUCommandEncoder, reps: number) => void;

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

export async function timeBatch(device: GPUDevice, record: RecordBatch, o: BatchOptions): Promise<BatchTiming> {
  const m = Math.max(1, o.multipleOf ?? 1);
  const maxReps = Math.max(m, o.maxReps ?? 4096);
  let reps = Math.min(maxReps, roundUp(Math.max(1, o.reps), m));
  const timestamps = device.features.has('timestamp-query');
  const query = timestamps ? device.createQuerySet({ type: 'timestamp', count: 2, label: 'batch-timing' }) : undefined;
  const resolve = query && device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'batch-timing:resolve' });
  const read = query && device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'batch-timing:read' });

  const run = async (n: number): Promise<{ cpu: number; gpu?: number }> => {
    const enc = device.createCommandEncoder({ label: 'batch-timing' });
    if (query) enc.beginComputePass({ timestampWrites: { querySet: query, beginningOfPassWriteIndex: 0 } }).end();
    record(enc, n);
    if (query && resolve && read) {
      enc.beginComputePass({ timestampWrites: { querySet: query, endOfPassWriteIndex: 1 } }).end();
      enc.resolveQuerySet(query, 0, 2, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
    }
    const cmd = enc.finish();
    const t0 = performance.now();
    device.queue.submit([cmd]);
    await device.queue.onSubmittedWorkDone();
    const cpu = (performance.now() - t0) / 1000;
    if (!read) return { cpu };
    await read.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    return { cpu, gpu: t[1] > t[0] ? Number(t[1] - t[0]) / 1e9 : undefined };
  };

  try {
    await run(1); // warm-up: pipeline compiles, first touch of every buffer the batch reads
    if (o.minSeconds) {
      // calibrate: a batch too short is dominated by the submit (cpu) or by timestamp granularity
      for (let i = 0; i < 8 && reps < maxReps; i++) {
        const { cpu } = await run(reps);
        if (cpu >= o.minSeconds) break;
        reps = Math.min(maxReps, roundUp(Math.ceil((reps * 1.25 * o.minSeconds) / Math.max(cpu, 1e-5)), m));
      }
    }
    let cpuBest = Infinity;
    let gpuBest = Infinity;
    for (let t = 0; t < (o.trials ?? 3); t++) {
      const { cpu, gpu } = await run(reps);
      cpuBest = Math.min(cpuBest, cpu);
      if (gpu !== undefined) gpuBest = Math.min(gpuBest, gpu);
    }
    // a GPU span longer than the CPU span around it would be a broken clock: fall back to the CPU one
    const gpuOk = Number.isFinite(gpuBest) && gpuBest > 0 && gpuBest <= cpuBest * 1.05;
    return { method: gpuOk ? 'timestamp' : 'cpu', reps, seconds: (gpuOk ? gpuBest : cpuBest) / reps, cpuSeconds: cpuBest / reps };
  } finally {
    query?.destroy();
    resolve?.destroy();
    read?.destroy();
  }
}
