/**
 * CPU reference for the GPU sampler (sampling.ts), operation for operation in f32 (Math.fround), with
 * the same counter-based PRNG, so a test can demand the identical token id. The filter chain is
 * createSampler's (src/model/sampling.ts, llama.cpp's order):
 *   repetition penalty over the recent tokens → top-k → top-p (at T = 1) → min-p (at T = 1) → temperature → draw.
 * Temperature 0 is greedy: argmax after the penalty, ties to the lowest id.
 *
 * Two deliberate differences from createSampler, both forced by the GPU and documented in the README:
 *  - the draw is u = uniform(seed, step) (a PCG hash of the seed and the step number), not a sequential
 *    stream, so a token depends only on (seed, step) and never on how many draws came before;
 *  - the candidates are at most the CANDIDATES (256) most likely tokens: top-k 0 or > 256 acts as 256
 *    for the kept set, while top-p still measures probability against the whole vocabulary.
 * Arithmetic order (the GPU kernels do the same): values are f32; the top-p normaliser is either the
 * sequential sum over the top-k candidates, or (top-k off) the sum of per-workgroup partials, each a
 * 256-thread strided sum then a shared-memory tree; every later loop is sequential in one thread.
 * Only exp() may differ in the last bits between WGSL and Math.exp.
 */
import { SparseScopeError } from '../../../errors.ts';
import { samplingDefaults } from '../../../model/sampling.ts';

/** Tokens one selection workgroup sorts (bitonic, in workgroup memory). */
export const SELECT_CHUNK = 1024;
/** Tokens a selection workgroup keeps from its chunk; also the most candidates the sampler considers. */
export const CANDIDATES = 256;
/** Vocabulary entries per workgroup in the argmax and normaliser passes (256 threads × 16). */
export const REDUCE_SPAN = 4096;
export const REDUCE_WG = 256;
/** Most recent tokens the repetition penalty can look at (the recent-token buffer's size). */
export const MAX_PENALTY_LAST_N = 256;

export interface SamplerSettings {
  /** 0 = greedy. */
  temperature: number;
  /** 0 = off (then the CANDIDATES most likely tokens). */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** 0 = off. */
  minP: number;
  /** 1 = off. */
  repetitionPenalty: number;
  /** Recent tokens the penalty looks at (default 64, as createSampler). */
  penaltyLastN: number;
  /** u32 seed. */
  seed: number;
}

/** createSampler's defaults and argument checks, so both samplers accept exactly the same settings. */
export function samplerSettings(o: Partial<SamplerSettings> = {}): SamplerSettings {
  const s: SamplerSettings = { ...samplingDefaults(o), seed: Math.floor(o.seed ?? 0) >>> 0 };
  if (!Number.isInteger(s.penaltyLastN) || s.penaltyLastN < 0 || s.penaltyLastN > MAX_PENALTY_LAST_N) {
    throw new SparseScopeError('bad-argument', `penalty window must be an integer in [0, ${MAX_PENALTY_LAST_N}], got ${s.penaltyLastN}`);
  }
  return s;
}

/** PCG hash (Jarzynski & Olano 2020): u32 → u32, exact in JS (Math.imul) and WGSL (wrapping u32). */
export function pcgHash(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** The draw for (seed, step): 24 random bits / 2^24, in [0, 1), exactly representable in f32. */
export function sampleUniform(seed: number, step: number): number {
  const h = pcgHash(pcgHash((seed ^ 0x9e3779b9) >>> 0) ^ (step >>> 0));
  return (pcgHash(h) >>> 8) / 16777216;
}

/** Order-preserving u32 key of an f32 (bigger float, bigger key): the GPU sorts and compares keys. */
export function f32Key(v: number): number {
  const b = new Uint32Array(new Float32Array([v]).buffer)[0];
  return b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

const f = Math.fround;

/** logits (f32 [V]) after the repetition penalty over the distinct recent tokens, in f32. */
export function penalizeRef(logits: Float32Array, recent: readonly number[], penalty: number): Float32Array {
  const out = Float32Array.from(logits);
  if (penalty === 1) return out;
  const p = f(penalty);
  for (const t of new Set(recent)) {
    if (t < 0 || t >= out.length) continue;
    out[t] = out[t] > 0 ? f(out[t] / p) : f(out[t] * p);
  }
  return out;
}

/** Token ids in sampling order (bigger key first, then lower id), the first `n`. */
export function topCandidates(v: Float32Array, n: number): number[] {
  const keys = Uint32Array.from(v, f32Key);
  return Array.from({ length: v.length }, (_, i) => i)
    .sort((a, b) => keys[b] - keys[a] || a - b)
    .slice(0, n);
}

/** Σ exp(v - v0) over the vocabulary in the GPU's order: per REDUCE_SPAN slice, 256 strided sums, then a tree. */
export function partialSumsRef(v: Float32Array, v0: number): Float32Array {
  const groups = Math.ceil(v.length / REDUCE_SPAN);
  const out = new Float32Array(groups);
  const part = new Float32Array(REDUCE_WG);
  for (let g = 0; g < groups; g++) {
    for (let t = 0; t < REDUCE_WG; t++) {
      let s = 0;
      for (let i = g * REDUCE_SPAN + t; i < Math.min(v.length, (g + 1) * REDUCE_SPAN); i += REDUCE_WG) s = f(s + f(Math.exp(f(v[i] - v0))));
      part[t] = s;
    }
    for (let stride = REDUCE_WG / 2; stride > 0; stride >>= 1) for (let t = 0; t < stride; t++) part[t] = f(part[t] + part[t + stride]);
    out[g] = part[0];
  }
  return out;
}

/**
 * The best candidate, if its logit is finite; else a 'non-finite' error. A +NaN or +Inf sorts first
 * (f32Key), so a poisoned vocabulary shows here: the GPU sampler flags the same case (out[1]).
 */
function finiteWinner(v: Float32Array, best: number): number {
  if (!Number.isFinite(v[best])) throw nonFiniteLogits(best, v[best]);
  return best;
}

export function nonFiniteLogits(token: number, value?: number): SparseScopeError {
  return new SparseScopeError(
    'non-finite',
    `the logits are NaN or ±Inf (the best token, ${token}, has ${value === undefined ? 'a non-finite logit' : String(value)}): the model's numbers overflowed or its weights are corrupt; generation stopped`,
  );
}

/** One token from logits f32 [V], the sampler's `step`-th draw. `recent`: the tokens the penalty looks at. */
export function sampleRef(logits: Float32Array, recent: readonly number[], s: SamplerSettings, step: number): number {
  const v = penalizeRef(logits, recent.slice(Math.max(0, recent.length - s.penaltyLastN)), s.penaltyLastN > 0 ? s.repetitionPenalty : 1);
  const V = v.length;
  if (s.temperature === 0) return finiteWinner(v, topCandidates(v, 1)[0]);
  const n = Math.min(CANDIDATES, V);
  const cand = topCandidates(v, n);
  const v0 = v[finiteWinner(v, cand[0])];
  const e = (i: number) => f(Math.exp(f(v[cand[i]] - v0))); // exp(v_i - v0): probability × Z at T = 1
  const k = s.topK > 0 ? Math.min(s.topK, n) : n;
  let keep = k;
  if (s.topP < 1) {
    let z = 0;
    if (s.topK > 0 && s.topK <= n) for (let i = 0; i < k; i++) z = f(z + e(i));
    else for (const p of partialSumsRef(v, v0)) z = f(z + p);
    let acc = 0;
    for (let i = 0; i < k; i++) {
      acc = f(acc + f(e(i) / z));
      if (acc >= f(s.topP)) {
        keep = i + 1;
        break;
      }
    }
  }
  if (s.minP > 0) {
    let z = 0;
    for (let i = 0; i < keep; i++) z = f(z + e(i));
    const floor = f(f(s.minP) * f(1 / z));
    let m = 0;
    while (m < keep && f(e(m) / z) >= floor) m++;
    keep = m;
  }
  const invT = f(1 / f(s.temperature));
  const et = (i: number) => f(Math.exp(f(f(v[cand[i]] - v0) * invT)));
  let z = 0;
  for (let i = 0; i < keep; i++) z = f(z + et(i));
  let r = sampleUniform(s.seed, step);
  for (let i = 0; i < keep; i++) {
    r = f(r - f(et(i) / z));
    if (r < 0) return cand[i];
  }
  return cand[keep - 1];
}

/** The reference sampler with createSampler's interface: the n-th call is draw n. */
export function createReferenceSampler(options: Partial<SamplerSettings> = {}): { sample(logits: Float32Array, history?: readonly number[]): number } {
  const s = samplerSettings(options);
  let step = 0;
  return { sample: (logits, history = []) => sampleRef(logits, history, s, step++) };
}
