/**
 * Dispatcher for the residual adds:
 *   createAccumulate: y[r, :] += scale * Σ_j w[r·terms + j] · x[r·terms + j, :]  (accumulate.wgsl)
 * The accumulate covers the in-place residual (terms 1, no w: y += scale·x) and the MoE combine
 * (x the gathered expert outputs [T·k, n], w the router's weights [T, k], both on the GPU).
 */
import { type ParamLayout } from '../../params.ts';
import { getPipeline } from '../../pipelines.ts';
import { assemble, grid1d, prepareDispatch, type PreparedDispatch } from './kernel-util.ts';
import accSource from './accumulate.wgsl?raw';

export const ACCUMULATE_PARAMS = [
  ['rows', 'u32'],
  ['n', 'u32'],
  ['terms', 'u32'],
  ['scale', 'f32'],
] as const satisfies ParamLayout;

const WG = 256;

export function accumulateCode(useW: boolean): string {
  return assemble(accSource, ACCUMULATE_PARAMS, { WG, USE_W: useW });
}

export interface AccumulateArgs {
  /** f32 [rows·terms, n]. */
  x: GPUBuffer;
  /** f32 [rows, n], updated in place; must not be x. */
  y: GPUBuffer;
  rows: number;
  n: number;
  /** x rows summed into each y row; default 1. */
  terms?: number;
  /** f32 [rows·terms] per-term weights (e.g. MoE router weights [T, k]); default all 1. */
  w?: GPUBuffer;
  /** Uniform factor; default 1. */
  scale?: number;
}

const dummies = new WeakMap<GPUDevice, GPUBuffer>();

function noWeights(device: GPUDevice): GPUBuffer {
  let w = dummies.get(device);
  if (!w) dummies.set(device, (w = device.createBuffer({ label: 'accumulate:no-w', size: 4, usage: GPUBufferUsage.STORAGE })));
  return w;
}

/** The prepared form (uniform and bind group made once): the residual adds and the MoE combine of the forward graph. */
export function createAccumulate(device: GPUDevice, a: AccumulateArgs): PreparedDispatch {
  const useW = a.w !== undefined;
  const pipeline = getPipeline(device, { kernel: 'accumulate', variant: { wg: WG, useW } }, () => accumulateCode(useW));
  return prepareDispatch(device, {
    pipeline,
    layout: ACCUMULATE_PARAMS,
    values: { rows: a.rows, n: a.n, terms: a.terms ?? 1, scale: a.scale ?? 1 },
    buffers: [a.x, a.w ?? noWeights(device), a.y],
    grid: grid1d(device, Math.ceil((a.rows * a.n) / WG)),
    label: 'accumulate',
  });
}
