/**
 * One memory plan for a model: what the WebGPU engine will hold on the device, computed from the
 * config and tensor infos alone (no tensor byte is read), so `cli inspect`, the page's fit verdict and
 * the loader agree. It mirrors what the engine really allocates:
 *   weights  (gpu-weights.ts): 1-D tensors as f32 vectors; matrices in their GGUF block format when a
 *            kernel reads the type in place, else dequantized to f32 (4 bytes a value); each matrix
 *            split at row (expert) boundaries into parts ≤ one storage binding, each part padded to 16.
 *   caches   (kv-cache.ts, f32): per layer absorbed ckv [ctx, kv_lora] + kpe [ctx, rope], or legacy
 *            k [ctx, H, nope+rope] + v [ctx, H, v]; DSA kI [ctx, D_I]; dense GQA k, v [ctx, HK, D].
 *   scratch  (forward-graph.ts, dense-forward-graph.ts): the activations of one prefill graph (m = prefill
 *            chunk) and of the decode graph (m = 1), logits [m, vocab] and the split-K attention partials included.
 * Both families: the MLA ones (ModelConfig) and the dense ones (DenseModelConfig, `family: 'dense'`).
 */
import type { TensorInfo } from '../gguf/layout.ts';
import { typeName } from '../gguf/types.ts';
import { weightTypeFromGgml } from '../gpu/shaders/common/quant-types.ts';
import { planParts } from '../gpu/shaders/common/tensor.ts';
import type { ModelConfig } from './config.ts';
import { expectedTensors, type TensorSpec } from './weights-spec.ts';
import { DENSE_ARCHITECTURES, type DenseModelConfig } from './architectures/index.ts';
import { denseTensors } from './architectures/dense.ts';

type AnyConfig = ModelConfig | DenseModelConfig;

function tensorSpecs(c: AnyConfig): TensorSpec[] {
  return 'family' in c ? denseTensors(DENSE_ARCHITECTURES[c.arch], c) : expectedTensors(c);
}

/** Split-K attention's chunk of candidate keys (mla/attention.ts: 2048 scores a workgroup). */
function attentionChunk(heads: number): number {
  return Math.max(8, Math.min(128, Math.floor(2048 / heads)));
}

/** The device limits that shape the plan (GPUSupportedLimits' names); memory is the budget, if known. */
export interface DeviceLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** bytes the model may use on the device (weights + caches + scratch); unknown for WebGPU, so optional */
  memoryBytes?: number;
}

/** WebGPU's guaranteed minimums: what any adapter can do. */
export const BASELINE_LIMITS: DeviceLimits = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 };

export interface MemoryPlanOptions {
  limits?: DeviceLimits;
  /** cache rows wanted (default min(file context, 4096), as WebGpuModel.load) */
  context?: number;
  /** prefill chunk (default 32, as WebGpuModel) */
  prefillChunk?: number;
}

export interface MemoryPlan {
  /** bytes of the file's tensor data (all parts of a split set) */
  fileTensorBytes: number;
  weights: {
    /** bytes of weights on the GPU as uploaded */
    gpuBytes: number;
    /** tensors dequantized to f32 on the way (no kernel reads their type in place) */
    converted: { name: string; type: string; fileBytes: number; gpuBytes: number }[];
  };
  /** the largest single buffer, after splitting tensors at the binding limit */
  largestBinding: { name: string; bytes: number; parts: number; limit: number };
  cache: {
    bytesPerToken: number;
    fileContext: number;
    /** cache bytes at the file's context_length */
    atFileContext: number;
    /** the context asked for (option, or the default) */
    requestedContext: number;
    /** the context the plan allocates: requested, sized down to fit the device */
    context: number;
    atContext: number;
    /** why the context is below the requested one, if it is */
    limitedBy?: 'binding' | 'memory';
  };
  scratchBytes: number;
  /** weights + cache at `cache.context` + scratch */
  totalBytes: number;
  limits: DeviceLimits;
  /** false when even a small context does not fit (memory) or a buffer cannot be split small enough */
  fits: boolean;
  notes: string[];
}

const PAD = 16;
const pad16 = (n: number) => Math.max(PAD, Math.ceil(n / PAD) * PAD);
/** contexts are sized down in steps of this many tokens (and never below it) */
const CONTEXT_STEP = 256;

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Per-layer cache buffers for one token, in bytes (kv-cache.ts's allocations ÷ capacity). */
function cacheBuffersPerToken(c: AnyConfig): { name: string; bytes: number }[] {
  if ('family' in c)
    return [
      { name: 'cache.k', bytes: c.headsKv * c.headDim * 4 },
      { name: 'cache.v', bytes: c.headsKv * c.headDim * 4 },
    ];
  const b =
    c.mla === 'absorbed'
      ? [
          { name: 'cache.ckv', bytes: c.kvLoraRank * 4 },
          { name: 'cache.kpe', bytes: c.qkRope * 4 },
        ]
      : [
          { name: 'cache.k', bytes: c.heads * (c.qkNope + c.qkRope) * 4 },
          { name: 'cache.v', bytes: c.heads * c.vHead * 4 },
        ];
  if (c.indexer) b.push({ name: 'cache.kI', bytes: c.indexer.keyLength * 4 });
  return b;
}

/** The activations one ForwardGraph of m rows allocates (forward-graph.ts), in bytes. */
export function graphScratchBytes(c: AnyConfig, m: number, capacity: number): number {
  if ('family' in c) {
    // logits, h, x, attn_out, ffn_out, [q | k | v], attn_o, gate, up, act, aux per layer, partials over the cache
    const { embd: E, heads: H, headDim: D } = c;
    const Q = H * D;
    const KV = c.headsKv * D;
    const chunks = Math.ceil(capacity / attentionChunk(H));
    const aux = Q + 2 * KV + 2 * D + D / 2;
    return 4 * (m * c.vocab + 4 * m * E + m * (Q + 2 * KV) + m * Q + 3 * m * c.ffn + c.layers * aux + m * chunks * H * (D + 2) + 2 * m * H);
  }
  const E = c.embd,
    H = c.heads,
    L = c.kvLoraRank,
    R = c.qkRope,
    N = c.qkNope,
    Vd = c.vHead,
    K = N + R;
  let floats = m * c.vocab + 4 * m * E + 2 * m * c.qLoraRank + m * H * K + m * H * R + m * (L + R) + 2 * m * L + m * R;
  floats += 3 * m * H * Math.max(L, Vd) + m * H * Vd;
  floats += c.mla === 'absorbed' ? m * H * N + m * H * L : m * H * (N + Vd);
  // split-K attention (mla/attention.ts), one set shared by the graph's layers (they run one after another,
  // src/gpu/scratch-pool.ts): chunks of ch keys; partial outputs [m, chunks, H, dv] with (max, sum) pairs,
  // plus per-head stats. Candidates: the whole cache, or DSA's top-k.
  const ch = attentionChunk(H);
  const chunks = Math.ceil((c.indexer ? Math.min(c.indexer.topK, capacity) : capacity) / ch);
  const dv = c.mla === 'absorbed' ? L : Vd;
  floats += m * chunks * H * (dv + 2) + 2 * m * H;
  if (c.indexer) floats += m * c.indexer.heads * c.indexer.keyLength + 2 * m * c.indexer.keyLength + m * c.indexer.heads + m * capacity + m * c.indexer.topK;
  const moe = c.moe;
  const ffMax = Math.max(c.ffn, moe ? moe.ffx * Math.max(moe.shared, 1) : 0);
  floats += 3 * m * ffMax;
  if (moe) floats += 2 * m * moe.experts + 3 * m * moe.used * moe.ffx + m * moe.used * E + 2 * m * moe.used;
  return floats * 4;
}

/**
 * The plan. Never throws: a tensor the device cannot split small enough (a row group over one
 * binding), a context or a total that does not fit are reported (fits = false, notes).
 */
export function planMemory(c: AnyConfig, tensors: readonly TensorInfo[], o: MemoryPlanOptions = {}): MemoryPlan {
  const limits = o.limits ?? BASELINE_LIMITS;
  const partLimit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) - PAD;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const notes: string[] = [];

  let gpuBytes = 0;
  let unsplittable = false;
  const converted: MemoryPlan['weights']['converted'] = [];
  let largest = { name: '', bytes: 0, parts: 0, limit: partLimit };
  for (const spec of tensorSpecs(c)) {
    const t = byName.get(spec.name);
    if (!t) continue; // optional and absent (checkTensors refuses a missing required one)
    const count = elements(spec.shape);
    if (spec.shape.length === 1) {
      const bytes = Math.max(4, count * 4);
      gpuBytes += bytes;
      if (bytes > largest.bytes) largest = { name: spec.name, bytes, parts: 1, limit: partLimit };
      continue;
    }
    const inPlace = weightTypeFromGgml(t.type) !== undefined;
    const rows = count / spec.shape[0];
    const rowBytes = inPlace ? t.byteLength / rows : spec.shape[0] * 4;
    const group = spec.shape.length >= 3 ? spec.shape[1] : 1;
    let parts;
    try {
      parts = planParts(rows, rowBytes, partLimit, group);
    } catch (e) {
      // the loader would refuse it on this device: report, and count it whole
      notes.push(`tensor "${spec.name}": ${(e as Error).message}`);
      unsplittable = true;
      parts = [{ rowStart: 0, rowCount: rows }];
    }
    let bytes = 0;
    for (const p of parts) {
      const b = pad16(p.rowCount * rowBytes);
      bytes += b;
      if (b > largest.bytes) largest = { name: spec.name, bytes: b, parts: parts.length, limit: partLimit };
    }
    gpuBytes += bytes;
    if (!inPlace) converted.push({ name: spec.name, type: typeName(t.type), fileBytes: t.byteLength, gpuBytes: bytes });
  }

  const perLayer = cacheBuffersPerToken(c);
  const bytesPerToken = perLayer.reduce((a, b) => a + b.bytes, 0) * c.layers;
  const fileContext = c.contextLength;
  const requested = Math.min(fileContext, Math.max(1, Math.floor(o.context ?? Math.min(fileContext, 4096))));
  const m = o.prefillChunk ?? 32;
  const scratch = (ctx: number) => graphScratchBytes(c, m, ctx) + graphScratchBytes(c, 1, ctx);

  // the largest context whose per-layer cache buffers each fit one binding (and the index scores row)
  const widest = Math.max(...perLayer.map((b) => b.bytes));
  let context = requested;
  let limitedBy: MemoryPlan['cache']['limitedBy'];
  // per-token bytes of the widest buffer that grows with the context: a layer's cache, the indexer's
  // scores [m, ctx], or dense attention's split-K partials [m, ctx / ch, H, dv] (mla/attention.ts)
  const dv = 'family' in c ? c.headDim : c.mla === 'absorbed' ? c.kvLoraRank : c.vHead;
  const partialsPerToken = 'family' in c || !c.indexer ? (m * c.heads * dv * 4) / attentionChunk(c.heads) : 0;
  const bindingCap = Math.floor(partLimit / Math.max(widest, m * 4, partialsPerToken));
  if (context > bindingCap) {
    context = Math.max(1, Math.floor(bindingCap / CONTEXT_STEP) * CONTEXT_STEP || bindingCap);
    limitedBy = 'binding';
  }
  let fits = !unsplittable;
  if (limits.memoryBytes !== undefined) {
    const budget = limits.memoryBytes;
    const total = (ctx: number) => gpuBytes + bytesPerToken * ctx + scratch(ctx);
    if (total(context) > budget) {
      // the largest multiple of CONTEXT_STEP below `context` that fits (total grows with ctx)
      let lo = 0,
        hi = Math.floor(context / CONTEXT_STEP);
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (total(mid * CONTEXT_STEP) <= budget) lo = mid;
        else hi = mid - 1;
      }
      if (lo === 0) {
        fits = false;
        notes.push(
          `the weights (${gpuBytes} bytes on the GPU) and scratch leave no room for ${Math.min(CONTEXT_STEP, context)} tokens of cache in the ${budget}-byte budget`,
        );
      } else {
        context = lo * CONTEXT_STEP;
        limitedBy = 'memory';
      }
    }
  }
  if (limitedBy)
    notes.push(`context sized down from ${requested} to ${context} tokens to fit the device's ${limitedBy === 'binding' ? 'storage binding limit' : 'memory'}`);
  if (converted.length > 0)
    notes.push(
      `${converted.length} tensors are dequantized to f32 on upload (no kernel reads ${[...new Set(converted.map((x) => x.type))].join(', ')} in place)`,
    );

  const atContext = bytesPerToken * context;
  const scratchBytes = scratch(context);
  largest = perLayer.reduce<typeof largest>(
    (l, b) => (b.bytes * context > l.bytes ? { name: `blk.*.${b.name}`, bytes: b.bytes * context, parts: 1, limit: partLimit } : l),
    largest,
  );
  return {
    fileTensorBytes: tensors.reduce((a, t) => a + t.byteLength, 0),
    weights: { gpuBytes, converted },
    largestBinding: largest,
    cache: {
      bytesPerToken,
      fileContext,
      atFileContext: bytesPerToken * fileContext,
      requestedContext: requested,
      context,
      atContext,
      ...(limitedBy ? { limitedBy } : {}),
    },
    scratchBytes,
    totalBytes: gpuBytes + atContext + scratchBytes,
    limits,
    fits,
    notes,
  };
}
