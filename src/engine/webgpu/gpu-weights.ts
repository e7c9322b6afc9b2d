/**
 * Model weights on the GPU, streamed tensor by tensor from a GGUF file (never the whole file in one
 * buffer). Matrices keep their GGUF block format (`GpuTensor`, split across bindings when larger than
 * one); 1-D tensors (norm weights, biases, the router's selection bias) go up as f32 vectors.
 * Matrices in a type the kernels don't read in place are dequantized to F32 on the way, and reported.
 */
import type { GgufFile } from '../../gguf/reader.ts';
import { assertFiniteTensor, assertFiniteValues } from '../../gguf/codecs/finite.ts';
import { blockLayout, typeName } from '../../gguf/types.ts';
import type { TensorSpec as ModelTensorSpec } from '../../model/weights-spec.ts';
import { uploadStorage } from '../../gpu/buffers.ts';
import { uploadTensor, uploadTensorFrom, destroyTensor, type GpuTensor } from '../../gpu/shaders/common/tensor.ts';
import { weightTypeFromGgml } from '../../gpu/shaders/common/quant-types.ts';
import { SparseScopeError } from '../../errors.ts';

export interface GpuWeights {
  matrix(name: string): GpuTensor;
  vector(name: string): GPUBuffer;
  has(name: string): boolean;
  /** Bytes of weights held on the GPU. */
  bytes: number;
  /** Tensors that were dequantized to F32 because no kernel reads their type in place. */
  converted: string[];
  destroy(): void;
}

export interface WeightProgress {
  tensor: string;
  loadedBytes: number;
  totalBytes: number;
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
  const converted: string[] = [];
  const infos = specs.map((s) => {
    const info = file.tensor(s.name);
    if (!info) throw new SparseScopeError('missing-tensor', `tensor "${s.name}" is missing from the file`);
    return { info, shape: [...s.shape] };
  });
  const totalBytes = infos.reduce((a, i) => a + i.info.byteLength, 0);
  let loadedBytes = 0;
  let bytes = 0;
  const destroyAll = () => {
    matrices.forEach(destroyTensor);
    vectors.forEach((b) => b.destroy());
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
          t = await uploadTensorFrom(device, { name: info.name, type, shape }, async (off, len) => {
            const b = await file.readBytes(info, off, len);
            assertFiniteTensor(info.name, info.type, b, off / bytesPerBlock);
            return b;
          });
        } else {
          // e.g. Q4_1, Q5_0, Q2_K: correct everywhere, at 32 bits a weight.
          converted.push(`${info.name} (${typeName(info.type)})`);
          const f32 = await file.readF32(info.name);
          assertFiniteValues(info.name, f32);
          t = uploadTensor(device, { name: info.name, type: 'F32', shape }, new Uint8Array(f32.buffer));
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
  return {
    matrix(name) {
      const t = matrices.get(name);
      if (!t) throw new SparseScopeError('missing-tensor', `tensor "${name}" is not loaded as a matrix`);
      return t;
    },
    vector(name) {
      const b = vectors.get(name);
      if (!b) throw new SparseScopeError('missing-tensor', `tensor "${name}" is not loaded as a vector`);
      return b;
    },
    has: (name) => matrices.has(name) || vectors.has(name),
    bytes,
    converted,
    destroy: destroyAll,
  };
}
