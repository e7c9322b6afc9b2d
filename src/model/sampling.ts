/**
 * Token sampling from logits: repetition penalty, then temperature, top-k, top-p and min-p, then a
 * draw with a seeded PRNG. Temperature 0 is greedy (argmax, ties to the lower id). The order of the
 * filters follows llama.cpp's common sampler chain (penalties → top-k → top-p → min-p → temperature → dist).
 */
import { SparseScopeError } from '../errors.ts';
import { createPrng, type Prng } from './random.ts';

export interface SamplingOptions {
  /** 0 = greedy (default 0.8) */
  temperature?: number;
  /** keep the k most likely tokens; 0 = off (default 40) */
  topK?: number;
  /** keep the smallest set whose probability reaches p; 1 = off (default 0.95) */
  topP?: number;
  /** drop tokens below minP × the best token's probability; 0 = off (default 0.05) */
  minP?: number;
  /** divide positive logits / multiply negative ones of recently seen tokens; 1 = off (default 1) */
  repetitionPenalty?: number;
  /** how many recent tokens the penalty looks at (default 64) */
  penaltyLastN?: number;
  seed?: number;
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** The repetition penalty (CTRL-style, as llama.cpp's penalties sampler). Returns a copy. */
export function applyRepetitionPenalty(logits: ArrayLike<number>, recent: readonly number[], penalty: number): Float64Array {
  const out = Float64Array.from(logits as ArrayLike<number>);
  if (penalty === 1) return out;
  for (const t of new Set(recent)) {
    if (t < 0 || t >= out.length) continue;
    out[t] = out[t] > 0 ? out[t] / penalty : out[t] * penalty;
  }
  return out;
}

/** The candidate tokens after top-k / top-p / min-p, with their probabilities at `temperature`. */
export function filterCandidates(
  logits: ArrayLike<number>,
  o: Required<Pick<SamplingOptions, 'temperature' | 'topK' | 'topP' | 'minP'>>,
): { ids: number[]; probs: number[] } {
  let ids = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  if (o.topK > 0) ids = ids.slice(0, o.topK);
  const softmax = (list: number[], t: number) => {
    const m = logits[list[0]];
    const e = list.map((i) => Math.exp((logits[i] - m) / t));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  // top-p and min-p look at the distribution before temperature (as llama.cpp's chain)
  if (o.topP < 1) {
    const p = softmax(ids, 1);
    let acc = 0;
    let keep = ids.length;
    for (let i = 0; i < p.length; i++) {
      acc += p[i];
      if (acc >= o.topP) {
        keep = i + 1;
        break;
      }
    }
    ids = ids.slice(0, keep);
  }
  if (o.minP > 0) {
    const p = softmax(ids, 1);
    ids = ids.filter((_, i) => p[i] >= o.minP * p[0]);
  }
  return { ids, probs: softmax(ids, o.temperature) };
}

export interface Sampler {
  /** choose the next token from `logits`, given the tokens so far (for the penalty) */
  sample(logits: ArrayLike<number>, history?: readonly number[]): number;
}

/** The settings with their defaults filled in, each checked; both samplers (this one and the GPU's) take them. */
export function samplingDefaults(options: SamplingOptions = {}) {
  const o = {
    temperature: options.temperature ?? 0.8,
    topK: options.topK ?? 40,
    topP: options.topP ?? 0.95,
    minP: options.minP ?? 0.05,
    repetitionPenalty: options.repetitionPenalty ?? 1,
    penaltyLastN: options.penaltyLastN ?? 64,
  };
  if (!(o.temperature >= 0)) throw new SparseScopeError('bad-argument', `temperature must be ≥ 0, got ${o.temperature}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new SparseScopeError('bad-argument', `top-p must be in (0, 1], got ${o.topP}`);
  if (!(o.minP >= 0 && o.minP < 1)) throw new SparseScopeError('bad-argument', `min-p must be in [0, 1), got ${o.minP}`);
  if (!(o.repetitionPenalty > 0)) throw new SparseScopeError('bad-argument', `repetition penalty must be > 0, got ${o.repetitionPenalty}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new SparseScopeError('bad-argument', `top-k must be an integer ≥ 0, got ${o.topK}`);
  return o;
}

export function createSampler(options: SamplingOptions = {}): Sampler {
  const o = samplingDefaults(options);
  const rng: Prng = createPrng(options.seed ?? 0);
  return {
    sample(logits, history = []) {
      const recent = o.penaltyLastN > 0 ? history.slice(-o.penaltyLastN) : [];
      const l = applyRepetitionPenalty(logits, recent, o.repetitionPenalty);
      if (o.temperature === 0) return argmax(l);
      const { ids, probs } = filterCandidates(l, o);
      let r = rng.next();
      for (let i = 0; i < ids.length; i++) {
        r -= probs[i];
        if (r < 0) return ids[i];
      }
      return ids[ids.length - 1];
    },
  };
}
