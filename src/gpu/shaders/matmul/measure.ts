/**
 * Bandwidth probes for the benchmark: the decode matvec is memory-bound, so its figure of merit is
 * bytes of weights read per second, compared with what a plain buffer copy achieves on the same
 * device. Software adapters are slow in absolute terms; the ratio is what carries across machines.
 *
 * Timing: `reps` dispatches (or copies) recorded in one command buffer after a warm-up submission
 * (which also compiles the pipeline), timed from submit to queue.onSubmittedWorkDone(); the best of
 * `trials` such submissions counts (machines shared with other work only ever make a run slower).
 * When the device has timestamp-query the matvec is also timed on the GPU clock (first pass start to
 * last pass end of the best trial), reported as `gpuSeconds`.
 */
import { createStorage, readBack } from '../../buffers.ts';
import { randomWeightBytes } from '../common/quant-testing.ts';
import { uploadTensor, destroyTensor } from '../common/tensor.ts';
import type { WeightType } from '../common/quant-types.ts';
import { createMatvec, type MatvecVariant } from './matvec.ts';

export interface MatvecFigure {
  type: WeightType;
  k: number;
  n: number;
  variant: MatvecVariant;
  reps: number;
  /** Bytes one product reads: the weights plus x, plus y written. */
  bytes: number;
  /** Wall time per product. */
  seconds: number;
  gbPerS: number;
  /** Per product on the GPU clock, when timestamp-query exists. */
  gpuSeconds?: number;
  gpuGbPerS?: number;
}

export interface CopyFigure {
  /** Size of the copied buffer. */
  bytes: number;
  reps: number;
  seconds: number;
  /** Memory traffic: each copy reads and writes `bytes`. */
  gbPerS: number;
  /** Bytes copied per second (half the traffic). */
  copyGbPerS: number;
}

async function timeSubmit(device: GPUDevice, record: (enc: GPUCommandEncoder) => void): Promise<number> {
  const enc = device.createCommandEncoder({ label: 'measure' });
  record(enc);
  const cmd = enc.finish();
  const t0 = performance.now();
  device.queue.submit([cmd]);
  await device.queue.onSubmittedWorkDone();
  return (performance.now() - t0) / 1000;
}

export async function measureMatvec(
  device: GPUDevice,
  o: { type: WeightType; k?: number; n?: number; reps?: number; trials?: number; variant?: MatvecVariant; seed?: number },
): Promise<MatvecFigure> {
  const k = o.k ?? 4096;
  const n = o.n ?? 4096;
  const reps = o.reps ?? 20;
  const variant = o.variant ?? {};
  const w = uploadTensor(device, { name: `measure-${o.type}`, type: o.type, shape: [k, n] }, randomWeightBytes(o.type, n, k, o.seed ?? 1));
  const x = createStorage(device, k * 4, 'measure-x');
  const y = createStorage(device, n * 4, 'measure-y');
  const mv = createMatvec(device, { w, x, y }, variant);
  const timestamps = device.features.has('timestamp-query');
  const query = timestamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : undefined;
  const resolve = timestamps ? device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : undefined;
  try {
    await timeSubmit(device, (enc) => mv.encode(enc)); // warm-up: pipeline compile, first touch of the weights
    let seconds = Infinity;
    let gpuSeconds: number | undefined;
    for (let trial = 0; trial < (o.trials ?? 3); trial++) {
      const s =
        (await timeSubmit(device, (enc) => {
          for (let i = 0; i < reps; i++) {
            const tw: GPUComputePassTimestampWrites | undefined =
              query && (i === 0 || i === reps - 1)
                ? { querySet: query, ...(i === 0 ? { beginningOfPassWriteIndex: 0 } : {}), ...(i === reps - 1 ? { endOfPassWriteIndex: 1 } : {}) }
                : undefined;
            mv.encode(enc, tw);
          }
          if (query && resolve) enc.resolveQuerySet(query, 0, 2, resolve, 0);
        })) / reps;
      if (s < seconds) {
        seconds = s;
        if (resolve) {
          const t = new BigUint64Array(await readBack(device, resolve, 16));
          gpuSeconds = Number(t[1] - t[0]) / 1e9 / reps;
        }
      }
    }
    const bytes = w.rows * w.rowBytes + k * 4 + n * 4;
    const fig: MatvecFigure = { type: o.type, k, n, variant, reps, bytes, seconds, gbPerS: bytes / seconds / 1e9 };
    if (gpuSeconds && gpuSeconds > 0) Object.assign(fig, { gpuSeconds, gpuGbPerS: bytes / gpuSeconds / 1e9 });
    return fig;
  } finally {
    mv.destroy();
    destroyTensor(w);
    x.destroy();
    y.destroy();
    query?.destroy();
    resolve?.destroy();
  }
}

export async function measureCopy(device: GPUDevice, o: { bytes?: number; reps?: number; trials?: number } = {}): Promise<CopyFigure> {
  const bytes = Math.min(o.bytes ?? 64 * 2 ** 20, device.limits.maxBufferSize);
  const reps = o.reps ?? 10;
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
  const a = device.createBuffer({ label: 'measure-copy-a', size: bytes, usage });
  const b = device.createBuffer({ label: 'measure-copy-b', size: bytes, usage });
  try {
    await timeSubmit(device, (enc) => enc.copyBufferToBuffer(a, 0, b, 0, bytes)); // first touch
    let seconds = Infinity;
    for (let trial = 0; trial < (o.trials ?? 3); trial++) {
      const s = (await timeSubmit(device, (enc) => {
        for (let i = 0; i < reps; i++) enc.copyBufferToBuffer(i % 2 ? b : a, 0, i % 2 ? a : b, 0, bytes);
      })) / reps;
      seconds = Math.min(seconds, s);
    }
    return { bytes, reps, seconds, gbPerS: (2 * bytes) / seconds / 1e9, copyGbPerS: bytes / seconds / 1e9 };
  } finally {
    a.destroy();
    b.destroy();
  }
}

export interface BandwidthReport {
  copy: CopyFigure;
  matvec: MatvecFigure[];
  /** matvec GB/s ÷ copy traffic GB/s, per matvec figure (same order). */
  ratios: number[];
}

/** The benchmark's probe: the 4096 x 4096 matvec for Q4_K and Q8_0 (default variant), and the copy. */
export async function measureBandwidth(
  device: GPUDevice,
  o: { types?: WeightType[]; reps?: number; variant?: MatvecVariant; copyBytes?: number } = {},
): Promise<BandwidthReport> {
  const copy = await measureCopy(device, { bytes: o.copyBytes });
  const matvec: MatvecFigure[] = [];
  for (const type of o.types ?? (['Q4_K', 'Q8_0'] as WeightType[])) matvec.push(await measureMatvec(device, { type, reps: o.reps, variant: o.variant }));
  return { copy, matvec, ratios: matvec.map((m) => m.gbPerS / copy.gbPerS) };
}
