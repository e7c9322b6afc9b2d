/**
 * Dispatcher for rmsnorm.wgsl: y[rows, n] = RMSNorm(x[rows, n]) * weight[n]. createRmsnormInto reads x
 * rows with a stride (the first n values of each wider row) and writes y from a row given per step: MLA's
 * compressed KV, normed straight from the kv_a output [T, kv_lora + rope] into its cache rows.
 */
import { type ParamLayout } from '../../params.ts';
import { getPipeline } from '../../pipelines.ts';
import { assemble, prepareDispatch, type PreparedDispatch } from '../add/kernel-util.ts';
import source from './rmsnorm.wgsl?raw';

export const RMSNORM_PARAMS = [
  ['n', 'u32'],
  ['eps', 'f32'],
  ['x_stride', 'u32'], // floats between x rows (n when dense)
  ['y_row0', 'u32'], // y row of x row 0
] as const satisfies ParamLayout;

/** Threads per row; must be a power of two (tree reduction) and match the shared array size. */
const WG = 256;

export function rmsnormCode(): string {
  return assemble(source, RMSNORM_PARAMS);
}

export interface RmsnormArgs {
  x: GPUBuffer; // [rows, n] f32
  weight: GPUBuffer; // [n] f32
  y: GPUBuffer; // out [rows, n] f32
  rows: number;
  n: number;
  eps: number;
}

/** The prepared form (uniform and bind group made once): the forward graph's hot path. */
export function createRmsnorm(device: GPUDevice, args: RmsnormArgs): PreparedDispatch {
  const pipeline = getPipeline(device, { kernel: 'rmsnorm', variant: { wg: WG } }, rmsnormCode);
  return prepareDispatch(device, {
    pipeline,
    layout: RMSNORM_PARAMS,
    values: { n: args.n, eps: args.eps, x_stride: args.n, y_row0: 0 },
    buffers: [args.x, args.weight, args.y],
    grid: [args.rows],
    label: 'rmsnorm',
  });
}

/** Like createRmsnorm, with x rows `xStride` floats apart and encode(enc, row) writing y from that row on. */
export function createRmsnormInto(device: GPUDevice, args: RmsnormArgs & { xStride: number }): PreparedDispatch<number> {
  const pipeline = getPipeline(device, { kernel: 'rmsnorm', variant: { wg: WG } }, rmsnormCode);
  return prepareDispatch(device, {
    pipeline,
    layout: RMSNORM_PARAMS,
    values: { n: args.n, eps: args.eps, x_stride: args.xStride, y_row0: 0 },
    buffers: [args.x, args.weight, args.y],
    grid: [args.rows],
    label: 'rmsnorm-into',
    perStep: (row: number) => ({ y_row0: row }),
  });
}
