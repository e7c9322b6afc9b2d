/**
 * `npm run bench`: every figure measured side by side in one run on one WebGPU adapter (plus llama.cpp
 * on the CPU, same file), reported as ratios where the adapter's absolute speed does not carry over
 * (DESIGN.md §4). No thresholds here: the aims are printed next to the figures, never asserted.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requestGpu, type GpuContext } from '../gpu/device.ts';
import { nodeGpu } from '../gpu/node/node-gpu.ts';
import { measureCopy, measureMatvec, type CopyFigure, type MatvecFigure } from '../gpu/shaders/matmul/measure.ts';
import { measureSparseVsDense, type MeasureResult } from '../gpu/shaders/mla/measure.ts';
import { writeFixture, type FixtureDims } from '../tools/fixture/fixture.ts';
import { openGguf } from '../gguf/reader.ts';
import { WebGpuModel } from '../engine/webgpu/webgpu-model.ts';
import { weightBytes, cacheReadBytes, type WeightBytes } from './bytes.ts';
import { benchLlama, type LlamaFigures } from './llama.ts';

export interface BenchOptions {
  quick: boolean;
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

export interface EngineRun {
  context: number;
  topK: number;
  prefillSeconds: number;
  prefillTokPerS: number;
  decodeTokPerS: number;
  /** modelled bytes per decoded token (bytes.ts): active weights + cache rows read */
  bytesPerToken: number;
  /** bytesPerToken × decode tokens/s */
  decodeGbPerS: number;
  /** decodeGbPerS ÷ copy traffic GB/s on the same adapter */
  decodeVsCopy: number;
}

export interface BenchResult {
  date: string;
  quick: boolean;
  adapter: { name: string; vendor: string; architecture: string; description: string; hasF16: boolean; hasSubgroups: boolean };
  copy: CopyFigure;
  matvec: (MatvecFigure & { vsCopy: number })[];
  attention: MeasureResult;
  model: { dims: Partial<FixtureDims>; qtype: string; fileBytes: number; weights: WeightBytes; activeFraction: number; /** null: reused from the cache dir */ generateSeconds: number | null };
  engine: { loadSeconds: number; runs: EngineRun[] };
  llama?: LlamaFigures & { fileBytes: number };
  notes: string[];
}

// Sized for a software adapter on a shared 2-core machine (the whole run < 10 min): embd 1024 with 3
// layers took ~1 s per token there (prefill and decode alike), which puts 2 × (256 + 1K) prompt
// tokens far past the budget. Q4_K rows need multiples of 256; narrower inputs fall back to Q8_0.
const FULL_DIMS: Partial<FixtureDims> = {
  embd: 512, layers: 2, leadingDense: 1, heads: 8, qLora: 256, kvLora: 256, nope: 32, rope: 32, v: 64,
  ffn: 1024, experts: 8, used: 2, shared: 1, ffx: 256, groups: 0, groupsUsed: 0,
  indexerHeads: 4, indexerKeyLength: 64, topK: 256, context: 4096, merges: 160,
};
const QUICK_DIMS: Partial<FixtureDims> = {
  embd: 256, layers: 2, leadingDense: 1, heads: 4, qLora: 256, kvLora: 256, nope: 32, rope: 32, v: 64,
  ffn: 512, experts: 4, used: 2, shared: 1, ffx: 256, groups: 0, groupsUsed: 0,
  indexerHeads: 4, indexerKeyLength: 64, topK: 32, context: 512, merges: 160,
};

/** Deterministic prompt ids inside the fixture's byte tokens (no BOS/EOS). */
export function promptTokens(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256);
}

function argmax(v: Float32Array): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
  return b;
}

const secs = (t0: number) => (performance.now() - t0) / 1000;

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => {});
  const quick = o.quick;
  const dims = quick ? QUICK_DIMS : FULL_DIMS;
  const contexts = o.contexts ?? (quick ? [32, 64] : [256, 1024]);
  const decode = o.decode ?? (quick ? 3 : 8);
  const topK = dims.topK!;
  const notes: string[] = [];
  const ctx: GpuContext = await requestGpu(await nodeGpu());
  const dir = mkdtempSync(join(tmpdir(), 'sparsescope-bench-'));
  try {
    const { device, info } = ctx;
    log(`adapter: ${info.name}`);

    // 1. kernels: quantized matvec against plain copy bandwidth
    const kn = quick ? 1024 : 4096;
    const copy = await measureCopy(device, { bytes: quick ? 16 * 2 ** 20 : 64 * 2 ** 20, reps: quick ? 4 : 10 });
    log(`copy: ${copy.gbPerS.toFixed(2)} GB/s traffic`);
    const matvec: BenchResult['matvec'] = [];
    for (const type of ['Q4_K', 'Q8_0'] as const) {
      const m = await measureMatvec(device, { type, k: kn, n: kn, reps: quick ? 4 : 20 });
      matvec.push({ ...m, vsCopy: m.gbPerS / copy.gbPerS });
      log(`matvec ${type} ${kn}x${kn}: ${m.gbPerS.toFixed(2)} GB/s`);
    }

    // 2. attention: dense MLA against DSA (indexer score + top-k + sparse MLA), one layer, one token
    const attention = await measureSparseVsDense(device, quick ? { context: 512, topK: 64, iters: 3, warmup: 1 } : { context: 4096, topK: 256 });
    log(`attention: sparse/dense ${attention.ratio.toFixed(3)}`);

    // 3. the whole engine on a generated Q4_K deepseek32 model
    const fixtureOptions = { arch: 'deepseek32', qtype: 'Q4_K', gating: 'sigmoid', dims, seed: 11 } as const;
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
    const maxCtx = Math.max(...contexts) + decode;
    t0 = performance.now();
    const file = await openGguf({ kind: 'path', path });
    const model = await WebGpuModel.load(ctx, file, { contextSize: maxCtx });
    await file.close();
    const loadSeconds = secs(t0);
    const wb = weightBytes(model.config, file.tensors);
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
          let cache = 0;
          for (let i = 0; i < decode; i++) cache += cacheReadBytes(model.config, context + i, k);
          const bytesPerToken = wb.active + cache / decode;
          const decodeTokPerS = decode / decodeSeconds;
          const decodeGbPerS = (bytesPerToken * decodeTokPerS) / 1e9;
          runs.push({
            context, topK: k, prefillSeconds, prefillTokPerS: context / prefillSeconds, decodeTokPerS,
            bytesPerToken, decodeGbPerS, decodeVsCopy: decodeGbPerS / copy.gbPerS,
          });
          log(`engine ctx ${context} top-k ${k}: prefill ${(context / prefillSeconds).toFixed(1)} tok/s, decode ${decodeTokPerS.toFixed(2)} tok/s`);
        }
      }
    } finally {
      model.destroy();
    }

    // 4. llama.cpp, CPU, the same file and token counts
    let llama: BenchResult['llama'];
    if (!o.noLlama) {
      const threads = o.threads ?? 1;
      llama = { ...(await benchLlama(path, { contexts, decode, tokens: promptTokens, threads })), fileBytes };
      for (const r of llama.runs) log(`llama.cpp ctx ${r.context}: prefill ${r.prefillTokPerS.toFixed(1)} tok/s, decode ${r.decodeTokPerS.toFixed(2)} tok/s`);
    }
    if (/llvmpipe|lavapipe|swiftshader/i.test(`${info.name} ${info.description} ${info.device}`)) {
      notes.push('software adapter: absolute speeds are the CPU running shaders; compare ratios on this adapter only');
    }
    return {
      date: new Date().toISOString(),
      quick,
      adapter: { name: info.name, vendor: info.vendor, architecture: info.architecture, description: info.description, hasF16: info.hasF16, hasSubgroups: info.hasSubgroups },
      copy,
      matvec,
      attention,
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
