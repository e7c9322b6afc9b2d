/**
 * Benchmark helper: time per decoded token of one layer's attention at a given context, dense MLA against
 * DSA (indexer score + top-k + sparse MLA over the chosen rows). Random inputs, DeepSeek-ish small dims by
 * default. Takes the caller's device: it never creates one.
 *
 * Timing (../../batch-timing.ts): `iters` steps (tokens' worth of one layer) recorded in one submit and
 * divided, on the GPU clock where timestamp-query exists; one step per submit measured the submit and
 * wake-up (0.4 ms on an H200 for either path), not the work. The steps rotate over `layers` separate
 * caches, as a model's layers do, so on a hardware GPU the rows read come from memory, not from L2.
 */
import { uploadStorage, createStorage } from '../../buffers.ts';
import { timeBatch, type TimingMethod } from '../../batch-timing.ts';
import { randomF32 } from '../../testing/test-gpu.ts';
import { createMlaAbsorbed } from './mla.ts';
import { createIndexerScore, createTopk, type PreparedStepKernel } from '../dsa/dsa.ts';

export interface MeasureOptions {
  context: number;
  heads: number;
  kvLora: number;
  rope: number;
  indexerHeads: number;
  indexerDim: number;
  topK: number;
  /** steps per timed batch (grown to `minSeconds`) */
  iters: number;
  /** unused: the batch timer always runs one warm-up step first (kept so old option objects still type) */
  warmup: number;
  /** timed batches; the best counts */
  trials: number;
  /** separate caches (ckv, kpe, index keys) the steps rotate over */
  layers: number;
  /** grow each batch until it takes this long on the CPU clock (0: exactly `iters`) */
  minSeconds: number;
}

export const DEFAULT_MEASURE: MeasureOptions = {
  context: 4096,
  heads: 16,
  kvLora: 512,
  rope: 64,
  indexerHeads: 4,
  indexerDim: 64,
  topK: 256,
  iters: 32,
  warmup: 1,
  trials: 3,
  layers: 1,
  minSeconds: 0,
};

export interface MeasureResult {
  options: MeasureOptions;
  /** how the times were measured (every figure the same way) */
  method: TimingMethod;
  /** steps per timed batch of the dense path (after growing to minSeconds) */
  reps: number;
  /** ms per token (one layer), best batch ÷ steps. */
  denseMs: number;
  sparseMs: number;
  /** The sparse path's parts, each timed alone (ms per step). */
  parts: { indexerScoreMs: number; topkMs: number; sparseMlaMs: number };
  /** sparseMs / denseMs */
  ratio: number;
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
  const qI = up(randomF32(HI * DI, 5), 'measure:qI');
  const w = up(randomF32(HI, 6), 'measure:w');
  const out = make(H * L * 4, 'measure:out');
  const scores = make(T * 4, 'measure:scores');
  const idx = make(K * 4, 'measure:idx');
  const kqScale = 1 / Math.sqrt(L + R);
  const step = { nKv: T, qPos0: T - 1 };
  const layers = Math.max(1, o.layers);
  // one random fill per array, copied to every layer (the GPU cannot tell the copies apart)
  const ckvData = randomF32(T * L, 3);
  const kpeData = randomF32(T * R, 4);
  const kIData = randomF32(T * DI, 7);
  const kernels: { destroy(): void }[] = [];
  const per: { dense: PreparedStepKernel; sparse: PreparedStepKernel; score: PreparedStepKernel; topk: PreparedStepKernel }[] = [];
  try {
    for (let l = 0; l < layers; l++) {
      const ckv = up(ckvData, `measure:ckv#${l}`);
      const kpe = up(kpeData, `measure:kpe#${l}`);
      const kI = up(kIData, `measure:kI#${l}`);
      const p = {
        dense: createMlaAbsorbed(device, { heads: H, kvLora: L, rope: R, nq: 1, capacity: T, kqScale, qLat, qPe, ckv, kpe, out }),
        sparse: createMlaAbsorbed(device, { heads: H, kvLora: L, rope: R, nq: 1, capacity: T, kqScale, qLat, qPe, ckv, kpe, out, sparse: { idx, k: K } }),
        score: createIndexerScore(device, { heads: HI, dim: DI, nq: 1, qI, w, kI, scores, scoreStride: T, wScale: 1 / Math.sqrt(HI * DI) }),
        topk: createTopk(device, { nq: 1, k: K, scores, scoreStride: T, idx }),
      };
      per.push(p);
      kernels.push(p.dense, p.sparse, p.score, p.topk);
    }
    let reps = 0;
    let method: TimingMethod = 'timestamp';
    const ms = async (encode: (e: GPUCommandEncoder, p: (typeof per)[number]) => void) => {
      const t = await timeBatch(
        device,
        (e, n) => {
          for (let i = 0; i < n; i++) encode(e, per[i % layers]);
        },
        { reps: o.iters, trials: o.trials, minSeconds: o.minSeconds, multipleOf: layers },
      );
      reps ||= t.reps;
      if (t.method === 'cpu') method = 'cpu';
      return t.seconds * 1000;
    };
    const denseMs = await ms((e, p) => p.dense.encode(e, step));
    const sparseMs = await ms((e, p) => {
      p.score.encode(e, step);
      p.topk.encode(e, step);
      p.sparse.encode(e, step);
    });
    const indexerScoreMs = await ms((e, p) => p.score.encode(e, step));
    const topkMs = await ms((e, p) => p.topk.encode(e, step));
    const sparseMlaMs = await ms((e, p) => p.sparse.encode(e, step));
    return { options: o, method, reps, denseMs, sparseMs, parts: { indexerScoreMs, topkMs, sparseMlaMs }, ratio: sparseMs / denseMs };
  } finally {
    for (const k of kernels) k.destroy();
    for (const b of owned) b.destroy();
  }
}
