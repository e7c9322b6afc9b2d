/**
 * Dispatchers for matvec.wgsl, the decode-path products with weights in GGUF block format:
 *   matvec:         y[m, N] = W[N, K] · x[m, K] for a few vectors m (each re-reads W: use matmul for prefill)
 *   gathered matvec y[j, N] = W[ids[j]] · x[j / xDiv, K] for an expert tensor W of ne {K, N, X}, with the
 *                   expert ids on the GPU (straight from the MoE router); unchosen experts are never read.
 * Fused epilogues, each saving a dispatch of the decode step: `w2` (same shape and type) makes it an FFN's
 * gate + up + SwiGLU, y = silu(W·x) * (W2·x); `accumulate` adds into y (the residual add, plain only).
 * A fused prologue: `norm` makes x the un-normed rows h and multiplies by RMSNorm(h) · weight on load
 * (matvec-io.wgsl's x_chunk), so a norm whose only consumers are matvecs needs no dispatch; `normOut` also
 * writes the normed rows for later dispatches (a MoE layer's router matvec, for its experts).
 * A MoE decode step's gathers also take `route` (the router's top-k and weights computed in the kernel from
 * the logits, matvec-route.wgsl, instead of ids) and `shared` (the shared expert as one more slot of the
 * gate/up and one more term of the down's combine, from its own weights).
 * Build once with create*() and encode every step (no allocation per step), or use encode*() directly.
 */
import { SparseScopeError } from '../../../errors.ts';
import { wgslStruct, uniformBuffer, type ParamLayout } from '../../params.ts';
import { getPipeline, bufferResource, type BufferArg } from '../../pipelines.ts';
import { composeQuantKernel } from '../common/blocks.ts';
import { preprocess } from '../common/wgsl.ts';
import { chunksPerRow, isFloatType, CHUNK, type WeightType } from '../common/quant-types.ts';
import type { GpuTensor } from '../common/tensor.ts';
import { preparedKernel, type PreparedKernel } from '../common/prepared.ts';
// ROUTE switches on GGUF's `expert_gating_func` numbering, as moe-router.wgsl does
import { GATING_IDS } from '../../../model/config.ts';
import type { RouterOptions } from '../moe-router/moe-router.ref.ts';

export type { PreparedKernel };
import source from './matvec.wgsl?raw';
import perRowSource from './matvec-rows.wgsl?raw';
import ioSource from './matvec-io.wgsl?raw';
import multiRowSource from './matvec-multirow.wgsl?raw';
import routeSource from './matvec-route.wgsl?raw';
import { q8xSupported, q8xStride4, q8xMatvecCode, quantizeXCode } from './matvec-q8x.ts';
import { recordInPass } from '../../pass-scope.ts';

export const MATVEC_PARAMS = [
  ['k', 'u32'], // values per row
  ['chunks', 'u32'], // 32-value chunks per row
  ['row_bytes', 'u32'],
  ['rows', 'u32'], // rows this dispatch covers: the part's rows (plain) or N (gather)
  ['n_out', 'u32'], // y row stride (plain): N
  ['y_offset', 'u32'], // first y index of this part (plain)
  ['part_row0', 'u32'], // gather: the part's first row of the flattened [N·X] rows
  ['part_row_end', 'u32'], // gather: one past its last row
  ['n_experts', 'u32'], // gather: X
  ['x_div', 'u32'], // gather: slot j reads x row j / x_div
  ['x_stride', 'u32'], // floats between x rows (K when dense; wider when x rows are the front of wider rows)
  ['norm_eps', 'f32'], // NORM: the RMSNorm's epsilon
  ['terms', 'u32'], // COMBINE, ROUTE, SHARED: routed slots per token (the router's k)
  ['s_rows', 'u32'], // SHARED: the shared expert's matrix: rows (0 without)
  ['s_row_bytes', 'u32'], //   its row bytes
  ['s_k', 'u32'], //   its K
  ['s_chunks', 'u32'], //   its 32-value chunks per row
  ['s_x', 'u32'], //   COMBINE: first x index of its [tokens, s_k] input rows
  ['s_y', 'u32'], //   gate/up: first y index of its [tokens, s_rows] output rows
  ['out_stride', 'u32'], // NORM_OUT: invocations writing each normed row (0: none)
  ['r_bias', 'u32'], // ROUTE: R index of the [X] selection bias (after the [T, X] logits)
  ['gating', 'u32'], //   GGUF's expert_gating_func
  ['n_group', 'u32'],
  ['n_group_used', 'u32'],
  ['normalize', 'u32'],
  ['scale', 'f32'],
] as const satisfies ParamLayout;

type MatvecParamValues = Record<(typeof MATVEC_PARAMS)[number][0], number>;

/** The params no epilogue uses, at their neutral values: each dispatcher overrides what it sets. */
const NEUTRAL: Omit<MatvecParamValues, 'k' | 'chunks' | 'row_bytes' | 'rows' | 'n_out'> = {
  y_offset: 0,
  part_row0: 0,
  part_row_end: 0,
  n_experts: 0,
  x_div: 1,
  x_stride: 0,
  norm_eps: 0,
  terms: 1,
  s_rows: 0,
  s_row_bytes: 0,
  s_k: 0,
  s_chunks: 0,
  s_x: 0,
  s_y: 0,
  out_stride: 0,
  r_bias: 0,
  gating: 0,
  n_group: 1,
  n_group_used: 1,
  normalize: 0,
  scale: 1,
};

/** A plain (ungathered) matvec's params for one tensor part: its rows, written at their place in y [m, N]. */
function partParams(w: GpuTensor, part: GpuTensor['parts'][number], k: number, n: number): MatvecParamValues {
  return { ...NEUTRAL, k, chunks: chunksPerRow(k), row_bytes: w.rowBytes, rows: part.rowCount, n_out: n, y_offset: part.rowStart, x_stride: k };
}

export interface MatvecVariant {
  /**
   * Decode and multiply in f16 within a 32-value chunk (f32 across chunks). Default: off, since it costs
   * accuracy and software adapters emulate f16 (lavapipe ran it ~1.5-2x slower).
   */
  f16?: boolean;
  /** Reduce with subgroupAdd (q8x: read x through subgroupBroadcast). Default: when the device has subgroups. */
  subgroups?: boolean;
  /** Threads per workgroup (power of two). */
  wg?: number;
  /** Rows per workgroup (ignored by perRow, where it is wg). */
  rows?: number;
  /**
   * One invocation per output row, no barrier, no shared memory (matvec-rows.wgsl): the variant for
   * software adapters, which run a workgroup as SIMD lanes of one CPU thread. Default: off.
   */
  perRow?: boolean;
  /**
   * With perRow: rows each invocation computes (matvec-multirow.wgsl), each x chunk loaded once for all
   * of them; 1 (default) is matvec-rows.wgsl. A workgroup then covers wg × rowsPerInvocation rows.
   */
  rowsPerInvocation?: number;
  /** With perRow: the matvec-multirow.wgsl kernel even for one row per invocation (no early return). */
  uniformX?: boolean;
  /**
   * x quantized to 8 bits first, as llama.cpp quantizes its matmul inputs, then integer dot products, one
   * invocation per row of wg (matvec-q8x.ts): Q8_0 and Q4_K weights with K % 256 == 0, plain products
   * (any m, pair, accumulate, norm; rowsPerInvocation 1..4). Elsewhere (other types, gathers, MULTI)
   * withoutQ8x() says what runs instead.
   */
  q8x?: boolean;
}

/** What a q8x variant runs where the int8 kernel does not apply: the software default's shape. */
function withoutQ8x(v: MatvecVariant): MatvecVariant {
  if (!v.q8x) return v;
  return { perRow: true, wg: v.wg ?? 8, rowsPerInvocation: 2 };
}

export const DEFAULT_MATVEC_WG = 64;
export const DEFAULT_MATVEC_ROWS = 4;

/**
 * The matvec variant the engine uses for a K×N matrix on an adapter when no tuner chose one (tune.ts).
 * Software adapters: two rows per invocation, 8 lanes a workgroup (matvec-multirow.wgsl), measured side by
 * side at 4096² on lavapipe ~2× the kernels that were the default before (rows per workgroup: Q8_0 26.5
 * → 14.5 ms, Q4_K 24.9 → 12.4 ms) and at 2048² on SwiftShader ~2× one invocation per row in 64 lanes
 * (Q8_0 112 → 61 ms, Q4_K 106 → 50 ms); `npm run bench` prints every candidate at its size.
 * GPUs: rows per workgroup with a subgroup reduction where the feature exists.
 * Arithmetic stays f32 (the f16 variant costs ~1e-2 in log-prob, more than the llama.cpp comparisons allow).
 */
export function preferredMatvecVariant(info: { software: boolean; hasSubgroups: boolean }, _k: number, _n: number): MatvecVariant {
  return info.software ? { perRow: true, wg: 8, rowsPerInvocation: 2 } : { subgroups: info.hasSubgroups };
}

interface ResolvedVariant {
  type: WeightType;
  f16: boolean;
  subgroups: boolean;
  wg: number;
  rows: number;
  tail: boolean;
  /** K % 4 == 0: x read as vec4. */
  x4: boolean;
  gather: boolean;
  perRow: boolean;
  /** per row: rows per invocation (1: matvec-rows.wgsl) */
  rpi: number;
  /** per row: matvec-multirow.wgsl */
  multiRow: boolean;
  /** y = silu(W x) * (W2 x) */
  pair: boolean;
  /** y += W x */
  accumulate: boolean;
  /** x = RMSNorm(x) · G on load */
  norm: boolean;
  /** MULTI: the types of the further matrices (W2, W3, W4) of one dispatch; empty when one matrix */
  multi: WeightType[];
  /** COMBINE (gather): y[t] += Σ_j weight_j · W[e_j] x_j */
  combine: boolean;
  /** ROUTE (gather): the router's choice computed in the kernel (matvec-route.wgsl) from X logits, k used; 0 when off */
  routeX: number;
  routeK: number;
  /** SHARED (gather): the shared expert's weight type, read in the same dispatch; undefined when none */
  shared?: WeightType;
  /** NORM_OUT (plain, with norm): the normed x written for later dispatches */
  normOut: boolean;
}

/** The fused MoE parts of a gathered matvec (ROUTE, SHARED) and NORM_OUT of a plain one. */
interface MoeFusion {
  route?: { x: number; k: number };
  shared?: WeightType;
  normOut?: boolean;
}

function resolve(
  device: GPUDevice,
  type: WeightType,
  k: number,
  gather: boolean,
  v: MatvecVariant,
  e: { pair: boolean; accumulate: boolean; norm: boolean; multi?: WeightType[]; combine?: boolean },
  xStride = k,
  f: MoeFusion = {},
): ResolvedVariant {
  const multi = e.multi ?? [];
  const f16 = v.f16 ?? false;
  const subgroups = v.subgroups ?? device.features.has('subgroups');
  if (f16 && !device.features.has('shader-f16')) throw new SparseScopeError('device-limits', 'the f16 matvec needs shader-f16');
  if (subgroups && !device.features.has('subgroups')) throw new SparseScopeError('device-limits', 'the subgroup matvec needs subgroups');
  const wg = v.wg ?? DEFAULT_MATVEC_WG;
  if (wg & (wg - 1)) throw new Error(`matvec workgroup size must be a power of two, got ${wg}`);
  const perRow = v.perRow ?? false;
  // matvec-multirow.wgsl has neither MULTI's workgroup → matrix map nor COMBINE: those run one row per
  // invocation (matvec-rows.wgsl), which has both
  const multiRowOk = multi.length === 0 && !e.combine;
  const rpi = perRow && multiRowOk ? (v.rowsPerInvocation ?? 1) : 1;
  if (!Number.isInteger(rpi) || rpi < 1 || rpi > 16) throw new SparseScopeError('bad-argument', `matvec rows per invocation must be 1..16, got ${rpi}`);
  const multiRow = perRow && multiRowOk && (rpi > 1 || !!v.uniformX);
  // per row: a workgroup covers wg × rpi rows and reduces nothing, so subgroups play no part
  return {
    type,
    f16,
    subgroups: perRow ? false : subgroups,
    wg,
    rows: perRow ? wg * rpi : (v.rows ?? DEFAULT_MATVEC_ROWS),
    tail: [type, ...multi].some(isFloatType) && k % CHUNK !== 0,
    x4: k % 4 === 0 && xStride % 4 === 0,
    gather,
    perRow,
    rpi,
    multiRow,
    ...e,
    multi,
    combine: e.combine ?? false,
    routeX: f.route?.x ?? 0,
    routeK: f.route?.k ?? 0,
    shared: f.shared,
    normOut: !!f.normOut,
  };
}

/** The kernel text a variant runs: each is a main() over matvec-io.wgsl's params, bindings and helpers. */
function variantSource(r: ResolvedVariant): string {
  const body = !r.perRow ? source : r.multiRow ? multiRowSource : perRowSource;
  return r.routeK > 0 ? `${body}\n${routeSource}` : body;
}

export function matvecCode(r: ResolvedVariant): string {
  const body = preprocess(
    `${ioSource}\n${variantSource(r)}`,
    // the per-row kernels read a whole x row in one invocation, so they sum its squares as they go (NORM_STREAM)
    {
      GATHER: r.gather,
      SUBGROUPS: r.subgroups,
      X4: r.x4,
      PAIR: r.pair,
      ACCUMULATE: r.accumulate,
      NORM: r.norm,
      NORM_STREAM: r.norm && r.perRow,
      MULTI: r.multi.length > 0,
      COMBINE: r.combine,
      ROUTE: r.routeK > 0,
      SHARED: !!r.shared,
      // the gather's expert ids come from the ids binding unless the kernel routes
      IDS: r.gather && r.routeK === 0,
      // params copied to a private when a workgroup's matrix changes them (MULTI's, SHARED's)
      PRIVATE_P: r.multi.length > 0 || !!r.shared,
      NORM_OUT: r.normOut,
    },
    {
      PARAMS: wgslStruct('Params', MATVEC_PARAMS),
      WG: r.wg,
      ROWS: r.rows,
      RPI: r.rpi,
      TAIL: String(r.tail),
      RX: r.routeX,
      RK: r.routeK,
    },
  );
  return composeQuantKernel(body, { type: r.type, f16: r.f16, subgroups: r.subgroups, second: r.pair, multi: r.multi, shared: r.shared });
}

function pipelineFor(device: GPUDevice, r: ResolvedVariant): GPUComputePipeline {
  const { gather, multi, shared, ...variant } = r;
  return getPipeline(device, { kernel: gather ? 'matvec-gather' : 'matvec', variant: { ...variant, multi: multi.join(','), shared: shared ?? '' } }, () =>
    matvecCode(r),
  );
}

function checkGroups(device: GPUDevice, n: number, what: string): void {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (n > max) throw new SparseScopeError('device-limits', `${what}: ${n} workgroups in one dimension, the device allows ${max}`);
}

export interface MatvecArgs {
  /** Weight of ne {K, N} (any number of parts). */
  w: GpuTensor;
  /** f32 [m, K]. */
  x: GPUBuffer;
  /** f32 [m, N] (written). */
  y: BufferArg;
  /** Vectors; default 1. */
  m?: number;
  /** Fuse an FFN's up projection and SwiGLU: y = silu(w·x) * (w2·x); same shape, type and parts as w. */
  w2?: GpuTensor;
  /** y += w·x instead of y = w·x (the residual add in the epilogue). */
  accumulate?: boolean;
  /** RMSNorm on load: x holds un-normed rows h and the product uses h / rms(h) · weight. */
  norm?: MatvecNorm;
  /** With norm: also write the normed rows RMSNorm(h) · weight, f32 [m, K], for later dispatches (NORM_OUT). */
  normOut?: GPUBuffer;
}

/** An RMSNorm applied to x as the matvec reads it: weight f32 [K]. */
export interface MatvecNorm {
  weight: GPUBuffer;
  eps: number;
}

/** A normed x is a whole row: the norm's mean is over K values, K floats apart. */
function checkNorm(name: string, norm: MatvecNorm | undefined, k: number, xStride: number): void {
  if (norm && xStride !== k) throw new SparseScopeError('bad-argument', `${name}: RMSNorm on load needs dense x rows (stride ${xStride}, K ${k})`);
}

/**
 * The bind group with each buffer at its binding: 0 params, 1 W, 2 x, 3 y, then the optional ones (the
 * gather's ids, PAIR's W2 and NORM's G) at the numbers matvec-io.wgsl gives them.
 */
function bindMatvec(device: GPUDevice, pipeline: GPUComputePipeline, buffers: Record<number, BufferArg | undefined>, label: string): GPUBindGroup {
  const entries = Object.entries(buffers)
    .filter((e): e is [string, BufferArg] => e[1] !== undefined)
    .map(([binding, b]) => ({ binding: Number(binding), resource: bufferResource(b) }));
  return device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
}

/** w2 is read with w's row offsets, part for part: the two must be split alike. */
function checkPair(w: GpuTensor, w2: GpuTensor | undefined): void {
  if (!w2) return;
  const alike =
    w2.type === w.type &&
    w2.shape.join() === w.shape.join() &&
    w2.parts.length === w.parts.length &&
    w2.parts.every((p, i) => p.rowStart === w.parts[i].rowStart && p.rowCount === w.parts[i].rowCount);
  if (!alike) throw new SparseScopeError('wrong-shape', `${w.name} and ${w2.name}: a fused pair needs the same type, shape and parts`);
}

export function createMatvec(device: GPUDevice, a: MatvecArgs, v: MatvecVariant = {}): PreparedKernel {
  const [k] = a.w.shape;
  const n = a.w.rows;
  const m = a.m ?? 1;
  checkPair(a.w, a.w2);
  checkNorm(a.w.name, a.norm, k, k);
  if (a.normOut && !a.norm) throw new SparseScopeError('bad-argument', `${a.w.name}: writing the normed x needs a norm on load`);
  // the int8-activation variant (matvec-q8x.ts) where it applies; it does not write the normed x
  if (v.q8x && !a.normOut && q8xSupported(device, a.w.type, k, m))
    return createQ8xMatvec(device, a, v.wg ?? 8, v.rowsPerInvocation ?? 1, v.subgroups ?? device.features.has('subgroups'));
  const r = resolve(device, a.w.type, k, false, withoutQ8x(v), { pair: !!a.w2, accumulate: !!a.accumulate, norm: !!a.norm }, k, { normOut: !!a.normOut });
  const pipeline = pipelineFor(device, r);
  checkGroups(device, m, 'matvec vectors');
  const steps = a.w.parts.map((part, i) => {
    const grid: [number, number] = [Math.ceil(part.rowCount / r.rows), m];
    // NORM_OUT: the first part's invocations write the normed rows (matvec-rows.wgsl: one per row, the others
    // return early; the other kernels: every invocation of the grid row)
    const writers = r.perRow && !r.multiRow ? part.rowCount : grid[0] * r.wg;
    const params = uniformBuffer(
      device,
      MATVEC_PARAMS,
      {
        ...partParams(a.w, part, k, n),
        norm_eps: a.norm?.eps ?? 0,
        out_stride: a.normOut && i === 0 ? writers : 0,
      },
      `matvec:${a.w.name}#${i}:params`,
    );
    checkGroups(device, grid[0], `matvec ${a.w.name}`);
    const buffers = { 0: params, 1: part.buffer, 2: a.x, 3: a.y, 4: a.w2?.parts[i].buffer, 7: a.norm?.weight, 12: a.normOut };
    return { params, grid, bg: bindMatvec(device, pipeline, buffers, `matvec:${a.w.name}#${i}`) };
  });
  return preparedKernel(pipeline, steps);
}

/** Whether a variant runs the int8-activation kernel for this product (else its f32 fallback runs). */
export function matvecQuantizesX(device: GPUDevice, v: MatvecVariant, type: WeightType, k: number, m = 1): boolean {
  return !!v.q8x && q8xSupported(device, type, k, m);
}

/**
 * MatvecVariant.q8x: one dispatch quantizes the m x vectors (RMSNorm applied first with norm) into a
 * scratch buffer of its own, then one per part computes the rows from it (matvec-q8x.ts).
 */
function createQ8xMatvec(device: GPUDevice, a: MatvecArgs, wg: number, rpi: number, broadcastX: boolean): PreparedKernel {
  if (wg & (wg - 1)) throw new Error(`matvec workgroup size must be a power of two, got ${wg}`);
  const [k] = a.w.shape;
  const n = a.w.rows;
  const m = a.m ?? 1;
  const type = a.w.type;
  const stride4 = q8xStride4(k, type);
  const xq = device.createBuffer({ label: `matvec-q8x:${a.w.name}:xq`, size: m * stride4 * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM });
  const qParams = device.createBuffer({ label: `matvec-q8x:${a.w.name}:qparams`, size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const qp = new ArrayBuffer(16);
  new Uint32Array(qp, 0, 3).set([k, k, stride4]);
  new Float32Array(qp, 12, 1)[0] = a.norm?.eps ?? 0;
  device.queue.writeBuffer(qParams, 0, qp);
  const norm = !!a.norm;
  const quantize = getPipeline(device, { kernel: 'quantize-x', variant: { type, norm } }, () => quantizeXCode(type, norm));
  const qBuffers = { 0: qParams, 1: a.x, 2: xq, 3: a.norm?.weight };
  const qbg = bindMatvec(device, quantize, qBuffers, `quantize-x:${a.w.name}`);
  if (!Number.isInteger(rpi) || rpi < 1 || rpi > 4) throw new SparseScopeError('bad-argument', `q8x matvec rows per invocation must be 1..4, got ${rpi}`);
  const kernel = { type, k, m, wg, rpi, pair: !!a.w2, accumulate: !!a.accumulate, broadcastX };
  const pipeline = getPipeline(device, { kernel: 'matvec-q8x', variant: { ...kernel } }, () => q8xMatvecCode(kernel, wgslStruct('Params', MATVEC_PARAMS)));
  checkGroups(device, m, 'matvec vectors');
  const steps = a.w.parts.map((part, i) => {
    const params = uniformBuffer(device, MATVEC_PARAMS, partParams(a.w, part, k, n), `matvec-q8x:${a.w.name}#${i}:params`);
    const grid: [number, number] = [Math.ceil(part.rowCount / (wg * rpi)), m];
    checkGroups(device, grid[0], `matvec ${a.w.name}`);
    const buffers = { 0: params, 1: part.buffer, 2: xq, 3: a.y, 4: a.w2?.parts[i].buffer };
    return { params, grid, bg: bindMatvec(device, pipeline, buffers, `matvec-q8x:${a.w.name}#${i}`) };
  });
  return {
    encode(enc, timestampWrites) {
      recordInPass(
        enc,
        pipeline.label,
        (pass) => {
          pass.setPipeline(quantize);
          pass.setBindGroup(0, qbg);
          pass.dispatchWorkgroups(m);
          pass.setPipeline(pipeline);
          for (const s of steps) {
            pass.setBindGroup(0, s.bg);
            pass.dispatchWorkgroups(s.grid[0], s.grid[1]);
          }
        },
        timestampWrites,
      );
    },
    destroy() {
      steps.forEach((s) => s.params.destroy());
      qParams.destroy();
      xq.destroy();
    },
  };
}

/** At most this many matrices in one MULTI dispatch: W, W2, W3, W4 (with x, y and G, 7 storage bindings of the 8 a stage may have). */
export const MAX_MULTI = 4;

export interface MultiMatvecArgs {
  /** 2..MAX_MULTI weights of ne {K, N_j}, one K, each in one part; types may differ. */
  ws: GpuTensor[];
  /** f32 [m, K], read by all. */
  x: GPUBuffer;
  /** Matrix j writes y[yOffsets[j] + v·N_j + row] for vector v < m: its [m, N_j] block at that element. */
  y: GPUBuffer;
  yOffsets: number[];
  m?: number;
  norm?: MatvecNorm;
}

/** Whether these matrices can share one MULTI dispatch: 2..MAX_MULTI of them, one K, each in one part. */
export function multiMatvecFits(ws: GpuTensor[]): boolean {
  return ws.length >= 2 && ws.length <= MAX_MULTI && ws.every((t) => t.shape.length === 2 && t.shape[0] === ws[0].shape[0] && t.parts.length === 1);
}

/**
 * Several matrices that read the same x (e.g. the attention block's q_a, kv_a and the indexer's k and
 * weights projections) in one dispatch: workgroups [0, g_0) compute matrix 0, [g_0, g_1) matrix 1, ...
 * (matvec-io.wgsl's MULTI). One variant for all (the caller's pick, e.g. the largest matrix's).
 */
export function createMultiMatvec(device: GPUDevice, a: MultiMatvecArgs, v: MatvecVariant = {}): PreparedKernel {
  if (!multiMatvecFits(a.ws))
    throw new SparseScopeError(
      'wrong-shape',
      `${a.ws.map((t) => t.name).join(', ')}: one dispatch takes 2 to ${MAX_MULTI} matrices of one K, each in one part`,
    );
  if (a.yOffsets.length !== a.ws.length) throw new SparseScopeError('bad-argument', `multi matvec: ${a.ws.length} matrices but ${a.yOffsets.length} y offsets`);
  const [k] = a.ws[0].shape;
  const m = a.m ?? 1;
  checkNorm(a.ws[0].name, a.norm, k, k);
  const r = resolve(device, a.ws[0].type, k, false, withoutQ8x(v), {
    pair: false,
    accumulate: false,
    norm: !!a.norm,
    multi: a.ws.slice(1).map((t) => t.type),
  });
  const pipeline = pipelineFor(device, r);
  checkGroups(device, m, 'matvec vectors');
  const ends: number[] = [];
  a.ws.forEach((t, j) => ends.push((ends[j - 1] ?? 0) + Math.ceil(t.rows / r.rows)));
  const pad = (f: (t: GpuTensor, j: number) => number, fill = 0) => [0, 1, 2, 3].map((j) => (j < a.ws.length ? f(a.ws[j], j) : fill));
  const name = a.ws.map((t) => t.name).join('+');
  const params = uniformBuffer(
    device,
    MATVEC_PARAMS,
    { ...NEUTRAL, k, chunks: chunksPerRow(k), row_bytes: 0, rows: 0, n_out: 0, x_stride: k, norm_eps: a.norm?.eps ?? 0 },
    `matvec:${name}:params`,
  );
  // matvec-io.wgsl's `ms`: array<vec4<u32>, 5>, one vec4 per field, lane j for matrix j
  const table = Uint32Array.from(
    [pad((_, j) => ends[j], 0xffffffff), pad((t) => t.rows), pad((t) => t.rowBytes), pad((_, j) => a.yOffsets[j]), pad((t) => t.rows)].flat(),
  );
  const multi = device.createBuffer({ label: `matvec:${name}:multi`, size: table.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(multi, 0, table);
  const grid: [number, number] = [ends[ends.length - 1], m];
  checkGroups(device, grid[0], `matvec ${name}`);
  const buffers = {
    0: params,
    1: a.ws[0].parts[0].buffer,
    2: a.x,
    3: a.y,
    4: a.ws[1].parts[0].buffer,
    5: a.ws[2]?.parts[0].buffer,
    6: a.ws[3]?.parts[0].buffer,
    7: a.norm?.weight,
    8: multi,
  };
  const kernel = preparedKernel(pipeline, [{ params, grid, bg: bindMatvec(device, pipeline, buffers, `matvec:${name}`) }]);
  return { encode: kernel.encode, destroy: () => (kernel.destroy(), multi.destroy()) };
}

export function encodeMatvec(device: GPUDevice, enc: GPUCommandEncoder, a: MatvecArgs, v: MatvecVariant = {}): void {
  createMatvec(device, a, v).encode(enc);
}

export interface GatherMatvecArgs {
  /** Expert weights of ne {K, N, X}, split (if at all) at expert boundaries. */
  w: GpuTensor;
  /** u32 [slots]: expert of each slot (e.g. the router's [T, k] output, flattened); unused with `route`. */
  ids?: GPUBuffer;
  /** f32 [slots / xDiv, K]. */
  x: GPUBuffer;
  /** f32 [slots, N] (written; rows of slots whose id is >= X are left untouched). */
  y: GPUBuffer;
  slots: number;
  /** Slot j reads x row floor(j / xDiv): the router's k for gate/up (one x per token), 1 for down. */
  xDiv: number;
  /** Fuse the experts' up projection and SwiGLU: y = silu(w·x) * (w2·x); same shape, type and parts as w. */
  w2?: GpuTensor;
  /** Floats between x rows, default K: x rows may be the first K values of wider rows (MLA's q_nope in q). */
  xStride?: number;
  /** RMSNorm on load (x rows dense). */
  norm?: MatvecNorm;
  /**
   * The MoE down projection and weighted combine in one: slots are tokens × terms, slot j's x row is j
   * (xDiv 1), and y [tokens, N] gets y[t] += Σ_j weights[t·terms + j] · (W[ids[t·terms + j]] · x[t·terms + j])
   * (the residual h: no per-slot outputs, no separate combine). Not with w2.
   */
  combine?: { weights?: GPUBuffer; terms: number };
  /**
   * ROUTE: the router in the kernel (matvec-route.wgsl) instead of ids (and combine's weights): `logits` holds
   * the router matvec's [tokens, X] logits and, at f32 index `biasAt`, the [X] selection bias. Slots are
   * tokens × k (gate/up: xDiv k; combine: terms k).
   */
  route?: { logits: GPUBuffer; biasAt: number; experts: number; options: RouterOptions };
  /**
   * SHARED: the shared expert in the same dispatch (one part each). Gate/up (with w2, xDiv k): w, w2 of ne
   * {K, N_s} paired, token t's silu(w·x_t) * (w2·x_t) written to y[yAt + t·N_s ..]. COMBINE: w of ne {N_s, N}
   * and h[t] += w · x[xAt + t·N_s ..] after the routed terms.
   */
  shared?: { w: GpuTensor; w2?: GpuTensor; yAt?: number; xAt?: number };
}

/** The router's options as the kernel's params (ROUTE). */
function routeParams(o: RouterOptions) {
  return {
    gating: GATING_IDS[o.gating],
    n_group: Math.max(1, o.groupCount),
    n_group_used: Math.max(1, o.groupsUsed),
    normalize: o.normalize ? 1 : 0,
    scale: o.scale,
  };
}

/** The checks ROUTE and SHARED need of a gathered matvec; returns the routed slots per token. */
function checkMoeFusion(a: GatherMatvecArgs, k: number, n: number, x: number): number {
  const bad = (why: string) => new SparseScopeError('bad-argument', `${a.w.name}: ${why}`);
  const terms = a.combine?.terms ?? a.xDiv;
  if (!a.route && !a.ids) throw bad('a gathered matvec needs ids or a route');
  if (!a.route && a.combine && !a.combine.weights) throw bad('a combine needs weights or a route');
  if (a.route) {
    const o = a.route.options;
    if (a.route.experts !== x || o.topK !== terms)
      throw bad(`the route chooses ${o.topK} of ${a.route.experts}, the matvec has ${terms} slots of ${x} experts`);
    if (o.groupCount > 1 && x % o.groupCount !== 0) throw bad('expert count must divide into groups');
  }
  const sh = a.shared;
  if (sh) {
    if (sh.w.parts.length !== 1 || (sh.w2 && sh.w2.parts.length !== 1)) throw bad('the shared expert must be one part');
    if (a.combine) {
      if (sh.w2 || sh.w.shape[1] !== n) throw bad(`the shared down must be ne {N_s, ${n}}, unpaired`);
    } else {
      if (!a.w2 || !sh.w2 || sh.w.shape[0] !== k) throw bad(`the shared gate/up must be a pair of ne {${k}, N_s}`);
      checkPair(sh.w, sh.w2);
    }
  }
  return terms;
}

export function createGatherMatvec(device: GPUDevice, a: GatherMatvecArgs, v: MatvecVariant = {}): PreparedKernel {
  if (a.w.shape.length !== 3) throw new SparseScopeError('wrong-shape', `${a.w.name}: a gathered matvec needs ne {K, N, X}`);
  const [k, n, x] = a.w.shape;
  checkPair(a.w, a.w2);
  const xStride = a.xStride ?? k;
  if (!Number.isInteger(xStride) || xStride < k)
    throw new SparseScopeError('bad-argument', `${a.w.name}: x row stride ${xStride} is shorter than its ${k} values`);
  checkNorm(a.w.name, a.norm, k, xStride);
  const cb = a.combine;
  if (cb && (a.w2 || a.norm || a.xDiv !== 1 || !Number.isInteger(cb.terms) || cb.terms < 1 || a.slots % cb.terms !== 0)) {
    throw new SparseScopeError(
      'bad-argument',
      `${a.w.name}: a combine needs one x row per slot, no pair or norm, and slots a multiple of its terms (${a.slots} slots, ${cb.terms} terms)`,
    );
  }
  const terms = checkMoeFusion(a, k, n, x);
  const sh = a.shared;
  const fusion: MoeFusion = { route: a.route ? { x, k: terms } : undefined, shared: sh?.w.type };
  const r = resolve(device, a.w.type, k, true, withoutQ8x(v), { pair: !!a.w2, accumulate: false, norm: !!a.norm, combine: !!cb }, xStride, fusion);
  const pipeline = pipelineFor(device, r);
  // SHARED gate/up: each token's k routed slots and then its shared one
  const tokens = a.slots / terms;
  const vectors = cb ? tokens : sh ? tokens * (terms + 1) : a.slots;
  checkGroups(device, vectors, 'gathered matvec slots');
  // the shared gate/up's rows N_s may outnumber an expert's N: the grid covers both
  const sRows = sh ? (cb ? n : sh.w.rows) : 0;
  const gridX = Math.ceil(Math.max(n, sRows) / r.rows);
  checkGroups(device, gridX, `gathered matvec ${a.w.name}`);
  const routed = a.route || sh ? { terms } : {};
  const shParams = sh
    ? { s_rows: sRows, s_row_bytes: sh.w.rowBytes, s_k: sh.w.shape[0], s_chunks: chunksPerRow(sh.w.shape[0]), s_x: sh.xAt ?? 0, s_y: sh.yAt ?? 0 }
    : {};
  const rtParams = a.route ? { r_bias: a.route.biasAt, ...routeParams(a.route.options) } : {};
  const steps = a.w.parts.map((part, i) => {
    if (part.rowStart % n !== 0 || part.rowCount % n !== 0) throw new Error(`${a.w.name}: part ${i} splits an expert`);
    const params = uniformBuffer(
      device,
      MATVEC_PARAMS,
      {
        ...NEUTRAL,
        k,
        chunks: chunksPerRow(k),
        row_bytes: a.w.rowBytes,
        rows: n,
        n_out: n,
        part_row0: part.rowStart,
        part_row_end: part.rowStart + part.rowCount,
        n_experts: x,
        x_div: a.xDiv,
        x_stride: xStride,
        norm_eps: a.norm?.eps ?? 0,
        terms: cb?.terms ?? 1,
        ...routed,
        ...shParams,
        ...rtParams,
      },
      `matvec-gather:${a.w.name}#${i}:params`,
    );
    const grid: [number, number] = [gridX, vectors];
    const buffers = {
      0: params,
      1: part.buffer,
      2: a.x,
      3: a.y,
      4: a.route ? undefined : a.ids,
      5: a.w2?.parts[i].buffer,
      6: a.route ? undefined : cb?.weights,
      7: a.norm?.weight,
      9: sh?.w.parts[0].buffer,
      10: sh?.w2?.parts[0].buffer,
      11: a.route?.logits,
    };
    return { params, grid, bg: bindMatvec(device, pipeline, buffers, `matvec-gather:${a.w.name}#${i}`) };
  });
  return preparedKernel(pipeline, steps);
}

export function encodeGatherMatvec(device: GPUDevice, enc: GPUCommandEncoder, a: GatherMatvecArgs, v: MatvecVariant = {}): void {
  createGatherMatvec(device, a, v).encode(enc);
}
