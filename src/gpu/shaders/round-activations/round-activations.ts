/**
 * Dispatcher for round-activations.wgsl: a matmul input rounded in place to what llama.cpp's CPU matmuls
 * feed their dot products (src/model/reference/activation-quant.ts is the CPU reference, and the table
 * of which weight type rounds how). The GPU rounds Q8_0 and Q8_K; f16 / bf16 weights keep f32 inputs.
 *   x f32 [rows, n] (n a multiple of the block: 32 for Q8_0, 256 for Q8_K)
 */
import type { ParamLayout } from '../../params.ts';
import { getPipeline, type BufferArg } from '../../pipelines.ts';
import { assemble, badArg, grid1d, prepareDispatch, type PreparedDispatch } from '../add/kernel-util.ts';
import { activationRoundingKind } from '../../../model/reference/activation-quant.ts';
import source from './round-activations.wgsl?raw';

export const ROUND_ACTIVATIONS_PARAMS = [
  ['blocks', 'u32'],
  ['offset', 'u32'],
] as const satisfies ParamLayout;

export type GpuRounding = 'q8_0' | 'q8_k';

const BLOCK: Record<GpuRounding, number> = { q8_0: 32, q8_k: 256 };
const WG = 64;

/** The GPU rounding for inputs of these weight types (ggml types): one they all share, else null (inputs stay f32). */
export function gpuRoundingFor(types: readonly number[]): GpuRounding | null {
  const kinds = new Set(types.map(activationRoundingKind));
  if (kinds.size !== 1) return null;
  const [k] = kinds;
  return k === 'q8_0' || k === 'q8_k' ? k : null;
}

export function roundActivationsCode(kind: GpuRounding): string {
  return assemble(source, ROUND_ACTIVATIONS_PARAMS, { WG, BLOCK: BLOCK[kind], Q8_K: kind === 'q8_k' });
}

export interface RoundActivationsArgs {
  x: BufferArg;
  /** f32 offset of row 0 in x */
  offset?: number;
  rows: number;
  n: number;
  kind: GpuRounding;
}

export function createRoundActivations(device: GPUDevice, a: RoundActivationsArgs): PreparedDispatch {
  const block = BLOCK[a.kind];
  if (a.n % block !== 0) throw badArg(`round-activations: rows of ${a.n} values are not whole ${a.kind} blocks of ${block}`);
  const blocks = (a.rows * a.n) / block;
  const pipeline = getPipeline(device, { kernel: 'round-activations', variant: { wg: WG, kind: a.kind } }, () => roundActivationsCode(a.kind));
  return prepareDispatch(device, {
    pipeline,
    layout: ROUND_ACTIVATIONS_PARAMS,
    values: { blocks, offset: a.offset ?? 0 },
    buffers: [a.x],
    grid: grid1d(device, Math.ceil(blocks / WG)),
    label: `round-activations:${a.kind}`,
  });
}
