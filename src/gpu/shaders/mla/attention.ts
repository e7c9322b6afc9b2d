/**
 * The attention core behind mla.ts: split-K ("flash-decoding") attention of nq queries over a cache,
 * dense or over a chosen list of positions, causal, with an optional attention-weights readout.
 *   pass 1 attn-partial.wgsl  grid (chunks, nq): per chunk of CH candidates, per head: max, Σexp, Σexp·v
 *   pass 2 attn-combine.wgsl  grid (H, nq):      merge the chunks, normalise; (M, L) per head
 *   pass 3 attn-weights.wgsl  grid (cand, nq):   only with `weights`: Σ_h probabilities per position
 * Element (q, h, i) of a query operand lives at  q·row + h·head + i  (f32 units); of a key/value operand at
 * s·row + ⌊h / kvGroup⌋·head + i (grouped-query attention: kvGroup query heads read one kv head).
 * Query q has position qPos0 + q and sees cache rows s < nKv with s <= qPos0 + q.
 * The partials take nq × chunks × H × dv floats (128 heads × 128 chunks × 512 = 32 MiB per query at top-k
 * 2048): when a prefill chunk's would pass the device's binding limit, its queries run in groups (each
 * group's dispatches from q_base on, reusing one partials buffer sized for a group).
 */
import { SparseScopeError } from '../../../errors.ts';
import { uniformBuffer, packParams, type ParamLayout } from '../../params.ts';
import { getPipeline, bindBuffers } from '../../pipelines.ts';
import { createStorage } from '../../buffers.ts';
import type { ScratchPool } from '../../scratch-pool.ts';
import { leavePass } from '../../pass-scope.ts';
import { assemble, badArg, checkGroups, encodeSteps, type Step } from '../add/kernel-util.ts';
import partialSource from './attn-partial.wgsl?raw';
import combineSource from './attn-combine.wgsl?raw';
import weightsSource from './attn-weights.wgsl?raw';

export const ATTN_PARAMS = [
  ['n_heads', 'u32'],
  ['d1', 'u32'],
  ['d2', 'u32'],
  ['dv', 'u32'],
  ['q1_row', 'u32'],
  ['q1_head', 'u32'],
  ['q2_row', 'u32'],
  ['q2_head', 'u32'],
  ['k1_row', 'u32'],
  ['k1_head', 'u32'],
  ['k2_row', 'u32'],
  ['k2_head', 'u32'],
  ['v_row', 'u32'],
  ['v_head', 'u32'],
  ['n_kv', 'u32'],
  ['q_pos0', 'u32'],
  ['k_sel', 'u32'],
  ['n_chunks', 'u32'],
  ['score_stride', 'u32'],
  ['out_stride', 'u32'],
  ['ch', 'u32'],
  ['kq_scale', 'f32'],
  ['q_base', 'u32'], // first query of this dispatch's group
  ['kv_group', 'u32'], // query heads per key/value head (GQA; 1 = MHA)
] as const satisfies ParamLayout;

/** Sentinel for "no position" in index lists (the top-k kernel pads with it). */
export const NO_POSITION = 0xffffffff;

export interface Operand {
  buffer: GPUBuffer;
  /** f32 elements between consecutive rows (queries or cache positions). */
  row: number;
  /** f32 elements between consecutive heads; 0 = one vector shared by all heads (MLA's latent cache). */
  head: number;
}

export interface AttentionArgs {
  heads: number;
  /** Queries per dispatch (1 for decode; a prefill chunk). */
  nq: number;
  /** Cache rows the scratch is sized for (the cache capacity). */
  capacity: number;
  d1: number;
  /** Second score term's width (MLA's rope part); 0 for none. */
  d2: number;
  dv: number;
  q1: Operand;
  q2?: Operand;
  k1: Operand;
  k2?: Operand;
  v: Operand;
  /** f32 [nq, H, dv]. */
  out: GPUBuffer;
  kqScale: number;
  /** Sparse: u32 [nq, k] positions per query (any order; NO_POSITION = none). */
  sparse?: { idx: GPUBuffer; k: number };
  /** Readout: f32 [nq, capacity] (dense, sparse) = Σ_h probability at each cache position; 0 where unchosen. */
  weights?: GPUBuffer;
  /** Where the working buffers (partials, stats, scores) come from when kernels share them (a graph's layers). */
  scratch?: ScratchPool;
  /** Query heads per key/value head (GQA: heads / headsKv); default 1. */
  kvGroup?: number;
}

export interface AttentionStep {
  /** Valid cache rows. */
  nKv: number;
  /** Position of query 0 (decode: nKv - 1). */
  qPos0: number;
}

export interface PreparedAttention {
  /** Records the passes. Writes the step's uniforms now (queue order): encode each prepared kernel once per submit. */
  encode(enc: GPUCommandEncoder, step: AttentionStep): void;
  destroy(): void;
}

const SCORE_BUDGET = 2048; // scores per workgroup (CH · H) in workgroup memory
const MAX_CHUNKS = 2048;
const WG = 128;

interface Variant {
  vec: boolean;
  shared: boolean;
  sparse: boolean;
  weights: boolean;
  heads: number;
  hg: number;
  ch: number;
}

function header(v: Variant): Record<string, boolean | number> {
  return { WG, CH: v.ch, HMAX: v.heads, HG: v.hg, SHARED_KV: v.shared, SPARSE: v.sparse, WEIGHTS: v.weights, MAX_CHUNKS };
}

function vtypes(vec: boolean): string {
  return vec ? 'alias VT = vec4<f32>;\nfn vdot(a: VT, b: VT) -> f32 { return dot(a, b); }' : 'alias VT = f32;\nfn vdot(a: VT, b: VT) -> f32 { return a * b; }';
}

function code(source: string, v: Variant): string {
  return assemble(source, ATTN_PARAMS, header(v)) + '\n' + vtypes(v.vec);
}

export function chooseVariant(a: AttentionArgs): Variant {
  // SHARED_KV: a workgroup item's HG heads read one key/value vector (MLA's latent: head stride 0; GQA: one group)
  const group = a.kvGroup ?? 1;
  const strideless = a.k1.head === 0 && (a.k2?.head ?? 0) === 0 && a.v.head === 0;
  const shared = strideless || group > 1;
  const dims = [
    a.d1,
    a.d2,
    a.dv,
    a.q1.row,
    a.q1.head,
    a.q2?.row ?? 0,
    a.q2?.head ?? 0,
    a.k1.row,
    a.k2?.row ?? 0,
    a.v.row,
    a.k1.head,
    a.k2?.head ?? 0,
    a.v.head,
  ];
  const vec = dims.every((d) => d % 4 === 0);
  const hg = shared ? ([8, 4, 2].find((g) => a.heads % g === 0 && (strideless || group % g === 0)) ?? 1) : 1;
  const ch = Math.max(8, Math.min(128, Math.floor(SCORE_BUDGET / a.heads)));
  return { vec, shared, sparse: !!a.sparse, weights: !!a.weights, heads: a.heads, hg, ch };
}

export function createAttention(device: GPUDevice, a: AttentionArgs): PreparedAttention {
  if (a.d2 > 0 && (!a.q2 || !a.k2)) throw badArg('attention: d2 > 0 needs q2 and k2');
  const kvGroup = a.kvGroup ?? 1;
  if (!Number.isInteger(kvGroup) || kvGroup < 1 || a.heads % kvGroup !== 0) throw badArg(`attention: kvGroup ${kvGroup} must divide the ${a.heads} heads`);
  const v = chooseVariant(a);
  const w = v.vec ? 4 : 1;
  const key = { vec: v.vec, shared: v.shared, sparse: v.sparse, weights: v.weights, heads: v.heads, hg: v.hg, ch: v.ch };
  const partial = getPipeline(device, { kernel: 'attn-partial', variant: key }, () => code(partialSource, v));
  const combine = getPipeline(device, { kernel: 'attn-combine', variant: { vec: v.vec, heads: v.heads } }, () => code(combineSource, v));
  const weights = a.weights
    ? getPipeline(device, { kernel: 'attn-weights', variant: { sparse: v.sparse, heads: v.heads } }, () => code(weightsSource, v))
    : undefined;

  const maxCand = a.sparse ? a.sparse.k : a.capacity;
  const maxChunks = Math.ceil(maxCand / v.ch);
  if (maxChunks > MAX_CHUNKS) throw badArg(`attention: ${maxCand} candidates need ${maxChunks} chunks, at most ${MAX_CHUNKS}`);
  checkGroups(device, maxChunks, 'attention chunks');
  checkGroups(device, a.nq, 'attention queries');
  // queries per group: as many as the partials' binding allows
  const perQuery = maxChunks * a.heads * a.dv * 4;
  const maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  if (perQuery > maxBinding)
    throw new SparseScopeError(
      'device-limits',
      `attention: one query's partials need ${perQuery} bytes (${maxChunks} chunks × ${a.heads} heads × ${a.dv}), over the device's ${maxBinding}-byte binding limit`,
    );
  const group = Math.min(a.nq, Math.floor(maxBinding / perQuery));
  const groups = Math.ceil(a.nq / group);
  // working buffers: the caller's shared pool (the layers of a graph run one after another), or owned here
  const owned: GPUBuffer[] = [];
  const work = (name: string, bytes: number) => (a.scratch ? a.scratch.get(name, bytes) : owned[owned.push(createStorage(device, bytes, name)) - 1]);
  const partMl = work('attn:part_ml', group * maxChunks * a.heads * 8);
  const partO = work('attn:part_o', group * perQuery);
  const stats = work('attn:stats', a.nq * a.heads * 8);
  const scores = work('attn:scores', a.weights ? a.nq * a.heads * maxCand * 4 : 4); // unwritten without WEIGHTS
  const idx = a.sparse?.idx ?? createStorage(device, 4, 'attn:no-idx'); // unread when dense

  const fixed = {
    n_heads: a.heads,
    d1: a.d1 / w,
    d2: a.d2 / w,
    dv: a.dv / w,
    q1_row: a.q1.row / w,
    q1_head: a.q1.head / w,
    q2_row: (a.q2?.row ?? 0) / w,
    q2_head: (a.q2?.head ?? 0) / w,
    k1_row: a.k1.row / w,
    k1_head: a.k1.head / w,
    k2_row: (a.k2?.row ?? 0) / w,
    k2_head: (a.k2?.head ?? 0) / w,
    v_row: a.v.row / w,
    v_head: a.v.head / w,
    k_sel: a.sparse?.k ?? 0,
    score_stride: maxCand,
    out_stride: a.capacity,
    kq_scale: a.kqScale,
    ch: v.ch,
    kv_group: kvGroup,
  };
  const q2 = a.q2?.buffer ?? a.q1.buffer;
  const k2 = a.k2?.buffer ?? a.k1.buffer;
  // one uniform and bind groups per query group (a submit sees each uniform's last write only)
  const perGroup = Array.from({ length: groups }, (_, g) => {
    const params = uniformBuffer(device, ATTN_PARAMS, { ...fixed, n_kv: 0, q_pos0: 0, n_chunks: 1, q_base: g * group }, `attn:params#${g}`);
    return {
      params,
      qBase: g * group,
      nq: Math.min(group, a.nq - g * group),
      partial: bindBuffers(device, partial, [params, a.q1.buffer, q2, a.k1.buffer, k2, a.v.buffer, idx, partMl, partO, scores], 'attn-partial'),
      combine: bindBuffers(device, combine, [params, partMl, partO, a.out, stats], 'attn-combine'),
      weights: weights && bindBuffers(device, weights, [params, scores, stats, idx, a.weights!], 'attn-weights'),
    };
  });

  return {
    encode(enc, step) {
      if (step.nKv > a.capacity) throw badArg(`attention: ${step.nKv} cache rows, capacity ${a.capacity}`);
      const visible = Math.min(step.nKv, step.qPos0 + a.nq);
      const nChunks = Math.max(1, Math.ceil((a.sparse ? a.sparse.k : visible) / v.ch));
      const steps: Step[] = [];
      for (const g of perGroup) {
        device.queue.writeBuffer(g.params, 0, packParams(ATTN_PARAMS, { ...fixed, n_kv: step.nKv, q_pos0: step.qPos0, n_chunks: nChunks, q_base: g.qBase }));
        steps.push({ pipeline: partial, bindGroup: g.partial, grid: [nChunks, g.nq] }, { pipeline: combine, bindGroup: g.combine, grid: [a.heads, g.nq] });
      }
      if (weights) {
        if (a.sparse) {
          leavePass(enc); // a clear is an encoder command, not a dispatch (trace runs only)
          enc.clearBuffer(a.weights!, 0, a.nq * a.capacity * 4);
        }
        for (const g of perGroup) steps.push({ pipeline: weights, bindGroup: g.weights!, grid: [Math.ceil(maxCand / WG), g.nq] });
      }
      encodeSteps(enc, steps, 'attention');
    },
    destroy() {
      for (const b of [...owned, ...perGroup.map((g) => g.params)]) b.destroy();
      if (!a.sparse) idx.destroy();
    },
  };
}
