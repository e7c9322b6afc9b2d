/**
 * Dispatcher for embedding.wgsl: out[T, K] = rows ids[T] of a weight tensor of ne {K, V} in any
 * supported GGUF type (token_embd), with the ids on the GPU. One dispatch per tensor part.
 * Ids must be < V; a token whose id is out of range keeps whatever `out` held.
 */
import { SparseScopeError } from '../../../errors.ts';
import { wgslStruct, uniformBuffer, type ParamLayout } from '../../params.ts';
import { getPipeline, bindBuffers } from '../../pipelines.ts';
import { composeQuantKernel } from '../common/blocks.ts';
import { preprocess } from '../common/wgsl.ts';
import { chunksPerRow, type WeightType } from '../common/quant-types.ts';
import type { GpuTensor } from '../common/tensor.ts';
import { preparedKernel, type PreparedKernel } from '../common/prepared.ts';
import source from './embedding.wgsl?raw';

export const EMBEDDING_PARAMS = [
  ['k', 'u32'],
  ['chunks', 'u32'],
  ['row_bytes', 'u32'],
  ['part_row0', 'u32'],
  ['part_rows', 'u32'],
] as const satisfies ParamLayout;

const WG = 64;

export function embeddingCode(type: WeightType): string {
  const body = preprocess(source, {}, { PARAMS: wgslStruct('Params', EMBEDDING_PARAMS) });
  return composeQuantKernel(body, { type, f16: false, subgroups: false });
}

export interface EmbeddingArgs {
  /** Table of ne {K, V}. */
  table: GpuTensor;
  /** u32 [T] row ids. */
  ids: GPUBuffer;
  /** f32 [T, K] (written). */
  out: GPUBuffer;
  tokens: number;
}

export function createEmbedding(device: GPUDevice, a: EmbeddingArgs): PreparedKernel {
  const [k] = a.table.shape;
  const pipeline = getPipeline(device, { kernel: 'embedding', variant: { type: a.table.type } }, () => embeddingCode(a.table.type));
  if (a.tokens > device.limits.maxComputeWorkgroupsPerDimension) {
    throw new SparseScopeError(
      'device-limits',
      `embedding: ${a.tokens} tokens in one dispatch, the device allows ${device.limits.maxComputeWorkgroupsPerDimension}`,
    );
  }
  const groups = Math.ceil(chunksPerRow(k) / WG);
  const steps = a.table.parts.map((part, i) => {
    const params = uniformBuffer(
      device,
      EMBEDDING_PARAMS,
      { k, chunks: chunksPerRow(k), row_bytes: a.table.rowBytes, part_row0: part.rowStart, part_rows: part.rowCount },
      `embedding:${a.table.name}#${i}:params`,
    );
    return {
      params,
      grid: [groups, a.tokens] as const,
      bg: bindBuffers(device, pipeline, [params, part.buffer, a.ids, a.out], `embedding:${a.table.name}#${i}`),
    };
  });
  return preparedKernel(pipeline, steps);
}
