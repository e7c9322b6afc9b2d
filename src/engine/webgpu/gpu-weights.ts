/**
 * Model weights on the GPU, streamed tensor by tensor from a GGUF file (never the whole file in one
 * buffer). Matrices keep their GGUF block format (`GpuTensor`, split across bindings when larger than
 * one); 1-D tensors (norm weights, biases, the router's selection bias) go up as f32 vectors.
 * Matrices in a type the kernels don't read in place are dequantized to F32 on the way, and reported.
 *
 * Memory while loading is bounded: each part's buffer is created unmapped and filled with
 * queue.writeBuffer in chunks of at most CHUNK_BYTES read from the source (a browser maps a
 * mappedAtCreation buffer into the page, so a whole part would sit in the renderer and the GPU
 * process at once); after every FLUSH_BYTES written we wait for the queue so staging copies are
 * freed. No tensor is ever held whole in JS memory.
 */
import type { GgufFile } from '../../gguf/reader.ts';
import { assertFiniteTensor, assertFiniteValues } from '../../gguf/codecs/finite.ts';
import { blockLayout } from '../../gguf/types.ts';
import type { TensorSpec as ModelTensorSpec } from '../../model/weights-spec.ts';
import { uploadStorage } from '../../gpu/buffers.ts';
import { destroyTensor, planTensor, type GpuTensor, type GpuTensorPart } from '../../gpu/shaders/common/tensor.ts';
import { rowBytes as gpuRowBytes, weightTypeFromGgml, type WeightType } from '../../gpu/shaders/common/quant-types.ts';
import { SparseScopeError } from '../../errors.ts';

export interface GpuWeights {
  matrix(name: string): GpuTensor;
  vector(name: string): GPUBuffer;
  has(name: string): boolean;
  /**
   * Several vectors copied into one f32 buffer of `floats` (a kernel with few bindings reads them all),
   * each at its float offset; an undefined name leaves its range zero. Built once per key and owned by
   * the weights, so every graph of the model (prefill chunk, decode step) shares it.
   */
  packed(key: string, floats: number, parts: readonly (readonly [name: string | undefined, offset: number])[]): GPUBuffer;
  /** Bytes of weights held on the GPU. */
  bytes: number;
  destroy(): void;
}

export interface WeightProgress {
  tensor: string;
  loadedBytes: number;
  totalBytes: number;
}

/** Largest read from the source and single writeBuffer (a whole number of rows, a multiple of 4 bytes). */
export const CHUNK_BYTES = 4 * 2 ** 20;
/** Bytes written between waits for the queue (bounds the staging memory of queued writes). */
const FLUSH_BYTES = 16 * 2 ** 20;

/** Rows per chunk: ≤ CHUNK_BYTES (at least 4 rows), a multiple of 4 so offsets stay 4-byte aligned. */
function chunkRows(rowBytes: number): number {
  return Math.max(4, Math.floor(CHUNK_BYTES / rowBytes / 4) * 4);
}

/**
 * Uploads a matrix as planTensor's parts, reading `readRows(firstRow, count)` (GPU-format bytes, count
 * rows of rowBytes) chunk by chunk into unmapped buffers.
 */
async function streamTensor(
  device: GPUDevice,
  spec: { name: string; type: WeightType; shape: readonly number[] },
  readRows: (first: number, count: number) => Promise<Uint8Array>,
  flush: (written: number) => Promise<void>,
): Promise<GpuTensor> {
  const rowBytes = gpuRowBytes(spec.type, spec.shape[0]);
  const rows = spec.shape.slice(1).reduce((a, b) => a * b, 1);
  const step = chunkRows(rowBytes);
  const parts: GpuTensorPart[] = [];
  try {
    for (const [i, p] of planTensor(device, spec).entries()) {
      const buffer = device.createBuffer({
        label: `${spec.name}#${i}`,
        // kernels bind parts as array<vec4<u32>>: pad to 16 bytes
        size: Math.max(16, Math.ceil((p.rowCount * rowBytes) / 16) * 16),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      });
      parts.push({ buffer, rowStart: p.rowStart, rowCount: p.rowCount });
      for (let r = 0; r < p.rowCount; r += step) {
        const n = Math.min(step, p.rowCount - r);
        const data = await readRows(p.rowStart + r, n);
        if (data.byteLength !== n * rowBytes)
          throw new SparseScopeError('truncated', `${spec.name}: rows ${p.rowStart + r}+${n} gave ${data.byteLength} bytes, expected ${n * rowBytes}`);
        // writeBuffer needs a multiple of 4 bytes: only a part's last chunk can be short of one
        const padded = data.byteLength % 4 === 0 ? data : copyPadded(data);
        device.queue.writeBuffer(buffer, r * rowBytes, padded.buffer, padded.byteOffset, padded.byteLength);
        await flush(padded.byteLength);
      }
    }
  } catch (e) {
    parts.forEach((q) => q.buffer.destroy());
    throw e;
  }
  return { name: spec.name, type: spec.type, shape: [...spec.shape], rowBytes, rows, parts };
}

function copyPadded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
  out.set(data);
  return out;
}

export async function uploadWeights(
  device: GPUDevice,
  file: GgufFile,
  specs: readonly ModelTensorSpec[],
  onProgress?: (p: WeightProgress) => void,
  signal?: AbortSignal,
): Promise<GpuWeights> {
  const matrices = new Map<string, GpuTensor>();
  const vectors = new Map<string, GPUBuffer>();
  const packed = new Map<string, GPUBuffer>();
  const infos = specs.map((s) => {
    const info = file.tensor(s.name);
    if (!info) throw new SparseScopeError('missing-tensor', `tensor "${s.name}" is missing from the file`);
    return { info, shape: [...s.shape] };
  });
  const totalBytes = infos.reduce((a, i) => a + i.info.byteLength, 0);
  let loadedBytes = 0;
  let bytes = 0;
  let unflushed = 0;
  const flush = async (written: number) => {
    unflushed += written;
    if (unflushed >= FLUSH_BYTES) {
      unflushed = 0;
      await device.queue.onSubmittedWorkDone();
    }
  };
  const destroyAll = () => {
    matrices.forEach(destroyTensor);
    vectors.forEach((b) => b.destroy());
    packed.forEach((b) => b.destroy());
  };
  try {
    for (const { info, shape } of infos) {
      if (signal?.aborted) throw new SparseScopeError('aborted', 'model load cancelled');
      // The spec's shape, not the file's: ggml may store a {E} vector as {E, 1}.
      if (shape.length === 1) {
        const v = await file.readF32(info.name);
        assertFiniteValues(info.name, v);
        vectors.set(info.name, uploadStorage(device, v, info.name));
        bytes += v.byteLength;
      } else {
        const type = weightTypeFromGgml(info.type);
        let t: GpuTensor;
        if (type) {
          // rows arrive whole, so each chunk starts on a block: check the scales as they stream past
          const { bytesPerBlock } = blockLayout(info.type); // a value (float types) or a block
          const rb = info.byteLength / shape.slice(1).reduce((a, b) => a * b, 1);
          t = await streamTensor(
            device,
            { name: info.name, type, shape },
            async (first, count) => {
              const b = await file.readBytes(info, first * rb, count * rb);
              assertFiniteTensor(info.name, info.type, b, (first * rb) / bytesPerBlock);
              return b;
            },
            flush,
          );
        } else {
          // e.g. Q4_1, Q2_K: correct everywhere, at 32 bits a weight; dequantized chunk by chunk (the memory plan lists them).
          t = await streamTensor(
            device,
            { name: info.name, type: 'F32', shape },
            async (first, count) => {
              const f32 = await file.readRowsF32(info.name, first, count);
              assertFiniteValues(info.name, f32);
              return new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
            },
            flush,
          );
        }
        matrices.set(info.name, t);
        bytes += t.rows * t.rowBytes;
      }
      loadedBytes += info.byteLength;
      onProgress?.({ tensor: info.name, loadedBytes, totalBytes });
    }
  } catch (e) {
    destroyAll();
    throw e;
  }
  const vector = (name: string) => {
    const b = vectors.get(name);
    if (!b) throw new SparseScopeError('missing-tensor', `tensor "${name}" is not loaded as a vector`);
    return b;
  };
  return {
    matrix(name) {
      const t = matrices.get(name);
      if (!t) throw new SparseScopeError('missing-tensor', `tensor "${name}" is not loaded as a matrix`);
      return t;
    },
    vector,
    packed(key, floats, parts) {
      let buf = packed.get(key);
      if (buf) return buf;
      // every part checked before anything is allocated, so a bad layout leaks no buffer
      const copies = parts.flatMap(([name, at]) => {
        if (!name) return [];
        const v = vector(name);
        if (at * 4 + v.size > floats * 4)
          throw new SparseScopeError('bad-argument', `${key}: ${name} (${v.size / 4} floats at ${at}) does not fit in ${floats}`);
        return [{ v, at }];
      });
      buf = device.createBuffer({ label: key, size: Math.max(16, floats * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      const enc = device.createCommandEncoder({ label: key });
      for (const { v, at } of copies) enc.copyBufferToBuffer(v, 0, buf, at * 4, v.size);
      device.queue.submit([enc.finish()]);
      packed.set(key, buf);
      return buf;
    },
    has: (name) => matrices.has(name) || vectors.has(name),
    bytes,
    destroy: destroyAll,
  };
}
