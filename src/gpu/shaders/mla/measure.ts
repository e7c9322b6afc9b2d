/**
 * Benchmark helper: time per decoded token of one layer's attention at a given context, dense MLA against
 * DSA (indexer score + top-k + sparse MLA over the chosen rows). Random inputs, DeepSeek-ish small dims by
 * default. Each variant is encoded as one step per submit and timed to onSubmittedWorkDone (median of
 * `iters`, after warm-up runs that also compile the pipelines). Takes the caller's device: it never creates one.
 */
import { uploadStorage, createStorage } from '../../buffers.ts';
import { randomF32 } from '../../testing/test-gpu.ts';
import { createMlaAbsorbed } from './mla.ts';
import { createIndexerScore, createTopk } from '../dsa/dsa.ts';

export interface MeasureOptions {
  context: number;
  heads: number;
  kvLora: number;
  rope: number;
  indexerHeads: number;
  indexerDim: number;
  topK: number;
  iters: number;
  warmup: number;
}

export const DEFAULT_MEASURE: MeasureOptions = {
  context: 4096,
  heads: 16,
  kvLora: 512,
  rope: 64,
  indexerHeads: 4,
  indexerDim: 64,
  topK: 256,
  iters: 7,
  warmup: 2,
};

export interface MeasureResult {
  options: MeasureOptions;
  /** Median ms per token. */
  denseMs: number;
  sparseMs: number;
  /** The sparse path's parts, each timed alone (median ms). */
  parts: { indexerScoreMs: number; topkMs: number; sparseMlaMs: number };
  /** sparseMs / denseMs */
  ratio: number;
}

async function timeIt(device: GPUDevice, record: (enc: GPUCommandEncoder) => void, iters: number, warmup: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < warmup + iters; i++) {
    await device.queue.onSubmittedWorkDone();
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    record(enc);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export async function measureSparseVsDense(device: GPUDevice, opts: Partial<MeasureOptions> = {}): Promise<MeasureResult> {
  const o = { ...DEFAULT_MEASURE, ...opts };
  const { context: T, heads: H, kvLora: L, rope: R, indexerHeads: HI, indexerDim: DI, topK: K } = o;
  const owned: GPUBuffer[] = [];
  const up = (a: Float32Array, label: string) => {
    const b = uploadStorage(device, a, label);
    owned.push(b);
    return b;
  };
  const make = (bytes: number, label: string) => {
    const b = createStorage(device, bytes, label);
    owned.push(b);
    return b;
  };
  const qLat = up(randomF32(H * L, 1), 'measure:qLat');
  const qPe = up(randomF32(H * R, 2), 'measure:qPe');
  const ckv = up(randomF32(T * L, 3), 'measure:ckv');
  const kpe = up(randomF32(T * R, 4), 'measure:kpe');
  const qI = up(randomF32(HI * DI, 5), 'measure:qI');
  const w = up(randomF32(HI, 6), 'measure:w');
  const kI = up(randomF32(T * DI, 7), 'measure:kI');
  const out = make(H * L * 4, 'measure:out');
  const scores = make(T * 4, 'measure:scores');
  const idx = make(K * 4, 'measure:idx');
  const kqScale = 1 / Math.sqrt(L + R);
  const step = { nKv: T, qPos0: T - 1 };

  const dense = createMlaAbsorbed(device, { heads: H, kvLora: L, rope: R, nq: 1, capacity: T, kqScale, qLat, qPe, ckv, kpe, out });
  const sparse = createMlaAbsorbed(device, { heads: H, kvLora: L, rope: R, nq: 1, capacity: T, kqScale, qLat, qPe, ckv, kpe, out, sparse: { idx, k: K } });
  const score = createIndexerScore(device, { heads: HI, dim: DI, nq: 1, qI, w, kI, scores, scoreStride: T, wScale: 1 / Math.sqrt(HI * DI) });
  const topk = createTopk(device, { nq: 1, k: K, scores, scoreStride: T, idx });
  try {
    const { iters, warmup } = o;
    const denseMs = await timeIt(device, (e) => dense.encode(e, step), iters, warmup);
    const sparseMs = await timeIt(
      device,
      (e) => {
        score.encode(e, step);
        topk.encode(e, step);
        sparse.encode(e, step);
      },
      iters,
      warmup,
    );
    const indexerScoreMs = await timeIt(device, (e) => score.encode(e, step), iters, warmup);
    const topkMs = await timeIt(device, (e) => topk.encode(e, step), iters, warmup);
    const sparseMlaMs = await timeIt(device, (e) => sparse.encode(e, step), iters, warmup);
    return { options: o, denseMs, sparseMs, parts: { indexerScoreMs, topkMs, sparseMlaMs }, ratio: sparseMs / denseMs };
  } finally {
    for (const k of [dense, sparse, score, topk]) k.destroy();
    for (const b of owned) b.destroy();
  }
}
