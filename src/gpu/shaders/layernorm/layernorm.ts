/** Dispatcher for layernorm.wgsl: y[rows, n] = LayerNorm(x[rows, n]) * weight[n] + bias[n] (indexer k_norm, eps 1e-6). */
import { type ParamLayout } from '../../params.ts';
import { getPipeline } from '../../pipelines.ts';
import { assemble, grid1d, prepareDispatch, type PreparedDispatch } from '../add/kernel-util.ts';
import source from './layernorm.wgsl?raw';

export const LAYERNORM_PARAMS = [
  ['rows', 'u32'],
  ['n', 'u32'],
  ['eps', 'f32'],
] as const satisfies ParamLayout;

/** Threads per row (power of two): rows here are short (the indexer key, 64-128 values). */
const WG = 64;

export function layernormCode(): string {
  return assemble(source, LAYERNORM_PARAMS, { WG });
}

export interface LayernormArgs {
  x: GPUBuffer; // [rows, n] f32
  weight: GPUBuffer; // [n] f32
  bias: GPUBuffer; // [n] f32
  y: GPUBuffer; // out [rows, n] f32 (must not alias x)
  rows: number;
  n: number;
  /** Default 1e-6 (DeepSeek-V3.2's indexer k_norm). */
  eps?: number;
}

/** The prepared form (uniform and bind group made once): the forward graph's hot path. */
export function createLayernorm(device: GPUDevice, a: LayernormArgs): PreparedDispatch {
  const pipeline = getPipeline(device, { kernel: 'layernorm', variant: { wg: WG } }, layernormCode);
  return prepareDispatch(device, {
    pipeline,
    layout: LAYERNORM_PARAMS,
    values: { rows: a.rows, n: a.n, eps: a.eps ?? 1e-6 },
    buffers: [a.x, a.weight, a.bias, a.y],
    grid: grid1d(device, a.rows),
    label: 'layernorm',
  });
}
