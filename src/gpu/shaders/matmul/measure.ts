/**
 * Bandwidth probes for the benchmark: the decode matvec is memory-bound, so its figure of merit is
 * bytes read per second, compared with what a plain buffer copy achieves on the same device. Software
 * adapters are slow in absolute terms; the ratio is what carries across machines.
 *
 * Timing (../../batch-timing.ts): many matvecs (or copies) in one command buffer and one submit, timed
 * on the GPU clock with timestamp-query where the device has it, else on the CPU clock over the whole
 * batch; `method` says which. On a hardware GPU the working set must also outgrow the last-level cache
 * (an H200 has ~60 MB of L2): a 4096×4096 Q8_0 matrix (17 MB) read 20 times in a row comes from L2 and
 * "beat" a 64 MiB copy. So the matvec rotates over `copies` identical weight buffers (a GPU cannot tell
 * they hold the same bytes) and the copy probe takes a buffer of `bytes` well past the cache.
 */
import { createStorage } from '../../buffers.ts';
import { timeBatch, type TimingMethod } from '../../batch-timing.ts';
import { randomWeightBytes } from '../common/quant-testing.ts';
import { uploadTensor, destroyTensor, type GpuTensor } from '../common/tensor.ts';
import type { WeightType } from '../common/quant-types.ts';
import { createMatvec, type MatvecVariant } from './matvec.ts';
import type { PreparedKernel } from '../common/prepared.ts';
import { createReadProbe, READ_PROBE_LAYOUTS, READ_PROBE_PER, readProbeName } from '../read-probe/read-probe.ts';

export interface MatvecFigure {
  type: WeightType;
  k: number;
  n: number;
  variant: MatvecVariant;
  /** products per timed batch (one submit) */
  reps: number;
  /** distinct weight buffers the batch rotates over (weights read per batch ≫ last-level cache) */
  copies: number;
  /** Bytes one product moves: the weights and x read, plus y written. */
  bytes: number;
  /** how `seconds` was measured: GPU timestamps around the batch, or the CPU clock over it */
  method: TimingMethod;
  /** per product, by `method` */
  seconds: number;
  gbPerS: number;
  /** per product on the CPU clock (submit to done, over the batch) */
  cpuSeconds: number;
  /** Per product on the GPU clock, when timestamp-query exists. */
  gpuSeconds?: number;
  gpuGbPerS?: number;
}

export interface CopyFigure {
  /** Size of the copied buffer. */
  bytes: number;
  /** copies per timed batch */
  reps: number;
  method: TimingMethod;
  /** per copy, by `method` */
  seconds: number;
  /** Memory traffic: each copy reads and writes `bytes`. */
  gbPerS: number;
  /** Bytes copied per second (half the traffic). */
  copyGbPerS: number;
}

/** Timing knobs shared by the probes: `minSeconds` grows the batch until it is long enough to time. */
export interface ProbeTiming {
  reps?: number;
  trials?: number;
  minSeconds?: number;
}

export async function measureMatvec(
  device: GPUDevice,
  o: { type: WeightType; k?: number; n?: number; variant?: MatvecVariant; seed?: number; copies?: number } & ProbeTiming,
): Promise<MatvecFigure> {
  const k = o.k ?? 4096;
  const n = o.n ?? 4096;
  const variant = o.variant ?? {};
  const copies = Math.max(1, o.copies ?? 1);
  const bytesW = randomWeightBytes(o.type, n, k, o.seed ?? 1);
  const ws: GpuTensor[] = [];
  const mvs: PreparedKernel[] = [];
  const x = createStorage(device, k * 4, 'measure-x');
  const y = createStorage(device, n * 4, 'measure-y');
  try {
    for (let c = 0; c < copies; c++) {
      ws.push(uploadTensor(device, { name: `measure-${o.type}#${c}`, type: o.type, shape: [k, n] }, bytesW));
      mvs.push(createMatvec(device, { w: ws[c], x, y }, variant));
    }
    const t = await timeBatch(
      device,
      (enc, reps) => {
        for (let i = 0; i < reps; i++) mvs[i % copies].encode(enc);
      },
      { reps: o.reps ?? 20, trials: o.trials, minSeconds: o.minSeconds, multipleOf: copies },
    );
    const bytes = ws[0].rows * ws[0].rowBytes + k * 4 + n * 4;
    const fig: MatvecFigure = {
      type: o.type,
      k,
      n,
      variant,
      reps: t.reps,
      copies,
      bytes,
      method: t.method,
      seconds: t.seconds,
      gbPerS: bytes / t.seconds / 1e9,
      cpuSeconds: t.cpuSeconds,
    };
    if (t.method === 'timestamp') Object.assign(fig, { gpuSeconds: t.seconds, gpuGbPerS: bytes / t.seconds / 1e9 });
    return fig;
  } finally {
    mvs.forEach((m) => m.destroy());
    ws.forEach((w) => destroyTensor(w));
    x.destroy();
    y.destroy();
  }
}

export async function measureCopy(device: GPUDevice, o: { bytes?: number } & ProbeTiming = {}): Promise<CopyFigure> {
  // copyBufferToBuffer needs a multiple of 4 bytes
  const bytes = Math.floor(Math.min(o.bytes ?? 64 * 2 ** 20, device.limits.maxBufferSize) / 4) * 4;
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
  const a = device.createBuffer({ label: 'measure-copy-a', size: bytes, usage });
  const b = device.createBuffer({ label: 'measure-copy-b', size: bytes, usage });
  try {
    const t = await timeBatch(
      device,
      (enc, reps) => {
        for (let i = 0; i < reps; i++) enc.copyBufferToBuffer(i % 2 ? b : a, 0, i % 2 ? a : b, 0, bytes);
      },
      { reps: o.reps ?? 10, trials: o.trials, minSeconds: o.minSeconds },
    );
    return { bytes, reps: t.reps, method: t.method, seconds: t.seconds, gbPerS: (2 * bytes) / t.seconds / 1e9, copyGbPerS: bytes / t.seconds / 1e9 };
  } finally {
    a.destroy();
    b.destroy();
  }
}

export interface ReadFigure {
  layout: string;
  /** bytes read per dispatch */
  bytes: number;
  reps: number;
  method: TimingMethod;
  seconds: number;
  gbPerS: number;
}

/**
 * The read ceiling: read-probe.wgsl over a buffer of `bytes` in each of its layouts (a matvec's weights are
 * read the same way, with math on top), the fastest first. On an adapter whose copy engine outruns its
 * shaders (a software one: the copy is the driver's memcpy) this, not the copy, bounds every kernel.
 */
export async function measureReadCeiling(device: GPUDevice, o: { bytes?: number } & ProbeTiming = {}): Promise<ReadFigure[]> {
  const perInvocation = READ_PROBE_PER * 16;
  const lcm = Math.max(...READ_PROBE_LAYOUTS.map((l) => l.wg)); // the wgs are powers of two
  const invocations = Math.max(lcm, Math.floor(Math.min(o.bytes ?? 64 * 2 ** 20, device.limits.maxStorageBufferBindingSize) / perInvocation / lcm) * lcm);
  const bytes = invocations * perInvocation;
  const w = createStorage(device, bytes, 'measure-read-w');
  const out = createStorage(device, invocations * 4, 'measure-read-out');
  const figures: ReadFigure[] = [];
  try {
    for (const layout of READ_PROBE_LAYOUTS) {
      const k = createReadProbe(device, { w, out, invocations, layout });
      try {
        const t = await timeBatch(
          device,
          (enc, reps) => {
            for (let i = 0; i < reps; i++) k.encode(enc);
          },
          { reps: o.reps ?? 10, trials: o.trials, minSeconds: o.minSeconds },
        );
        figures.push({ layout: readProbeName(layout), bytes, reps: t.reps, method: t.method, seconds: t.seconds, gbPerS: bytes / t.seconds / 1e9 });
      } finally {
        k.destroy();
      }
    }
  } finally {
    w.destroy();
    out.destroy();
  }
  return figures.sort((a, b) => b.gbPerS - a.gbPerS);
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
