/**
 * MLA attention on the GPU (docs/model-math.md), built on the split-K core in attention.ts.
 *
 * Absorbed (MQA over the shared latent cache), per layer:
 *   qLat  f32 [nq, H, kvLora]   q_nope already through attn_k_b
 *   qPe   f32 [nq, H, rope]     after RoPE
 *   ckv   f32 [capacity, kvLora] cache (RMSNorm'd latent), kpe f32 [capacity, rope] cache (after RoPE)
 *   out   f32 [nq, H, kvLora]   o_lat = Σ_s p(h, s) ckv_s   (attn_v_b comes after, as a matmul)
 *   score(h, s) = (qLat_h · ckv_s + qPe_h · kpe_s) · kqScale, softmax over visible s (s < nKv, s <= qPos0 + q).
 * Legacy (plain MHA after attn_kv_b): q [nq, H, dk], k [capacity, H, dk], v [capacity, H, dv], out [nq, H, dv].
 * GQA (the dense families, same core): q [nq, H, D], k and v [capacity, HK, D], out [nq, H, D].
 * Options: `sparse` (u32 [nq, k] chosen positions, NO_POSITION padding: only those rows are read),
 * `weights` (f32 [nq, capacity]: Σ_h attention probability per cache position, for the UI).
 * Prefill: nq > 1 queries at positions qPos0 .. qPos0 + nq - 1, causal.
 */
import { type ParamLayout } from '../../params.ts';
import { getPipeline } from '../../pipelines.ts';
import { assemble, badArg, grid1d, prepareDispatch, type PreparedDispatch } from '../add/kernel-util.ts';
import { createAttention, type PreparedAttention } from './attention.ts';
import type { ScratchPool } from '../../scratch-pool.ts';
import copySource from './copy-rows.wgsl?raw';

export { NO_POSITION, type AttentionStep, type PreparedAttention } from './attention.ts';

export interface MlaAbsorbedArgs {
  heads: number;
  kvLora: number;
  rope: number;
  nq: number;
  capacity: number;
  kqScale: number;
  qLat: GPUBuffer;
  qPe: GPUBuffer;
  ckv: GPUBuffer;
  kpe: GPUBuffer;
  out: GPUBuffer;
  sparse?: { idx: GPUBuffer; k: number };
  weights?: GPUBuffer;
  /** Shared working buffers (see AttentionArgs.scratch). */
  scratch?: ScratchPool;
}

export function createMlaAbsorbed(device: GPUDevice, a: MlaAbsorbedArgs): PreparedAttention {
  const { heads: H, kvLora: L, rope: R } = a;
  return createAttention(device, {
    heads: H,
    nq: a.nq,
    capacity: a.capacity,
    d1: L,
    d2: R,
    dv: L,
    q1: { buffer: a.qLat, row: H * L, head: L },
    q2: { buffer: a.qPe, row: H * R, head: R },
    k1: { buffer: a.ckv, row: L, head: 0 },
    k2: { buffer: a.kpe, row: R, head: 0 },
    v: { buffer: a.ckv, row: L, head: 0 },
    out: a.out,
    kqScale: a.kqScale,
    sparse: a.sparse,
    weights: a.weights,
    scratch: a.scratch,
  });
}

export interface GqaAttentionArgs {
  heads: number;
  /** key/value heads: query head h reads kv head ⌊h / (heads / headsKv)⌋ (headsKv = heads: MHA) */
  headsKv: number;
  /** key and value widths per head (the dense families: both the head dim; legacy MLA: nope + rope, v) */
  dk: number;
  dv: number;
  nq: number;
  capacity: number;
  kqScale: number;
  /** q [nq, H, dk] (roped), at the start of its buffer */
  q: GPUBuffer;
  /** k [capacity, HK, dk], v [capacity, HK, dv] */
  k: GPUBuffer;
  v: GPUBuffer;
  /** [nq, H, dv] */
  out: GPUBuffer;
  sparse?: { idx: GPUBuffer; k: number };
  weights?: GPUBuffer;
  /** Shared working buffers (see AttentionArgs.scratch). */
  scratch?: ScratchPool;
}

/** Grouped-query attention (the dense families; MHA when headsKv = heads, as legacy MLA after attn_kv_b). */
export function createGqaAttention(device: GPUDevice, a: GqaAttentionArgs): PreparedAttention {
  const { heads: H, headsKv: HK, dk, dv } = a;
  if (H % HK !== 0) throw badArg(`GQA attention: ${HK} kv heads must divide ${H} heads`);
  return createAttention(device, {
    heads: H,
    nq: a.nq,
    capacity: a.capacity,
    d1: dk,
    d2: 0,
    dv,
    q1: { buffer: a.q, row: H * dk, head: dk },
    k1: { buffer: a.k, row: HK * dk, head: dk },
    v: { buffer: a.v, row: HK * dv, head: dv },
    kvGroup: H / HK,
    out: a.out,
    kqScale: a.kqScale,
    sparse: a.sparse,
    weights: a.weights,
    scratch: a.scratch,
  });
}

/** Legacy MLA (plain MHA after attn_kv_b): q [nq, H, nope + rope], k [capacity, H, nope + rope], v [capacity, H, v]. */
export type MlaLegacyArgs = Omit<GqaAttentionArgs, 'headsKv'>;

export function createMlaLegacy(device: GPUDevice, a: MlaLegacyArgs): PreparedAttention {
  return createGqaAttention(device, { ...a, headsKv: a.heads });
}

export const COPY_ROWS_PARAMS = [
  ['rows', 'u32'],
  ['width', 'u32'],
  ['src_row', 'u32'],
  ['src_off', 'u32'],
  ['dst_row', 'u32'],
  ['dst_row0', 'u32'],
  ['dst_off', 'u32'],
] as const satisfies ParamLayout;

const COPY_WG = 256;

export function copyRowsCode(): string {
  return assemble(copySource, COPY_ROWS_PARAMS, { WG: COPY_WG });
}

export interface CopyRowsArgs {
  src: GPUBuffer;
  dst: GPUBuffer;
  rows: number;
  width: number;
  /** f32 elements between source rows; default width. */
  srcRow?: number;
  /** First source element of row 0; default 0. */
  srcOffset?: number;
  /** f32 elements between destination rows; default width. */
  dstRow?: number;
  /** Destination row of source row 0. */
  dstRow0: number;
  /** First destination element within each row (e.g. one head's slice of a legacy k row); default 0. */
  dstOffset?: number;
}

function copyRowsValues(a: CopyRowsArgs) {
  return {
    rows: a.rows,
    width: a.width,
    src_row: a.srcRow ?? a.width,
    src_off: a.srcOffset ?? 0,
    dst_row: a.dstRow ?? a.width,
    dst_row0: a.dstRow0,
    dst_off: a.dstOffset ?? 0,
  };
}

/**
 * The prepared form (uniform and bind group made once). encode(enc, dstRow0) rewrites only the
 * destination row, which moves every step for the cache appends; pass a.dstRow0 for fixed copies.
 */
export function createCopyRows(device: GPUDevice, a: CopyRowsArgs): PreparedDispatch<number> {
  const pipeline = getPipeline(device, { kernel: 'copy-rows', variant: { wg: COPY_WG } }, copyRowsCode);
  return prepareDispatch(device, {
    pipeline,
    layout: COPY_ROWS_PARAMS,
    values: copyRowsValues(a),
    buffers: [a.src, a.dst],
    grid: grid1d(device, Math.ceil((a.rows * a.width) / COPY_WG)),
    label: 'copy-rows',
    perStep: (dstRow0: number) => ({ dst_row0: dstRow0 }),
  });
}
