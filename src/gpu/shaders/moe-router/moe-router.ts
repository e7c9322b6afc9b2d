/**
 * Dispatcher for moe-router.wgsl: route T tokens among X experts on the GPU, so the chosen expert ids
 * stay on the GPU and feed the gathered expert matmuls without a readback.
 */
import { wgslStruct, uniformBuffer, type ParamLayout } from '../../params.ts';
import { getPipeline, bindBuffers, encodeDispatch } from '../../pipelines.ts';
import { prepareDispatch, type PreparedDispatch } from '../add/kernel-util.ts';
import type { RouterOptions } from './moe-router.ref.ts';
// The kernel switches on GGUF's `expert_gating_func` numbering.
import { GATING_IDS } from '../../../model/config.ts';
import source from './moe-router.wgsl?raw';

export const MOE_ROUTER_PARAMS = [
  ['n_expert', 'u32'],
  ['k', 'u32'],
  ['gating', 'u32'],
  ['n_group', 'u32'],
  ['n_group_used', 'u32'],
  ['normalize', 'u32'],
  ['scale', 'f32'],
] as const satisfies ParamLayout;

/** The kernel holds one expert per thread of a 256-wide workgroup. */
export const MAX_EXPERTS = 256;

export function moeRouterCode(): string {
  return source.replace('{{PARAMS}}', wgslStruct('Params', MOE_ROUTER_PARAMS));
}

export interface MoeRouterArgs {
  logits: GPUBuffer; // [T, X] f32
  bias: GPUBuffer; // [X] f32, zeros when the model has no exp_probs_b
  probs: GPUBuffer; // out [T, X] f32
  experts: GPUBuffer; // out [T, k] u32
  weights: GPUBuffer; // out [T, k] f32
  tokens: number;
  nExpert: number;
  options: RouterOptions;
}

function routerValues(a: MoeRouterArgs) {
  if (a.nExpert > MAX_EXPERTS) throw new Error(`moe-router supports at most ${MAX_EXPERTS} experts, got ${a.nExpert}`);
  if (a.options.groupCount > 1 && a.nExpert % a.options.groupCount !== 0) throw new Error('expert count must divide into groups');
  const o = a.options;
  return {
    n_expert: a.nExpert,
    k: o.topK,
    gating: GATING_IDS[o.gating],
    n_group: o.groupCount,
    n_group_used: o.groupsUsed,
    normalize: o.normalize ? 1 : 0,
    scale: o.scale,
  };
}

/** The prepared form (uniform and bind group made once): the forward graph's hot path. */
export function createMoeRouter(device: GPUDevice, a: MoeRouterArgs): PreparedDispatch {
  const values = routerValues(a);
  const pipeline = getPipeline(device, { kernel: 'moe-router', variant: {} }, moeRouterCode);
  return prepareDispatch(device, {
    pipeline,
    layout: MOE_ROUTER_PARAMS,
    values,
    buffers: [a.logits, a.bias, a.probs, a.experts, a.weights],
    grid: [a.tokens],
    label: 'moe-router',
  });
}

export function encodeMoeRouter(device: GPUDevice, enc: GPUCommandEncoder, a: MoeRouterArgs): void {
  const values = routerValues(a);
  const pipeline = getPipeline(device, { kernel: 'moe-router', variant: {} }, moeRouterCode);
  const params = uniformBuffer(device, MOE_ROUTER_PARAMS, values, 'moe-router:params');
  const bg = bindBuffers(device, pipeline, [params, a.logits, a.bias, a.probs, a.experts, a.weights], 'moe-router');
  encodeDispatch(enc, pipeline, bg, [a.tokens]);
}
