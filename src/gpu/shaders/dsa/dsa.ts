/**
 * DSA lightning indexer on the GPU (docs/model-math.md):
 *   createIndexerScore: scores[q, s] = wScale · Σ_h w[q, h] · ReLU(qI[q, h] · kI[s]), causal (NOT_VISIBLE = -FLT_MAX beyond)
 *     qI f32 [nq, H_I, D_I] (after RoPE), w f32 [nq, H_I], kI f32 [capacity, D_I], scores f32 [nq, scoreStride]
 *   createTopk: per query the exact top-k visible positions (among equal scores, the ones llama.cpp keeps:
 *     its std::partial_sort order, src/model/reference/indexer-topk.ts), ascending,
 *     idx u32 [nq, k], padded with NO_POSITION (0xFFFFFFFF) when fewer than k are visible. Feeds mla's `sparse`.
 * Query q has position qPos0 + q and sees s < nKv, s <= qPos0 + q (decode: nq 1, qPos0 nKv - 1).
 */
import { uniformBuffer, packParams, type ParamLayout } from '../../params.ts';
import { getPipeline, bindBuffers, type BufferArg } from '../../pipelines.ts';
import { assemble, badArg, checkGroups, encodeSteps } from '../add/kernel-util.ts';
import scoreSource from './indexer-score.wgsl?raw';
import topkSource from './topk.wgsl?raw';

export { NO_POSITION, NOT_VISIBLE } from './dsa.ref.ts';

export const INDEXER_PARAMS = [
  ['n_heads', 'u32'],
  ['d', 'u32'],
  ['n_kv', 'u32'],
  ['q_pos0', 'u32'],
  ['score_stride', 'u32'],
  ['w_scale', 'f32'],
] as const satisfies ParamLayout;

export const TOPK_PARAMS = [
  ['n_kv', 'u32'],
  ['q_pos0', 'u32'],
  ['score_stride', 'u32'],
  ['k', 'u32'],
] as const satisfies ParamLayout;

const SCORE_WG = 64;
const TOPK_WG = 256;

export interface IndexerStep {
  nKv: number;
  qPos0: number;
}

export interface PreparedStepKernel {
  /** Records the dispatch; writes the step's uniforms now (queue order): encode once per submit. */
  encode(enc: GPUCommandEncoder, step: IndexerStep): void;
  destroy(): void;
}

function vtypes(vec: boolean): string {
  return vec ? 'alias VT = vec4<f32>;\nfn vdot(a: VT, b: VT) -> f32 { return dot(a, b); }' : 'alias VT = f32;\nfn vdot(a: VT, b: VT) -> f32 { return a * b; }';
}

export function indexerScoreCode(vec: boolean): string {
  return assemble(scoreSource, INDEXER_PARAMS, { WG: SCORE_WG }) + '\n' + vtypes(vec);
}

export function topkCode(): string {
  return assemble(topkSource, TOPK_PARAMS, { WG: TOPK_WG });
}

export interface IndexerScoreArgs {
  heads: number;
  dim: number;
  nq: number;
  qI: BufferArg;
  w: BufferArg;
  kI: GPUBuffer;
  scores: GPUBuffer;
  /** Row stride of scores (≥ every nKv used; usually the capacity). */
  scoreStride: number;
  /** Multiplies w (e.g. 1/sqrt(D_I·H_I) when w is the raw indexer.proj output); default 1. */
  wScale?: number;
}

export function createIndexerScore(device: GPUDevice, a: IndexerScoreArgs): PreparedStepKernel {
  const vec = a.dim % 4 === 0;
  const pipeline = getPipeline(device, { kernel: 'indexer-score', variant: { vec, wg: SCORE_WG } }, () => indexerScoreCode(vec));
  checkGroups(device, a.nq, 'indexer queries');
  const fixed = { n_heads: a.heads, d: vec ? a.dim / 4 : a.dim, score_stride: a.scoreStride, w_scale: a.wScale ?? 1 };
  const params = uniformBuffer(device, INDEXER_PARAMS, { ...fixed, n_kv: 0, q_pos0: 0 }, 'indexer-score:params');
  const bg = bindBuffers(device, pipeline, [params, a.qI, a.w, a.kI, a.scores], 'indexer-score');
  return {
    encode(enc, step) {
      if (step.nKv > a.scoreStride) throw badArg(`indexer: ${step.nKv} rows exceed the score stride ${a.scoreStride}`);
      device.queue.writeBuffer(params, 0, packParams(INDEXER_PARAMS, { ...fixed, n_kv: step.nKv, q_pos0: step.qPos0 }));
      const groups = Math.ceil(step.nKv / SCORE_WG);
      checkGroups(device, groups, 'indexer positions');
      encodeSteps(enc, [{ pipeline, bindGroup: bg, grid: [Math.max(1, groups), a.nq] }], 'indexer-score');
    },
    destroy() {
      params.destroy();
    },
  };
}

export interface TopkArgs {
  nq: number;
  k: number;
  scores: GPUBuffer;
  scoreStride: number;
  /** u32 [nq, k] out. */
  idx: GPUBuffer;
}

export function createTopk(device: GPUDevice, a: TopkArgs): PreparedStepKernel {
  if (a.k < 1) throw badArg(`top-k needs k >= 1, got ${a.k}`);
  const pipeline = getPipeline(device, { kernel: 'topk', variant: { wg: TOPK_WG } }, topkCode);
  checkGroups(device, a.nq, 'top-k queries');
  const fixed = { score_stride: a.scoreStride, k: a.k };
  const params = uniformBuffer(device, TOPK_PARAMS, { ...fixed, n_kv: 0, q_pos0: 0 }, 'topk:params');
  const bg = bindBuffers(device, pipeline, [params, a.scores, a.idx], 'topk');
  return {
    encode(enc, step) {
      device.queue.writeBuffer(params, 0, packParams(TOPK_PARAMS, { ...fixed, n_kv: step.nKv, q_pos0: step.qPos0 }));
      encodeSteps(enc, [{ pipeline, bindGroup: bg, grid: [a.nq] }], 'topk');
    },
    destroy() {
      params.destroy();
    },
  };
}
