/**
 * Dispatcher for rope.wgsl: RoPE (with YaRN, as ggml) in place on a slice of each head.
 * Buffer layout: x f32, head h of row r at r·rowStride + h·headStride, rotated slice [offset, offset + nDims).
 *   MLA q_pe:   q [T, H, nope + rope]:   rowStride H·(nope+rope), headStride nope+rope, offset nope, normal pairs
 *   MLA kpe:    kv_a out [T, kv_lora + rope]: heads 1, rowStride kv_lora+rope, offset kv_lora, normal pairs
 *   indexer qI [T, H_I, D_I] / kI [T, D_I]: offset 0 (head is [rope | nope]), NeoX pairs
 * Positions: pos0 + r, or pos0 + positions[r] with a u32 [rows] buffer.
 */
import { type ParamLayout } from '../../params.ts';
import { getPipeline } from '../../pipelines.ts';
import { assemble, grid1d, badArg, prepareDispatch, type PreparedDispatch } from '../add/kernel-util.ts';
import { ropeThetaScale, yarnCorrDims, type RopeParams } from './rope.ref.ts';
import type { RopeConfig } from '../../../model/config.ts';
import source from './rope.wgsl?raw';
import mathSource from './rope-math.wgsl?raw';

/** rope-math.wgsl: rope_cos_sin, the rotation every RoPE on the GPU uses (also the fused cache appends). */
export const ROPE_MATH_WGSL = mathSource;

export { yarnCorrDims, ropeThetaScale, type RopeParams } from './rope.ref.ts';

/** A model's rope (RopeConfig, as llama.cpp's cparams derive it) as the kernels take it, with its pair style. */
export function ropeParamsFor(rope: RopeConfig, neox: boolean): RopeParams {
  return {
    nDims: rope.dims,
    freqBase: rope.freqBase,
    freqScale: rope.freqScale,
    extFactor: rope.extFactor,
    attnFactor: rope.attnFactor,
    corrDims: yarnCorrDims(rope.dims, rope.origContext, rope.freqBase, rope.betaFast, rope.betaSlow),
    neox,
  };
}

export const ROPE_PARAMS = [
  ['rows', 'u32'],
  ['heads', 'u32'],
  ['row_stride', 'u32'],
  ['head_stride', 'u32'],
  ['offset', 'u32'],
  ['n_dims', 'u32'],
  ['pos0', 'u32'],
  ['theta_scale', 'f32'],
  ['freq_scale', 'f32'],
  ['ext_factor', 'f32'],
  ['attn_factor', 'f32'],
  ['corr0', 'f32'],
  ['corr1', 'f32'],
  ['y_row_stride', 'u32'], // OUT only: where the rotated slice goes
  ['y_head_stride', 'u32'],
  ['y_offset', 'u32'],
  ['y_row0', 'u32'],
] as const satisfies ParamLayout;

const WG = 64;

export function ropeCode(neox: boolean, usePos: boolean, out = false): string {
  return `${assemble(source, ROPE_PARAMS, { WG, NEOX: neox, USE_POS: usePos, OUT: out })}\n${mathSource}`;
}

export interface RopeArgs {
  x: GPUBuffer;
  rows: number;
  heads: number;
  rowStride: number;
  headStride: number;
  offset: number;
  params: RopeParams;
  pos0?: number;
  /** u32 [rows]: position of each row (added to pos0). */
  positions?: GPUBuffer;
  /**
   * Write the rotated slice here instead of in place (x is then only read); `rowAtStep` makes the
   * prepared kernel's step value also the first y row (a cache append at the token's position).
   */
  out?: { y: GPUBuffer; rowStride: number; headStride: number; offset: number; rowAtStep?: boolean };
}

const dummies = new WeakMap<GPUDevice, { pos: GPUBuffer; y: GPUBuffer }>();

function ropeValues(a: RopeArgs) {
  const p = a.params;
  return {
    rows: a.rows,
    heads: a.heads,
    row_stride: a.rowStride,
    head_stride: a.headStride,
    offset: a.offset,
    n_dims: p.nDims,
    pos0: a.pos0 ?? 0,
    theta_scale: ropeThetaScale(p.freqBase, p.nDims),
    freq_scale: p.freqScale,
    ext_factor: p.extFactor,
    attn_factor: p.attnFactor,
    corr0: p.corrDims[0],
    corr1: p.corrDims[1],
    y_row_stride: a.out?.rowStride ?? 0,
    y_head_stride: a.out?.headStride ?? 0,
    y_offset: a.out?.offset ?? 0,
    y_row0: 0,
  };
}

function ropePipeline(device: GPUDevice, a: RopeArgs): { pipeline: GPUComputePipeline; pos: GPUBuffer; y: GPUBuffer } {
  const p = a.params;
  if (p.nDims % 2 !== 0 || p.nDims <= 0) throw badArg(`rope n_dims must be even and positive, got ${p.nDims}`);
  if (a.offset + p.nDims > a.headStride && a.heads > 1) throw badArg('rope slice runs past the head');
  const usePos = a.positions !== undefined;
  const out = a.out !== undefined;
  const pipeline = getPipeline(device, { kernel: 'rope', variant: { wg: WG, neox: p.neox, usePos, out } }, () => ropeCode(p.neox, usePos, out));
  // two placeholders: one buffer may not be bound read-only and writable in the same dispatch
  let d = dummies.get(device);
  if (!d) {
    const make = (label: string) => device.createBuffer({ label, size: 4, usage: GPUBufferUsage.STORAGE });
    dummies.set(device, (d = { pos: make('rope:no-positions'), y: make('rope:in-place') }));
  }
  return { pipeline, pos: a.positions ?? d.pos, y: a.out?.y ?? d.y };
}

/**
 * The prepared form (uniform and bind group made once): encode(enc, pos0) rewrites only pos0, the
 * position of row 0, which moves every decode step.
 */
export function createRope(device: GPUDevice, a: Omit<RopeArgs, 'pos0'>): PreparedDispatch<number> {
  const { pipeline, pos, y } = ropePipeline(device, a);
  const threads = a.rows * a.heads * (a.params.nDims / 2);
  const rowAtStep = a.out?.rowAtStep ?? false;
  return prepareDispatch(device, {
    pipeline,
    layout: ROPE_PARAMS,
    values: ropeValues(a),
    buffers: [a.x, pos, y],
    grid: grid1d(device, Math.ceil(threads / WG)),
    label: 'rope',
    perStep: (pos0: number) => (rowAtStep ? { pos0, y_row0: pos0 } : { pos0 }),
  });
}
