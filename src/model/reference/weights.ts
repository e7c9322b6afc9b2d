/**
 * Where the reference gets its weights: by GGUF tensor name, dequantized to f32 (ne order). Tests
 * hand in random in-memory weights; the CLI loads them from a GGUF file.
 */
import { assertFiniteValues } from '../../gguf/codecs/finite.ts';
import { SparseScopeError } from '../../errors.ts';
import type { GgufFile } from '../../gguf/reader.ts';
import { readModelConfig, type ModelConfig } from '../config.ts';
import { checkTensors } from '../weights-spec.ts';
import { activationRounding } from './activation-quant.ts';
import { matvec } from './math.ts';

export interface ReferenceWeights {
  /** the tensor's values (f32, ne order); throws 'missing-tensor' when absent */
  get(name: string): Float32Array;
  has(name: string): boolean;
  /**
   * optional: how a matmul input is rounded for this weight, as llama.cpp's CPU matmul rounds it
   * (activation-quant.ts); linearChunk / linear apply it to each input slice before the product
   */
  roundInput?(name: string): ((x: Float32Array) => Float32Array) | null;
  /**
   * optional: Y_t = W · X_t for a chunk of inputs at once (a backend reads each weight row once for the
   * whole chunk); must agree with `linear` on each input. Without it, linearChunk loops over `linear`.
   * With `roundInput`, linearChunk hands it inputs already rounded.
   */
  matmul?(name: string, xs: readonly Float32Array[], inDim: number, outDim: number, o: ChunkOptions): Float32Array[];
  /** optional: row `index` (ne[0] values) of a tensor without materialising it (embedding lookups) */
  row?(name: string, index: number): Float32Array;
}

/** Which rows and which slice of each input a chunked linear reads. */
export interface ChunkOptions {
  /** first weight row (experts: e·outDim) */
  rowOffset: number;
  /** where the input vector starts in each x */
  xOffset: number;
  /**
   * rows per group, each group g reading its own input slice at xOffset + g·xGroupStride (MLA's
   * per-head attn_k_b / attn_v_b); groupRows = outDim means one group
   */
  groupRows: number;
  xGroupStride: number;
}

/** y = W · x for the weight `name`, with the input rounded as `roundInput` says (see matvec). */
export function linear(w: ReferenceWeights, name: string, x: Float32Array, inDim: number, outDim: number, rowOffset = 0, xOffset = 0): Float32Array {
  const r = w.roundInput?.(name);
  if (r) return matvec(w.get(name), r(x.subarray(xOffset, xOffset + inDim)), inDim, outDim, rowOffset);
  return matvec(w.get(name), x, inDim, outDim, rowOffset, xOffset);
}

/**
 * Y_t = W · X_t for every input of the chunk, as `linear` on each (per group of rows, when grouped).
 * [T][≥ xOffset + inDim] → [T][outDim]
 */
export function linearChunk(
  w: ReferenceWeights,
  name: string,
  xs: readonly Float32Array[],
  inDim: number,
  outDim: number,
  opt: Partial<ChunkOptions> = {},
): Float32Array[] {
  const o: ChunkOptions = { rowOffset: opt.rowOffset ?? 0, xOffset: opt.xOffset ?? 0, groupRows: opt.groupRows ?? outDim, xGroupStride: opt.xGroupStride ?? 0 };
  if (w.matmul) {
    const r = w.roundInput?.(name);
    if (!r) return w.matmul(name, xs, inDim, outDim, o);
    // The backend's matmul sees inputs already rounded, once per input here (not per row or worker):
    // each group's slice rounded on its own (as `linear` rounds the slice it reads), packed
    // back to back, so blocks of 32 / 256 start where llama.cpp's start, at each slice's first value.
    const groups = Math.ceil(outDim / o.groupRows);
    const packed = xs.map((x) => {
      if (groups === 1) return r(x.subarray(o.xOffset, o.xOffset + inDim));
      const y = new Float32Array(groups * inDim);
      for (let g = 0; g < groups; g++) {
        const at = o.xOffset + g * o.xGroupStride;
        y.set(r(x.subarray(at, at + inDim)), g * inDim);
      }
      return y;
    });
    return w.matmul(name, packed, inDim, outDim, { ...o, xOffset: 0, xGroupStride: inDim });
  }
  return xs.map((x) => {
    if (o.groupRows === outDim) return linear(w, name, x, inDim, outDim, o.rowOffset, o.xOffset);
    const y = new Float32Array(outDim);
    for (let g = 0; g * o.groupRows < outDim; g++) {
      y.set(linear(w, name, x, inDim, o.groupRows, o.rowOffset + g * o.groupRows, o.xOffset + g * o.xGroupStride), g * o.groupRows);
    }
    return y;
  });
}

/** Row `index` of an embedding-like tensor of rows of `width` values. */
export function tensorRow(w: ReferenceWeights, name: string, index: number, width: number): Float32Array {
  return w.row ? w.row(name, index) : w.get(name).slice(index * width, (index + 1) * width);
}

export function weightsFromMap(map: ReadonlyMap<string, Float32Array>): ReferenceWeights {
  return {
    get(name) {
      const w = map.get(name);
      if (w === undefined) throw new SparseScopeError('missing-tensor', `tensor "${name}" is missing`);
      return w;
    },
    has: (name) => map.has(name),
  };
}

export interface ReferenceLoadOptions {
  /** round matmul inputs as llama.cpp's CPU backend does for each weight type */
  emulateActivationQuant?: boolean;
  /**
   * Bytes the f32 weights may take. Default: the SPARSESCOPE_CPU_MEMORY_LIMIT environment variable,
   * else the machine's total memory (Node); no limit where neither is known (the browser).
   */
  memoryLimitBytes?: number;
}

const GB = 1e9;

/** The limit the CPU reference's weights must fit in, and where it came from. */
export async function memoryLimit(o: ReferenceLoadOptions): Promise<{ bytes: number; what: string } | undefined> {
  if (o.memoryLimitBytes !== undefined) return { bytes: o.memoryLimitBytes, what: 'the given limit' };
  if (typeof process === 'undefined' || !process.versions?.node) return undefined;
  const env = process.env.SPARSESCOPE_CPU_MEMORY_LIMIT;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isFinite(n) || n <= 0) throw new SparseScopeError('bad-argument', `SPARSESCOPE_CPU_MEMORY_LIMIT=${env} is not a byte count`);
    return { bytes: n, what: 'SPARSESCOPE_CPU_MEMORY_LIMIT' };
  }
  const { totalmem } = await import('node:os');
  return { bytes: totalmem(), what: "this machine's total memory" };
}

/** f32 bytes the reference will hold for these tensors (every value dequantized to 4 bytes). */
export function referenceWeightBytes(tensors: readonly { shape: readonly number[] }[]): number {
  return tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1) * 4, 0);
}

/**
 * Throws 'out-of-memory' (how much is needed, how much there is) when every tensor of `specs` at f32
 * exceeds the limit (ReferenceLoadOptions.memoryLimitBytes / SPARSESCOPE_CPU_MEMORY_LIMIT / total
 * memory). Any loader that dequantizes a whole model calls it before its first read.
 */
export async function assertF32WeightsFit(specs: readonly { shape: readonly number[] }[], options: ReferenceLoadOptions = {}): Promise<void> {
  const need = referenceWeightBytes(specs);
  const limit = await memoryLimit(options);
  if (limit && need > limit.bytes) {
    throw new SparseScopeError(
      'out-of-memory',
      `the CPU backend dequantizes every weight to f32: this model needs ${(need / GB).toFixed(2)} GB (${need} bytes) for its ${specs.length} tensors, more than ${limit.what} (${(limit.bytes / GB).toFixed(2)} GB); use --backend webgpu, which keeps the file's quantized blocks`,
    );
  }
}

/**
 * Reads the config, checks every tensor's presence and shape, then dequantizes them all (the CPU
 * reference holds every weight as f32: a 10 GB Q4_K_M file would take ~64 GB). Refuses with a typed
 * 'out-of-memory' error, before anything is allocated, when that exceeds the memory limit.
 */
export async function loadReferenceModelData(file: GgufFile, options: ReferenceLoadOptions = {}): Promise<{ config: ModelConfig; weights: ReferenceWeights }> {
  const config = readModelConfig(file.metadata, file.tensors);
  const present = checkTensors(config, file.tensors);
  await assertF32WeightsFit(present, options);
  const map = new Map<string, Float32Array>();
  for (const spec of present) {
    const values = await file.readF32(spec.name);
    // dequantized values are finite exactly when the file's are: one NaN would poison every logit
    assertFiniteValues(spec.name, values);
    map.set(spec.name, values);
  }
  const weights = weightsFromMap(map);
  if (options.emulateActivationQuant) {
    const types = new Map(file.tensors.map((t) => [t.name, t.type]));
    weights.roundInput = (name) => activationRounding(types.get(name) ?? -1);
  }
  return { config, weights };
}
