/** Dispatcher for swiglu.wgsl: y[n] = silu(gate[n]) * up[n]; y must be a third buffer (WebGPU forbids a writable binding aliasing another). */
import { type ParamLayout } from '../../params.ts';
import { getPipeline } from '../../pipelines.ts';
import { assemble, grid1d, prepareDispatch, type PreparedDispatch } from '../add/kernel-util.ts';
import source from './swiglu.wgsl?raw';

export const SWIGLU_PARAMS = [['n', 'u32']] as const satisfies ParamLayout;

const WG = 256;

export function swigluCode(): string {
  return assemble(source, SWIGLU_PARAMS, { WG });
}

export interface SwigluArgs {
  gate: GPUBuffer; // [n] f32
  up: GPUBuffer; // [n] f32
  y: GPUBuffer; // out [n] f32, a buffer distinct from gate and up
  n: number;
}

/** The prepared form (uniform and bind group made once): the forward graph's hot path. */
export function createSwiglu(device: GPUDevice, a: SwigluArgs): PreparedDispatch {
  const pipeline = getPipeline(device, { kernel: 'swiglu', variant: { wg: WG } }, swigluCode);
  return prepareDispatch(device, {
    pipeline,
    layout: SWIGLU_PARAMS,
    values: { n: a.n },
    buffers: [a.gate, a.up, a.y],
    grid: grid1d(device, Math.ceil(a.n / WG)),
    label: 'swiglu',
  });
}
