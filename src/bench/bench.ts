/**
 * `npm run bench`: every figure measured side by side in one run on one WebGPU adapter (plus llama.cpp
 * on the CPU, same file), reported as ratios where the adapter's absolute speed does not carry over
 * (docs/webgpu-without-a-gpu.md, docs/measurements.md). No thresholds here: the aims are printed next to the figures, never asserted.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requestGpu, type GpuContext } from '../gpu/device.ts';
import { nodeGpu } from '../gpu/node/node-gpu.ts';
import { measureCopy, measureMatvec, measureReadCeiling, type CopyFigure, type MatvecFigure, type ReadFigure } from '../gpu/shaders/matmul/measure.ts';
import { preferredMatvecVariant } from '../gpu/shaders/matmul/matvec.ts';
import { openMatvecTuner, matvecCandidates, formatTuningSummary, type MatvecTuningSummary } from '../gpu/shaders/matmul/tune.ts';
import { memoryStore } from '../gpu/tuning/store.ts';
import { measureSparseVsDense, type MeasureResult, type MeasureOptions } from '../gpu/shaders/mla/measure.ts';
import { writeFixture, type FixtureDims } from '../tools/fixture/fixture.ts';
import { openGguf } from '../gguf/reader.ts';
import { argmax } from '../model/sampling.ts';
import { WebGpuModel } from '../engine/webgpu/webgpu-model.ts';
import { rowBytes } from '../gpu/shaders/common/quant-types.ts';
import { weightBytes, cacheReadBytes, type WeightBytes } from './bytes.ts';
import { benchLlama, type LlamaFigures } from './llama.ts';
import { comparePolling, type PollingComparison } from './polling.ts';
import {
  countDispatchesByLayer,
  countGpuWork,
  measureDispatchOverhead,
  overheadSeconds,
  type DispatchOverhead,
  type LayerDispatches,
  type TokenCounts,
} from './overhead.ts';

/** small: sized for a software adapter; large: for a hardware GPU (memory-bound, past its caches). */
export type BenchSize = 'small' | 'large';

export interface BenchOptions {
  quick: boolean;
  /** default: small on a software adapter, large on a hardware one */
  size?: BenchSize;
  /** skip llama.cpp */
  noLlama?: boolean;
  /** llama.cpp CPU threads (default 1: these machines are shared, and ggml's spinning barriers collapse when a core is taken) */
  threads?: number;
  /** decoded tokens per context */
  decode?: number;
  contexts?: number[];
  /** where generated models are kept between runs (default: a temp dir, removed after the run) */
  cacheDir?: string;
  log?: (line: string) => void;
}

/** What a prefill and a decode measured, as the bench and the twin bench (twin-bench.ts) report them. */
export interface DecodeFigures {
  prefillTokPerS: number;
  decodeTokPerS: number;
  /** modelled bytes per decoded token (bytes.ts): active weights + cache rows read, averaged over the decoded tokens */
  bytesPerToken: number;
  /** bytesPerToken × decode tokens/s */
  decodeGbPerS: number;
  /** decodeGbPerS ÷ copy traffic GB/s on the same adapter */
  decodeVsCopy: number;
  /** GPU work one decoded token issued (counted on one extra, untimed token) */
  perToken: TokenCounts;
}

export interface EngineRun extends DecodeFigures {
  context: number;
  topK: number;
  prefillSeconds: number;
  /** the decode graph's dispatches by layer (counted by encoding its steps once, unsubmitted) */
  perLayer: LayerDispatches;
  /** perToken priced at the measured empty-dispatch overheads: a lower bound on the time per token */
  overheadSeconds: number;
  /** overheadSeconds × decode tokens/s: the share of a token's time the overheads alone explain */
  overheadShare: number;
}

export interface BenchResult {
  date: string;
  quick: boolean;
  /** which sizes ran, and why */
  size: { name: BenchSize | 'quick'; reason: string };
  adapter: { name: string; vendor: string; architecture: string; description: string; hasF16: boolean; hasSubgroups: boolean; software: boolean };
  /** the better of copyRuns */
  copy: CopyFigure;
  /** GB/s of every copy measured in the engine's polling mode: before the kernels, after them, in the polling comparison */
  copyRuns: number[];
  /**
   * A kernel that only reads (read-probe.wgsl) in each layout, fastest first, with its GB/s ÷ copy traffic:
   * the ceiling of every kernel here (a software adapter's copy is the driver's memcpy, which no shader reaches).
   */
  read: (ReadFigure & { vsCopy: number })[];
  /** The matvec variant the engine runs on this adapter, per weight type. */
  matvec: (MatvecFigure & { vsCopy: number; vsRead: number })[];
  /**
   * Every matvec variant the tuner may choose on this adapter, side by side on the same matrix; `engine`
   * marks the default (preferredMatvecVariant), `tuned` the tuner's choice for the matrix's class.
   */
  matvecVariants: (MatvecFigure & { vsCopy: number; vsRead: number; variantName: string; engine: boolean; tuned: boolean })[];
  /** The tuner run on this adapter (fresh, not from a cache) for the bench's matrix, per weight type. */
  matvecTuning: MatvecTuningSummary;
  /** Node's GPU wait: Dawn's busy polling against polite polling, copy and the tuned Q8_0 matvec */
  polling: PollingComparison;
  attention: MeasureResult;
  overhead: DispatchOverhead;
  model: {
    dims: Partial<FixtureDims>;
    qtype: string;
    fileBytes: number;
    weights: WeightBytes;
    activeFraction: number;
    /** null: reused from the cache dir */ generateSeconds: number | null;
  };
  engine: { loadSeconds: number; runs: EngineRun[] };
  llama?: LlamaFigures & { fileBytes: number };
  notes: string[];
}

// Small: sized for a software adapter on a shared 2-core machine (the whole run < 10 min): embd 1024 with 3
// layers took ~1 s per token there (prefill and decode alike), which puts 2 × (256 + 1K) prompt
// tokens far past the budget. Q4_K rows need multiples of 256; narrower inputs fall back to Q8_0.
const FULL_DIMS: Partial<FixtureDims> = {
  embd: 512,
  layers: 2,
  leadingDense: 1,
  heads: 8,
  qLora: 256,
  kvLora: 256,
  nope: 32,
  rope: 32,
  v: 64,
  ffn: 1024,
  experts: 8,
  used: 2,
  shared: 1,
  ffx: 256,
  groups: 0,
  groupsUsed: 0,
  indexerHeads: 4,
  indexerKeyLength: 64,
  topK: 256,
  context: 4096,
  merges: 160,
};
const QUICK_DIMS: Partial<FixtureDims> = {
  embd: 256,
  layers: 2,
  leadingDense: 1,
  heads: 4,
  qLora: 256,
  kvLora: 256,
  nope: 32,
  rope: 32,
  v: 64,
  ffn: 512,
  experts: 4,
  used: 2,
  shared: 1,
  ffx: 256,
  groups: 0,
  groupsUsed: 0,
  indexerHeads: 4,
  indexerKeyLength: 64,
  topK: 32,
  context: 512,
  merges: 160,
};

// Large: for a hardware GPU. The small model (4 MB) sits in an H200's 60 MB L2 and decode measured
// per-pass overhead; here ~100 MB of active weights per token (Q4_K, ~190 MB file) must come from
// memory. Its quantized tensors are written as random blocks (seconds; quantizing its ~340 M values took ~3 min).
const LARGE_DIMS: Partial<FixtureDims> = {
  embd: 2048,
  layers: 4,
  leadingDense: 1,
  heads: 16,
  qLora: 768,
  kvLora: 512,
  nope: 128,
  rope: 64,
  v: 128,
  ffn: 6144,
  experts: 8,
  used: 2,
  shared: 1,
  ffx: 1536,
  groups: 0,
  groupsUsed: 0,
  indexerHeads: 8,
  indexerKeyLength: 128,
  topK: 256,
  context: 8192,
  merges: 160,
};

const MiB = 2 ** 20;

/** Everything that differs between the sizes. */
interface Sizing {
  dims: Partial<FixtureDims>;
  contexts: number[];
  decode: number;
  /** matvec rows = columns */
  kn: number;
  copyBytes: number;
  reps: number;
  /** grow every timed batch to this long (hardware: far above submit cost and timestamp granularity) */
  minSeconds: number;
  /** distinct weight bytes the matvec batch rotates over (0: one matrix) */
  matvecWorkingSet: number;
  attention: Partial<MeasureOptions>;
  overheadN: number;
}

function sizing(name: BenchSize | 'quick'): Sizing {
  if (name === 'quick') {
    return {
      dims: QUICK_DIMS,
      contexts: [32, 64],
      decode: 3,
      kn: 1024,
      copyBytes: 16 * MiB,
      reps: 4,
      minSeconds: 0,
      matvecWorkingSet: 0,
      attention: { context: 512, topK: 64, iters: 3, trials: 1 },
      overheadN: 64,
    };
  }
  if (name === 'small') {
    // today's sizes: a 4K attention step takes ~0.25 s dense on lavapipe, so few steps per batch
    return {
      dims: FULL_DIMS,
      contexts: [256, 1024],
      decode: 8,
      kn: 4096,
      copyBytes: 64 * MiB,
      reps: 10,
      minSeconds: 0,
      matvecWorkingSet: 0,
      attention: { context: 4096, topK: 256, iters: 3, trials: 2 },
      overheadN: 256,
    };
  }
  // large: every working set ≥ 512 MiB, far past any GPU's last-level cache (H200 L2 ~60 MB, MI300 256 MB)
  const cachePerLayer = 4096 * (512 + 64 + 64) * 4; // ckv + kpe + index keys at 4K context, f32
  return {
    dims: LARGE_DIMS,
    contexts: [256, 1024, 4096],
    decode: 32,
    kn: 4096,
    copyBytes: 256 * MiB,
    reps: 16,
    minSeconds: 0.05,
    matvecWorkingSet: 512 * MiB,
    attention: { context: 4096, topK: 256, iters: 64, trials: 3, minSeconds: 0.05, layers: Math.ceil((512 * MiB) / cachePerLayer) },
    overheadN: 4096,
  };
}

/** Deterministic prompt ids inside the fixture's byte tokens (no BOS/EOS). */
export function promptTokens(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256);
}

const secs = (t0: number) => (performance.now() - t0) / 1000;

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => {});
  const quick = o.quick;
  const notes: string[] = [];
  const ctx: GpuContext = await requestGpu(await nodeGpu());
  const dir = mkdtempSync(join(tmpdir(), 'sparsescope-bench-'));
  try {
    const { device, info } = ctx;
    const software = info.software === true;
    const size: BenchResult['size'] = quick
      ? { name: 'quick', reason: '--quick' }
      : o.size
        ? { name: o.size, reason: '--size' }
        : { name: software ? 'small' : 'large', reason: software ? 'software adapter' : 'hardware adapter' };
    const z = sizing(size.name);
    const dims = z.dims;
    const contexts = o.contexts ?? z.contexts;
    const decode = o.decode ?? z.decode;
    const topK = dims.topK!;
    log(`adapter: ${info.name}; sizes: ${size.name} (${size.reason}); timestamps: ${info.hasTimestamps ? 'yes' : 'no'}`);

    // 1. kernels: quantized matvec against plain copy bandwidth, many per submit (batch-timing.ts)
    const kn = z.kn;
    const timing = { reps: z.reps, minSeconds: z.minSeconds };
    // the yardstick: copy bandwidth, the best of every copy measured in the engine's polling mode (before
    // the kernels, after them, in the polling comparison): a shared machine's noise only ever lowers a
    // copy, and a low yardstick would flatter every ratio. The ratios are recomputed once all are in.
    const copyBefore = await measureCopy(device, { bytes: z.copyBytes, ...timing });
    log(`copy: ${copyBefore.gbPerS.toFixed(2)} GB/s traffic (${copyBefore.method})`);
    let copy = copyBefore;
    const read = (await measureReadCeiling(device, { bytes: z.copyBytes, ...timing })).map((r) => ({ ...r, vsCopy: r.gbPerS / copy.gbPerS }));
    for (const r of read) log(`read ceiling, ${r.layout}: ${r.gbPerS.toFixed(2)} GB/s = ${r.vsCopy.toFixed(3)} x copy (${r.method})`);
    const matvec: BenchResult['matvec'] = [];
    const matvecVariants: BenchResult['matvecVariants'] = [];
    const preferred = preferredMatvecVariant({ software, hasSubgroups: info.hasSubgroups }, kn, kn);
    const variants = matvecCandidates({ software, hasSubgroups: info.hasSubgroups });
    // the tuner as the engine would run it at first use, its own timing (a fresh memory store: never cached here)
    const tuner = await openMatvecTuner(device, info, memoryStore(), 'bench');
    for (const type of ['Q4_K', 'Q8_0'] as const) {
      const tunedChoice = (await tuner.tune(type, kn, kn)).choice;
      const one = rowBytes(type, kn) * kn;
      const copies = Math.max(1, Math.ceil(z.matvecWorkingSet / one));
      for (const { name: variantName, variant } of variants) {
        const m = await measureMatvec(device, { type, k: kn, n: kn, variant, copies, reps: Math.max(2 * z.reps, copies), minSeconds: z.minSeconds });
        const engine = JSON.stringify(variant) === JSON.stringify(preferred);
        const tuned = variantName === tunedChoice;
        const fig = { ...m, vsCopy: m.gbPerS / copy.gbPerS, vsRead: m.gbPerS / read[0].gbPerS };
        matvecVariants.push({ ...fig, variantName, engine, tuned });
        if (engine) matvec.push(fig);
        log(
          `matvec ${type} ${kn}x${kn} ${variantName}${engine ? ' (default)' : ''}${tuned ? ' (tuned)' : ''}: ${m.gbPerS.toFixed(2)} GB/s = ${fig.vsCopy.toFixed(3)} x copy = ${fig.vsRead.toFixed(3)} x read ceiling (${m.method}, ${copies} weight copies)`,
        );
      }
    }
    const copyAfter = await measureCopy(device, { bytes: z.copyBytes, ...timing });
    log(`copy again after the kernels: ${copyAfter.gbPerS.toFixed(2)} GB/s traffic (${copyAfter.method})`);
    const matvecTuning = tuner.summary();
    for (const l of formatTuningSummary(matvecTuning)) log(l);

    // 1b. how Node waits for the GPU: busy polling against polite polling, side by side
    const q8 = matvecVariants.find((m) => m.type === 'Q8_0' && m.tuned) ?? matvecVariants.find((m) => m.type === 'Q8_0')!;
    const polling = await comparePolling(device, { type: 'Q8_0', kn, variant: q8.variant, variantName: q8.variantName, copyBytes: z.copyBytes, ...timing });
    for (const p of [polling.busy, polling.polite])
      log(`Node's GPU wait, ${p.mode} polling: copy ${p.copyGbPerS.toFixed(2)} GB/s, Q8_0 matvec ${p.matvecGbPerS.toFixed(2)} GB/s`);
    // every copy measured in the engine's polling mode counts toward the yardstick: the best of them
    const copies = [copyBefore, copyAfter, polling[polling.engineMode].copy].filter((c): c is CopyFigure => c !== undefined);
    const copyRuns = copies.map((c) => c.gbPerS);
    copy = copies.reduce((a, b) => (b.gbPerS > a.gbPerS ? b : a));
    for (const r of read) r.vsCopy = r.gbPerS / copy.gbPerS;
    for (const m of [...matvec, ...matvecVariants]) m.vsCopy = m.gbPerS / copy.gbPerS;

    // 2. attention: dense MLA against DSA (indexer score + top-k + sparse MLA), one layer, per token
    const attention = await measureSparseVsDense(device, z.attention);
    log(`attention: sparse/dense ${attention.ratio.toFixed(3)} (${attention.method}, ${attention.reps} steps per batch)`);

    // 3. what an empty dispatch, pass, submit and readback cost: decode's floor on this adapter
    const overhead = await measureDispatchOverhead(device, z.overheadN);
    log(
      `overhead: dispatch ${overhead.dispatchUs.toFixed(1)} µs, pass ${overhead.passUs.toFixed(1)} µs, submit ${overhead.submitUs.toFixed(1)} µs, round trip ${overhead.roundTripUs.toFixed(1)} µs`,
    );

    // 4. the whole engine on a generated Q4_K deepseek32 model
    // large: random blocks (the weights' values do not change a timing; quantizing ~340 M values took ~3 min)
    const fixtureOptions = {
      arch: 'deepseek32',
      qtype: 'Q4_K',
      gating: 'sigmoid',
      dims,
      seed: 11,
      ...(size.name === 'large' ? { randomBlocks: true } : {}),
    } as const;
    const key = createHash('sha256').update(JSON.stringify(fixtureOptions)).digest('hex').slice(0, 12);
    const path = join(o.cacheDir ?? dir, `bench-deepseek32-q4k-${key}.gguf`);
    let t0 = performance.now();
    let generateSeconds: number | null = null;
    if (o.cacheDir && existsSync(path)) {
      log(`model: reusing ${path}`);
    } else {
      mkdirSync(dirname(path), { recursive: true });
      await writeFixture(`${path}.tmp`, fixtureOptions);
      renameSync(`${path}.tmp`, path);
      generateSeconds = secs(t0);
      log(`model generated in ${generateSeconds.toFixed(1)} s: ${path}`);
    }
    const maxCtx = Math.max(...contexts) + decode + 1; // + the counted token
    t0 = performance.now();
    const file = await openGguf({ kind: 'path', path });
    const model = await WebGpuModel.load(ctx, file, { contextSize: maxCtx });
    await file.close();
    const loadSeconds = secs(t0);
    const config = model.config;
    if ('family' in config) throw new Error(`the engine bench models are MLA fixtures; ${path} is ${config.arch}`);
    const wb = weightBytes(config, file.tensors);
    const fileBytes = file.fileSize;
    log(`engine load ${loadSeconds.toFixed(2)} s; weights ${(wb.total / 1e6).toFixed(1)} MB, active ${(wb.active / 1e6).toFixed(1)} MB`);
    const runs: EngineRun[] = [];
    try {
      t0 = performance.now();
      for (const k of [0, topK]) {
        // warm-up: builds and compiles the m=32 (prefill chunk) and m=1 (decode) graphs for this top-k
        const w = model.session({ indexTopK: k });
        await w.feed(promptTokens(32));
        await w.feed([1]);
        await w.feed([2]);
      }
      log(`engine warm-up (graph builds, pipeline compiles) ${secs(t0).toFixed(1)} s`);
      for (const context of contexts) {
        for (const k of [0, topK]) {
          const s = model.session({ indexTopK: k });
          t0 = performance.now();
          const r = await s.feed(promptTokens(context));
          const prefillSeconds = secs(t0);
          let next = argmax(r.logits[r.logits.length - 1]);
          t0 = performance.now();
          for (let i = 0; i < decode; i++) next = argmax((await s.feed([next])).logits[0]);
          const decodeSeconds = secs(t0);
          // one more token, untimed, with the device wrapped to count what a token issues
          const { counts: perToken } = await countGpuWork(device, () => s.feed([next]));
          const decodeGraph = model.graph({ m: 1, topK: k, trace: false, capacity: model.capacity });
          const perLayer = await countDispatchesByLayer(device, decodeGraph.steps, context + decode);
          let cache = 0;
          for (let i = 0; i < decode; i++) cache += cacheReadBytes(config, context + i, k);
          const bytesPerToken = wb.active + cache / decode;
          const decodeTokPerS = decode / decodeSeconds;
          const decodeGbPerS = (bytesPerToken * decodeTokPerS) / 1e9;
          const over = overheadSeconds(perToken, overhead);
          runs.push({
            context,
            topK: k,
            prefillSeconds,
            prefillTokPerS: context / prefillSeconds,
            decodeTokPerS,
            bytesPerToken,
            decodeGbPerS,
            decodeVsCopy: decodeGbPerS / copy.gbPerS,
            perToken,
            perLayer,
            overheadSeconds: over,
            overheadShare: over * decodeTokPerS,
          });
          log(`engine ctx ${context} top-k ${k}: prefill ${(context / prefillSeconds).toFixed(1)} tok/s, decode ${decodeTokPerS.toFixed(2)} tok/s`);
        }
      }
    } finally {
      model.destroy();
    }

    // 5. llama.cpp, CPU, the same file and token counts
    let llama: BenchResult['llama'];
    if (!o.noLlama) {
      const threads = o.threads ?? 1;
      llama = { ...(await benchLlama(path, { contexts, decode, tokens: promptTokens, threads })), fileBytes };
      for (const r of llama.runs) log(`llama.cpp ctx ${r.context}: prefill ${r.prefillTokPerS.toFixed(1)} tok/s, decode ${r.decodeTokPerS.toFixed(2)} tok/s`);
    }
    if (software) {
      notes.push('software adapter: absolute speeds are the CPU running shaders; compare ratios on this adapter only');
    }
    return {
      date: new Date().toISOString(),
      quick,
      size,
      adapter: {
        name: info.name,
        vendor: info.vendor,
        architecture: info.architecture,
        description: info.description,
        hasF16: info.hasF16,
        hasSubgroups: info.hasSubgroups,
        software,
      },
      copy,
      copyRuns,
      read,
      matvec,
      matvecVariants,
      matvecTuning,
      polling,
      attention,
      overhead,
      model: { dims, qtype: 'Q4_K', fileBytes, weights: wb, activeFraction: wb.active / wb.total, generateSeconds },
      engine: { loadSeconds, runs },
      llama,
      notes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    ctx.destroy();
  }
}
