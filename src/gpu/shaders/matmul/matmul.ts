/**
 * Dispatcher for matmul.wgsl, the prefill product with weights in GGUF block format:
 * Y[M, N] = X[M, K] · W[N, K]ᵀ for W of ne {K, N}, one dispatch per tensor part, each weight block read
 * once per tile of 32 rows of X. Arithmetic is f32 (the f16 variant exists for the bandwidth-bound matvec).
 */
import { SparseScopeError } from '../../../errors.ts';
import { wgslStruct, uniformBuffer, type ParamLayout } from '../../params.ts';
import { getPipeline, bindBuffers, type BufferArg } from '../../pipelines.ts';
import { composeQuantKernel } from '../common/blocks.ts';
import { preprocess } from '../common/wgsl.ts';
import { chunksPerRow, isFloatType, CHUNK, type WeightType } from '../common/quant-types.ts';
import type { GpuTensor } from '../common/tensor.ts';
import { preparedKernel, type PreparedKernel } from '../common/prepared.ts';
import source from './matmul.wgsl?raw';

export const MATMUL_PARAMS = [
  ['k', 'u32'],
  ['chunks', 'u32'],
  ['row_bytes', 'u32'],
  ['rows', 'u32'], // weight rows in this part
  ['n_out', 'u32'], // Y row stride: N
  ['y_offset', 'u32'], // the part's first row
  ['m', 'u32'],
] as const satisfies ParamLayout;

/** Weight rows and x rows per workgroup tile (fixed in matmul.wgsl). */
export const MATMUL_TILE = { n: 32, m: 32 } as const;

export function matmulCode(type: WeightType, tail: boolean, x4: boolean): string {
  const body = preprocess(source, { X4: x4 }, { PARAMS: wgslStruct('Params', MATMUL_PARAMS), TAIL: String(tail) });
  return composeQuantKernel(body, { type, f16: false, subgroups: false });
}

export interface MatmulArgs {
  /** Weight of ne {K, N}. */
  w: GpuTensor;
  /** f32 [M, K]. */
  x: GPUBuffer;
  /** f32 [M, N] (written). */
  y: BufferArg;
  m: number;
}

export function createMatmul(device: GPUDevice, a: MatmulArgs): PreparedKernel {
  const [k] = a.w.shape;
  const tail = isFloatType(a.w.type) && k % CHUNK !== 0;
  const x4 = k % 4 === 0;
  const pipeline = getPipeline(device, { kernel: 'matmul', variant: { type: a.w.type, tail, x4 } }, () => matmulCode(a.w.type, tail, x4));
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  const steps = a.w.parts.map((part, i) => {
    const grid: [number, number] = [Math.ceil(part.rowCount / MATMUL_TILE.n), Math.ceil(a.m / MATMUL_TILE.m)];
    if (grid[0] > max || grid[1] > max) throw new SparseScopeError('device-limits', `matmul ${a.w.name}: grid ${grid} exceeds ${max}`);
    const params = uniformBuffer(
      device,
      MATMUL_PARAMS,
      { k, chunks: chunksPerRow(k), row_bytes: a.w.rowBytes, rows: part.rowCount, n_out: a.w.rows, y_offset: part.rowStart, m: a.m },
      `matmul:${a.w.name}#${i}:params`,
    );
    return { params, grid, bg: bindBuffers(device, pipeline, [params, part.buffer, a.x, a.y], `matmul:${a.w.name}#${i}`) };
  });
  return preparedKernel(pipeline, steps);
}

export function encodeMatmul(device: GPUDevice, enc: GPUCommandEncoder, a: MatmulArgs): void {
  createMatmul(device, a).encode(enc);
}
