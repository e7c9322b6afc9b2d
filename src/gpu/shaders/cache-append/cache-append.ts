/**
 * Dispatchers for the fused cache appends, one dispatch each where the decode step had three or four:
 *   mla-append.wgsl      ckv RMSNorm → ckv rows, kpe RoPE → kpe rows, q_pe RoPE (out of place or in place)
 *   indexer-append.wgsl  k_I LayerNorm + RoPE → the indexer's key cache rows, q_I RoPE in place
 *   mla-indexer-append.wgsl  both of the above in one dispatch (a DSA layer's appends)
 *   gqa-append.wgsl      q/k/v bias, QK-norm, RoPE of q (in place) and k → the k cache, v → the v cache
 * Both are prepared once and encoded with the step's position (the rotation angle and the cache row).
 * Shapes (rows = tokens of the pass):
 *   MLA:     kv_a f32 [rows, L + R] (attn_kv_a_mqa's output), q f32 [rows, H, nope + R], q_pe f32 [rows, H, R],
 *            ckv f32 [cap, L], kpe f32 [cap, R]
 *   indexer: k_raw f32 [rows, D], q f32 [rows, H_I, D], k cache f32 [cap, D]
 *   GQA:     qkv f32 with blocks q [rows, H, D], k and v [rows, HK, D]; k and v caches f32 [cap, HK, D]
 */
import { getPipeline, type BufferArg } from '../../pipelines.ts';
import { wgslStruct, type ParamLayout } from '../../params.ts';
import { preprocess } from '../common/wgsl.ts';
import { assemble, badArg, grid1d, prepareDispatch, type PreparedDispatch } from '../add/kernel-util.ts';
import { ropeThetaScale, ROPE_MATH_WGSL, type RopeParams } from '../rope/rope.ts';
import mlaSource from './mla-append.wgsl?raw';
import indexerSource from './indexer-append.wgsl?raw';
import fusedSource from './mla-indexer-append.wgsl?raw';
import gqaSource from './gqa-append.wgsl?raw';

const ROPE_FIELDS = [
  ['n_dims', 'u32'],
  ['pos0', 'u32'],
  ['theta_scale', 'f32'],
  ['freq_scale', 'f32'],
  ['ext_factor', 'f32'],
  ['attn_factor', 'f32'],
  ['corr0', 'f32'],
  ['corr1', 'f32'],
] as const;

export const MLA_APPEND_PARAMS = [
  ['rows', 'u32'],
  ['heads', 'u32'],
  ['kv_lora', 'u32'],
  ['kv_stride', 'u32'], // L + R
  ['eps', 'f32'],
  ['ckv_row0', 'u32'],
  ['kpe_row0', 'u32'],
  ['q_row_stride', 'u32'],
  ['q_head_stride', 'u32'],
  ['q_offset', 'u32'],
  ...ROPE_FIELDS,
] as const satisfies ParamLayout;

export const GQA_APPEND_PARAMS = [
  ['rows', 'u32'],
  ['heads', 'u32'],
  ['heads_kv', 'u32'],
  ['head_dim', 'u32'],
  ['kv_width', 'u32'], // HK · D
  ['q_off', 'u32'],
  ['k_off', 'u32'],
  ['v_off', 'u32'],
  ['bq_off', 'u32'],
  ['bk_off', 'u32'],
  ['bv_off', 'u32'],
  ['qn_off', 'u32'],
  ['kn_off', 'u32'],
  ['ff_off', 'u32'],
  ['eps', 'f32'],
  ...ROPE_FIELDS,
] as const satisfies ParamLayout;

export const INDEXER_APPEND_PARAMS = [['rows', 'u32'], ['heads', 'u32'], ['dim', 'u32'], ['eps', 'f32'], ...ROPE_FIELDS] as const satisfies ParamLayout;

const WG = 64;

function ropeValues(r: RopeParams) {
  return {
    n_dims: r.nDims,
    pos0: 0,
    theta_scale: ropeThetaScale(r.freqBase, r.nDims),
    freq_scale: r.freqScale,
    ext_factor: r.extFactor,
    attn_factor: r.attnFactor,
    corr0: r.corrDims[0],
    corr1: r.corrDims[1],
  };
}

export function mlaAppendCode(inPlace: boolean): string {
  return `${preprocess(assemble(mlaSource, MLA_APPEND_PARAMS, { WG, IN_PLACE: inPlace }), { MAIN: true })}\n${ROPE_MATH_WGSL}`;
}

/** indexer-append.wgsl alone (main, bindings from 0) or as the fused append's second part (bindings after MLA's 6). */
function indexerPart(main: boolean): string {
  const text = indexerSource
    .replace(/\{\{IXB\+(\d)\}\}/g, (_, n: string) => String((main ? 0 : 6) + Number(n)))
    .replace('{{IX_PARAMS}}', wgslStruct('IxParams', INDEXER_APPEND_PARAMS));
  return preprocess(assemble(text, null, main ? { WG } : {}), { MAIN: main });
}

export function indexerAppendCode(): string {
  return `${indexerPart(true)}\n${ROPE_MATH_WGSL}`;
}

/** The fused append's params: MLA's, the workgroup split, then the indexer's own fields (rows and pos0 are MLA's). */
const IX_OWN = INDEXER_APPEND_PARAMS.filter(([n]) => n !== 'rows' && n !== 'pos0');
export const MLA_INDEXER_APPEND_PARAMS = [
  ...MLA_APPEND_PARAMS,
  ['mla_groups', 'u32'],
  ...IX_OWN.map(([n, t]) => [`ix_${n}`, t] as const),
] as const satisfies ParamLayout;

export function mlaIndexerAppendCode(inPlace: boolean): string {
  const mla = preprocess(assemble(mlaSource, MLA_INDEXER_APPEND_PARAMS, { WG, IN_PLACE: inPlace }), { MAIN: false });
  // the indexer's params as its function takes them, in IxParams' field order
  const ixArgs = `IxParams(${INDEXER_APPEND_PARAMS.map(([n]) => (n === 'rows' || n === 'pos0' ? `p.${n}` : `p.ix_${n}`)).join(', ')})`;
  return [mla, indexerPart(false), fusedSource.replace('{{IX_ARGS}}', ixArgs), ROPE_MATH_WGSL].join('\n');
}

export interface MlaAppendArgs {
  rows: number;
  heads: number;
  kvLora: number;
  /** Normal (not NeoX) pairs over the last R values of each head; R = params.nDims. */
  rope: RopeParams;
  eps: number;
  kvA: BufferArg;
  normWeight: GPUBuffer;
  /** Row r's normed ckv goes to row (step row) + r; `atStep` false: always from row 0 (legacy's scratch). */
  ckv: GPUBuffer;
  kpe: GPUBuffer;
  atStep: boolean;
  /**
   * q [rows, H, qHead] with the rotated slice at [qOffset, qOffset + R) of each head; a range when it shares
   * its buffer with the indexer's q_I (writable bindings of one dispatch must not overlap).
   */
  q: BufferArg;
  qHead: number;
  qOffset: number;
  /** q_pe [rows, H, R]; absent: q is rotated in place. */
  qPe?: GPUBuffer;
}

const placeholders = new WeakMap<GPUDevice, GPUBuffer>();
function placeholder(device: GPUDevice): GPUBuffer {
  let b = placeholders.get(device);
  if (!b) placeholders.set(device, (b = device.createBuffer({ label: 'mla-append:in-place', size: 4, usage: GPUBufferUsage.STORAGE })));
  return b;
}

/** MLA's part of an append: checks, params, buffers and workgroups. */
function mlaPart(device: GPUDevice, a: MlaAppendArgs) {
  const R = a.rope.nDims;
  if (a.rope.neox) throw badArg('mla-append rotates normal (adjacent) pairs, as MLA does; NeoX pairs are not supported');
  if (R % 2 !== 0 || R <= 0 || a.qOffset + R > a.qHead)
    throw badArg(`mla-append: rope dims ${R} must be even and fit each q head (${a.qOffset} + ${R} > ${a.qHead})`);
  const values = {
    rows: a.rows,
    heads: a.heads,
    kv_lora: a.kvLora,
    kv_stride: a.kvLora + R,
    eps: a.eps,
    ckv_row0: 0,
    kpe_row0: 0,
    q_row_stride: a.heads * a.qHead,
    q_head_stride: a.qHead,
    q_offset: a.qOffset,
    ...ropeValues(a.rope),
  };
  const buffers = [a.kvA, a.normWeight, a.ckv, a.kpe, a.q, a.qPe ?? placeholder(device)];
  const groups = a.rows + Math.ceil((a.rows * (a.heads + 1) * (R / 2)) / WG);
  const perStep = (pos: number) => ({ pos0: pos, ckv_row0: a.atStep ? pos : 0, kpe_row0: a.atStep ? pos : 0 });
  return { values, buffers, groups, perStep, inPlace: !a.qPe };
}

/** encode(enc, pos): tokens at positions pos.. , their cache rows pos.. (or 0.. without atStep). */
export function createMlaAppend(device: GPUDevice, a: MlaAppendArgs): PreparedDispatch<number> {
  const mp = mlaPart(device, a);
  const inPlace = mp.inPlace;
  const pipeline = getPipeline(device, { kernel: 'mla-append', variant: { wg: WG, inPlace } }, () => mlaAppendCode(inPlace));
  return prepareDispatch(device, {
    pipeline,
    layout: MLA_APPEND_PARAMS,
    values: mp.values,
    buffers: mp.buffers,
    grid: grid1d(device, mp.groups),
    label: 'mla-append',
    perStep: mp.perStep,
  });
}

export interface IndexerAppendArgs {
  rows: number;
  heads: number;
  dim: number;
  /** NeoX pairs over each head's first nDims values. */
  rope: RopeParams;
  eps: number;
  kRaw: BufferArg;
  lnWeight: GPUBuffer;
  lnBias: GPUBuffer;
  kCache: GPUBuffer;
  q: BufferArg;
}

/** The indexer's part of an append: checks, params, buffers and workgroups. */
function indexerPartArgs(a: IndexerAppendArgs) {
  const R = a.rope.nDims;
  if (!a.rope.neox) throw badArg('indexer-append rotates NeoX pairs, as the DSA indexer does; normal pairs are not supported');
  if (R % 2 !== 0 || R <= 0 || R > a.dim) throw badArg(`indexer-append: rope dims ${R} must be even and at most the key length ${a.dim}`);
  return {
    values: { rows: a.rows, heads: a.heads, dim: a.dim, eps: a.eps, ...ropeValues(a.rope) },
    buffers: [a.kRaw, a.lnWeight, a.lnBias, a.kCache, a.q],
    groups: a.rows + Math.ceil((a.rows * a.heads * (R / 2)) / WG),
  };
}

/** encode(enc, pos): tokens at positions pos.., their keys appended at cache rows pos... */
export function createIndexerAppend(device: GPUDevice, a: IndexerAppendArgs): PreparedDispatch<number> {
  const ip = indexerPartArgs(a);
  const pipeline = getPipeline(device, { kernel: 'indexer-append', variant: { wg: WG } }, indexerAppendCode);
  return prepareDispatch(device, {
    pipeline,
    layout: INDEXER_APPEND_PARAMS,
    values: ip.values,
    buffers: ip.buffers,
    grid: grid1d(device, ip.groups),
    label: 'indexer-append',
    perStep: (pos: number) => ({ pos0: pos }),
  });
}

/**
 * Both appends of a DSA layer in one dispatch (mla-indexer-append.wgsl), each as createMlaAppend and
 * createIndexerAppend would run it alone; the same tokens (rows) at the same positions.
 * encode(enc, pos): tokens at positions pos..
 */
/** Storage buffers mla-indexer-append.wgsl binds: over some devices' per-stage limit (the graph then runs the two appends apart). */
export const MLA_INDEXER_APPEND_STORAGE_BUFFERS = 11;

export function createMlaIndexerAppend(device: GPUDevice, mla: MlaAppendArgs, ix: IndexerAppendArgs): PreparedDispatch<number> {
  if (mla.rows !== ix.rows) throw badArg(`mla-indexer-append: ${mla.rows} MLA rows but ${ix.rows} indexer rows`);
  const mp = mlaPart(device, mla);
  const ip = indexerPartArgs(ix);
  const inPlace = mp.inPlace;
  const pipeline = getPipeline(device, { kernel: 'mla-indexer-append', variant: { wg: WG, inPlace } }, () => mlaIndexerAppendCode(inPlace));
  const own = Object.fromEntries(IX_OWN.map(([n]) => [`ix_${n}`, ip.values[n]])) as Record<`ix_${(typeof IX_OWN)[number][0]}`, number>;
  return prepareDispatch(device, {
    pipeline,
    layout: MLA_INDEXER_APPEND_PARAMS,
    values: { ...mp.values, mla_groups: mp.groups, ...own },
    buffers: [...mp.buffers, ...ip.buffers],
    grid: grid1d(device, mp.groups + ip.groups),
    label: 'mla-indexer-append',
    perStep: mp.perStep,
  });
}

export interface GqaAppendArgs {
  rows: number;
  heads: number;
  headsKv: number;
  headDim: number;
  /** Over each whole head (nDims = headDim); NeoX or normal pairs. */
  rope: RopeParams;
  /** Per-head RMSNorm epsilon (QK-norm). */
  eps: number;
  /** The projections' buffer and the f32 offsets of its q, k, v blocks. */
  qkv: GPUBuffer;
  offsets: { q: number; k: number; v: number };
  /** This layer's small vectors, concatenated (gqaAuxLayout): biases, QK-norm weights, rope frequency factors. */
  aux: GPUBuffer;
  has: { bias: boolean; qkNorm: boolean; freqFactors: boolean };
  kCache: GPUBuffer;
  vCache: GPUBuffer;
}

/** Offsets (f32) of each vector in a GQA layer's aux buffer: [bq | bk | bv | q_norm | k_norm | ff]. */
export function gqaAuxLayout(heads: number, headsKv: number, headDim: number) {
  const Q = heads * headDim;
  const KV = headsKv * headDim;
  const bq = 0;
  const bk = Q;
  const bv = Q + KV;
  const qn = Q + 2 * KV;
  const kn = qn + headDim;
  const ff = kn + headDim;
  return { bq, bk, bv, qn, kn, ff, floats: ff + headDim / 2 };
}

export function gqaAppendCode(neox: boolean, has: GqaAppendArgs['has']): string {
  return `${assemble(gqaSource, GQA_APPEND_PARAMS, { WG, NEOX: neox, BIAS: has.bias, QK_NORM: has.qkNorm, FREQ: has.freqFactors })}\n${ROPE_MATH_WGSL}`;
}

/** encode(enc, pos): tokens at positions pos.., their keys and values at cache rows pos.. */
export function createGqaAppend(device: GPUDevice, a: GqaAppendArgs): PreparedDispatch<number> {
  const D = a.headDim;
  if (a.rope.nDims !== D) throw badArg(`gqa-append rotates whole heads: rope dims ${a.rope.nDims} must equal the head dim ${D}`);
  if (D % 2 !== 0 || a.heads % a.headsKv !== 0) throw badArg(`gqa-append: head dim ${D} must be even and kv heads ${a.headsKv} divide ${a.heads}`);
  const neox = a.rope.neox;
  const pipeline = getPipeline(device, { kernel: 'gqa-append', variant: { wg: WG, neox, ...a.has } }, () => gqaAppendCode(neox, a.has));
  const aux = gqaAuxLayout(a.heads, a.headsKv, D);
  const threads = a.rows * (a.heads + 2 * a.headsKv);
  return prepareDispatch(device, {
    pipeline,
    layout: GQA_APPEND_PARAMS,
    values: {
      rows: a.rows,
      heads: a.heads,
      heads_kv: a.headsKv,
      head_dim: D,
      kv_width: a.headsKv * D,
      q_off: a.offsets.q,
      k_off: a.offsets.k,
      v_off: a.offsets.v,
      bq_off: aux.bq,
      bk_off: aux.bk,
      bv_off: aux.bv,
      qn_off: aux.qn,
      kn_off: aux.kn,
      ff_off: aux.ff,
      eps: a.eps,
      ...ropeValues(a.rope),
    },
    buffers: [a.qkv, a.aux, a.kCache, a.vCache],
    grid: grid1d(device, Math.ceil(threads / WG)),
    label: 'gqa-append',
    perStep: (pos: number) => ({ pos0: pos }),
  });
}
