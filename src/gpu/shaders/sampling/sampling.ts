/**
 * Token sampling on the GPU, so a decode step reads back one u32 (the token id) instead of a logits row.
 * Built once per vocabulary size (createGpuSampler), encoded once per token; the math and its f32 order
 * are those of sampling.ref.ts (the test demands the identical token). Passes, for logits f32 [V]:
 *   copy          logits row → work f32 [V]                         (the caller's logits stay untouched)
 *   penalty.wgsl  repetition penalty on work, recent u32 [≤ 256]    (skipped when off)
 *   greedy (temperature 0):
 *     argmax.wgsl  ceil(V / 4096) partial bests, then one workgroup → out u32 [2] (token, non-finite flag)
 *   sampled:
 *     select.wgsl  rounds of "sort 1024 pairs, keep the best 256" until one workgroup is left
 *                  → cand vec2<u32> [256] (key, id), best first (exact top-256 in sampling order)
 *     zsum.wgsl    only with top-p on and top-k off: ceil(V / 4096) partial Σ exp(v - v0)
 *     finalize.wgsl top-k / top-p / min-p / temperature / draw in one thread → out u32 [2]
 *   copy          out → a persistent staging buffer (8 bytes), read by readToken()
 * Every buffer and bind group is made here; encode() only writes the per-token uniform and recent tokens.
 */
import { packParams, uniformBuffer, type ParamLayout } from '../../params.ts';
import { getPipeline, bindBuffers } from '../../pipelines.ts';
import { createStorage } from '../../buffers.ts';
import { leavePass } from '../../pass-scope.ts';
import { assemble, badArg, checkGroups, encodeSteps, type Step } from '../add/kernel-util.ts';
import { CANDIDATES, MAX_PENALTY_LAST_N, nonFiniteLogits, REDUCE_SPAN, REDUCE_WG, SELECT_CHUNK, type SamplerSettings } from './sampling.ref.ts';
import commonSource from './common.wgsl?raw';
import penaltySource from './penalty.wgsl?raw';
import argmaxSource from './argmax.wgsl?raw';
import selectSource from './select.wgsl?raw';
import zsumSource from './zsum.wgsl?raw';
import finalizeSource from './finalize.wgsl?raw';

export { samplerSettings, type SamplerSettings } from './sampling.ref.ts';

/** Per-token settings: one uniform shared by penalty.wgsl and finalize.wgsl. */
export const SAMPLE_PARAMS = [
  ['vocab', 'u32'],
  ['n_recent', 'u32'],
  ['penalty', 'f32'],
  ['temperature', 'f32'],
  ['top_k', 'u32'],
  ['top_p', 'f32'],
  ['min_p', 'f32'],
  ['seed', 'u32'],
  ['step', 'u32'],
  ['n_cand', 'u32'],
  ['n_part', 'u32'],
] as const satisfies ParamLayout;

/** Count of the input a pass reads (argmax: values or partials; zsum: values). */
export const COUNT_PARAMS = [['n', 'u32']] as const satisfies ParamLayout;
export const SELECT_PARAMS = [['n_in', 'u32']] as const satisfies ParamLayout;

const PENALTY_WG = 64;
const SELECT_WG = 256;

function code(source: string, layout: ParamLayout, consts: Record<string, boolean | number>): string {
  return assemble(source, layout, consts) + '\n' + commonSource;
}

export interface SampleArgs {
  /** f32 [rows, V]; the row at `byteOffset` is sampled. */
  logits: GPUBuffer;
  byteOffset?: number;
  /** The tokens so far (prompt and generated); the penalty looks at the last penaltyLastN. */
  history: readonly number[];
  /** Index of this draw (the generated token's number): the draw depends only on (seed, step). */
  step: number;
  settings: SamplerSettings;
}

export interface GpuSampler {
  readonly vocab: number;
  /** Records the sampling passes and the 8-byte copy (token, non-finite flag) to the staging buffer. Once per submit. */
  encode(enc: GPUCommandEncoder, a: SampleArgs): void;
  /** After the submit: the chosen token id. */
  readToken(): Promise<number>;
  destroy(): void;
}

export function createGpuSampler(device: GPUDevice, vocab: number): GpuSampler {
  if (!Number.isInteger(vocab) || vocab < 1) throw badArg(`sampler vocab must be a positive integer, got ${vocab}`);
  const V = vocab;
  const owned: GPUBuffer[] = [];
  const own = (b: GPUBuffer) => (owned.push(b), b);
  const storage = (bytes: number, label: string) => own(createStorage(device, bytes, label));

  const work = storage(V * 4, 'sample:work'); //                         f32 [V]
  const recent = storage(MAX_PENALTY_LAST_N * 4, 'sample:recent'); //    u32 [≤ 256]
  const out = storage(8, 'sample:out'); //                                u32 [2]: token, non-finite flag
  const staging = own(device.createBuffer({ label: 'sample:staging', size: 8, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ }));
  const params = own(
    uniformBuffer(
      device,
      SAMPLE_PARAMS,
      { vocab: V, n_recent: 0, penalty: 1, temperature: 1, top_k: 0, top_p: 1, min_p: 0, seed: 0, step: 0, n_cand: 1, n_part: 1 },
      'sample:params',
    ),
  );
  const nCand = Math.min(CANDIDATES, V);
  const groups = Math.ceil(V / REDUCE_SPAN);
  checkGroups(device, groups, 'sampler reduction');
  const parts = storage(groups * 8, 'sample:partials'); //                vec2<u32> [groups] (argmax) / f32 [groups] (zsum)
  const dummyPairs = storage(8, 'sample:no-pairs');

  // penalty
  const penalty = getPipeline(device, { kernel: 'sample-penalty', variant: { wg: PENALTY_WG } }, () => code(penaltySource, SAMPLE_PARAMS, { WG: PENALTY_WG }));
  const penaltyStep: Step = { pipeline: penalty, bindGroup: bindBuffers(device, penalty, [params, recent, work], 'sample-penalty'), grid: [1] };

  // greedy: argmax in two passes
  const argmax = (final: boolean) =>
    getPipeline(device, { kernel: 'sample-argmax', variant: { final, wg: REDUCE_WG } }, () =>
      code(argmaxSource, COUNT_PARAMS, { WG: REDUCE_WG, SPAN: REDUCE_SPAN, FINAL: final }),
    );
  const a1 = argmax(false);
  const a2 = argmax(true);
  const pA1 = own(uniformBuffer(device, COUNT_PARAMS, { n: V }, 'sample-argmax:params'));
  const pA2 = own(uniformBuffer(device, COUNT_PARAMS, { n: groups }, 'sample-argmax-final:params'));
  const greedySteps: Step[] = [
    { pipeline: a1, bindGroup: bindBuffers(device, a1, [pA1, work, dummyPairs, parts, out], 'sample-argmax'), grid: [groups] },
    { pipeline: a2, bindGroup: bindBuffers(device, a2, [pA2, work, parts, dummyPairs, out], 'sample-argmax-final'), grid: [1] },
  ];

  // sampled: selection rounds over ping-pong pair buffers, then the normaliser and the draw
  const select = (first: boolean) =>
    getPipeline(device, { kernel: 'sample-select', variant: { first, wg: SELECT_WG, chunk: SELECT_CHUNK, keep: CANDIDATES } }, () =>
      code(selectSource, SELECT_PARAMS, { WG: SELECT_WG, CHUNK: SELECT_CHUNK, KEEP: CANDIDATES, FIRST: first }),
    );
  const firstGroups = Math.ceil(V / SELECT_CHUNK);
  checkGroups(device, firstGroups, 'sampler selection');
  const pairs = [storage(firstGroups * CANDIDATES * 8, 'sample:pairs0'), storage(Math.max(1, Math.ceil(firstGroups / 4)) * CANDIDATES * 8, 'sample:pairs1')];
  const selectSteps: Step[] = [];
  let nIn = V;
  let round = 0;
  for (;;) {
    const g = Math.ceil(nIn / SELECT_CHUNK);
    const pipeline = select(round === 0);
    const src = round === 0 ? pairs[1] : pairs[(round + 1) % 2];
    const dst = pairs[round % 2];
    const p = own(uniformBuffer(device, SELECT_PARAMS, { n_in: nIn }, `sample-select:params${round}`));
    selectSteps.push({ pipeline, bindGroup: bindBuffers(device, pipeline, [p, work, src, dst], `sample-select${round}`), grid: [g] });
    nIn = g * CANDIDATES;
    round++;
    if (g === 1) break;
  }
  const cand = pairs[(round - 1) % 2];
  // Round r's output must fit its buffer: round 0 → pairs0 (firstGroups·256), round 1 → pairs1 (firstGroups/4·256), …
  const zsum = getPipeline(device, { kernel: 'sample-zsum', variant: { wg: REDUCE_WG } }, () =>
    code(zsumSource, COUNT_PARAMS, { WG: REDUCE_WG, SPAN: REDUCE_SPAN }),
  );
  const zsumStep: Step = { pipeline: zsum, bindGroup: bindBuffers(device, zsum, [pA1, work, cand, parts], 'sample-zsum'), grid: [groups] };
  const finalize = getPipeline(device, { kernel: 'sample-finalize', variant: {} }, () => code(finalizeSource, SAMPLE_PARAMS, {}));
  const finalizeStep: Step = { pipeline: finalize, bindGroup: bindBuffers(device, finalize, [params, work, cand, parts, out], 'sample-finalize'), grid: [1] };
  const recentHost = new Uint32Array(MAX_PENALTY_LAST_N);

  return {
    vocab: V,
    encode(enc, a) {
      const s = a.settings;
      const offset = a.byteOffset ?? 0;
      if (offset % 4 !== 0 || offset + V * 4 > a.logits.size)
        throw badArg(`sampler: logits row at byte ${offset} runs past the buffer (${a.logits.size} bytes)`);
      const window = s.penaltyLastN > 0 && s.repetitionPenalty !== 1 ? a.history.slice(Math.max(0, a.history.length - s.penaltyLastN)) : [];
      recentHost.set(window);
      if (window.length) device.queue.writeBuffer(recent, 0, recentHost, 0, window.length);
      const sampled = s.temperature > 0;
      const fullZ = sampled && s.topP < 1 && (s.topK === 0 || s.topK > nCand);
      device.queue.writeBuffer(
        params,
        0,
        packParams(SAMPLE_PARAMS, {
          vocab: V,
          n_recent: window.length,
          penalty: s.repetitionPenalty,
          temperature: sampled ? s.temperature : 1,
          top_k: s.topK,
          top_p: s.topP,
          min_p: s.minP,
          seed: s.seed >>> 0,
          step: a.step >>> 0,
          n_cand: nCand,
          n_part: groups,
        }),
      );
      leavePass(enc); // copies are encoder commands: the forward's shared pass ends here
      enc.copyBufferToBuffer(a.logits, offset, work, 0, V * 4);
      const steps: Step[] = window.length ? [penaltyStep] : [];
      if (!sampled) steps.push(...greedySteps);
      else steps.push(...selectSteps, ...(fullZ ? [zsumStep] : []), finalizeStep);
      encodeSteps(enc, steps, sampled ? 'sample' : 'sample-greedy');
      leavePass(enc);
      enc.copyBufferToBuffer(out, 0, staging, 0, 8);
    },
    async readToken() {
      await staging.mapAsync(GPUMapMode.READ);
      const [id, nonFinite] = new Uint32Array(staging.getMappedRange(0, 8));
      staging.unmap();
      if (nonFinite) throw nonFiniteLogits(id);
      return id;
    },
    destroy() {
      owned.forEach((b) => b.destroy());
    },
  };
}
