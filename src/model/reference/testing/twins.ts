/**
 * Test helpers for the real-shape twins (src/tools/fixture/twins.ts) against llama.cpp: the prompt,
 * and the agreement measure the twins are held to. On quantized files llama.cpp quantizes its
 * activations, so exact agreement is not expected there; instead: the mean |Δ log-softmax| over all
 * positions and the vocab, and the same argmax wherever llama.cpp's own top-2 gap is wide enough
 * that rounding cannot flip it.
 */
import { logSoftmax } from './llama-ref.ts';

/** Where llama.cpp's top-2 gap (nats) exceeds this, the argmax must be the same. */
export const DECISIVE_GAP = 0.25;

/** BOS, then a fixed pseudo-random walk over the vocab (real ids spread over the whole table). */
export function twinPrompt(bos: number, vocab: number, n: number): number[] {
  const out = [bos];
  for (let i = 1; i < n; i++) out.push((i * 7919 + 13) % (vocab - 1));
  return out;
}

export interface TwinAgreement {
  positions: number;
  maxAbs: number;
  meanAbs: number;
  /** positions where llama.cpp's top-2 gap > DECISIVE_GAP */
  decisive: number;
  /** of those, positions whose argmax differs */
  argmaxMismatch: number;
}

function top2(lp: ArrayLike<number>): { best: number; gap: number } {
  let a = -Infinity;
  let b = -Infinity;
  let best = 0;
  for (let v = 0; v < lp.length; v++) {
    const x = lp[v];
    if (x > a) { b = a; a = x; best = v; } else if (x > b) b = x;
  }
  return { best, gap: a - b };
}

function argmax(l: Float32Array): number {
  let best = 0;
  for (let v = 1; v < l.length; v++) if (l[v] > l[best]) best = v;
  return best;
}

/** Our logits per position against llama.cpp's log-probabilities per position. */
export function twinAgreement(ours: Float32Array[], theirs: Float64Array[]): TwinAgreement {
  let maxAbs = 0;
  let sum = 0;
  let n = 0;
  let decisive = 0;
  let argmaxMismatch = 0;
  ours.forEach((logits, i) => {
    const a = logSoftmax(logits);
    const b = theirs[i];
    for (let v = 0; v < a.length; v++) {
      if (!Number.isFinite(b[v])) continue; // underflow in llama.cpp's f32 softmax
      const d = Math.abs(a[v] - b[v]);
      if (d > maxAbs) maxAbs = d;
      sum += d;
      n++;
    }
    const t = top2(b);
    if (t.gap > DECISIVE_GAP) {
      decisive++;
      if (argmax(logits) !== t.best) argmaxMismatch++;
    }
  });
  return { positions: ours.length, maxAbs, meanAbs: sum / Math.max(n, 1), decisive, argmaxMismatch };
}

export function describeAgreement(a: TwinAgreement): string {
  return `max |Δ log-softmax| ${a.maxAbs.toExponential(2)}, mean ${a.meanAbs.toExponential(2)}; argmax equal at ${a.decisive - a.argmaxMismatch}/${a.decisive} positions with llama.cpp's top-2 gap > ${DECISIVE_GAP} (of ${a.positions})`;
}
