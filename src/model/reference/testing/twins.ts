/**
 * Test helpers for the real-shape twins (src/tools/fixture/twins.ts) against llama.cpp: the prompt,
 * and the agreement measure the twins are held to. On quantized files llama.cpp quantizes its
 * activations, so exact agreement is not expected there; instead: the mean |Δ log-softmax| over all
 * positions and the vocab, and the same argmax wherever llama.cpp's own top-2 gap is wide enough
 * that rounding cannot flip it.
 */
import { logSoftmax } from './llama-ref.ts';
import type { TwinName, TwinShrink } from '../../../tools/fixture/twins.ts';

/** narrow bodies with the real head dims (nope 128, rope 64, v 128, kv_lora 512) */
const NARROW = { embd: 256, heads: 2, ffn: 512 };

/** The default suite's twins: each file tens of MB, all of them ~15 s on the CPU reference. */
export const SMALL_TWINS: [TwinName, TwinShrink][] = [
  ['youtu-llm-2b', { layers: 2, vocab: 1024, dims: { ...NARROW, qLora: 256 } }],
  ['youtu-llm-2b', { layers: 2, vocab: 1024, mix: 'Q4_K_M', dims: { ...NARROW, qLora: 256 } }],
  // 27 layers: llama.cpp reads a file without q_lora_rank as lite only at that count; ffx 384 is not
  // whole 256-blocks, so the expert FFNs take the mix's fallbacks as V2-Lite's 1408 does
  ['deepseek-v2-lite-chat', { experts: 4, vocab: 1024, mix: 'Q4_K_M', dims: { ...NARROW, ffx: 384 } }],
  ['moonlight-16b-a3b', { experts: 4, vocab: 1024, mix: 'Q2_K', dims: { ...NARROW, ffx: 384 } }],
  // 8 experts: llama.cpp's 8-expert rules (attn_output Q5_K, indexer.attn_k Q8_0) fire
  ['deepseek-v3.2', { layers: 4, experts: 8, vocab: 1024, mix: 'Q4_K_M', dims: { ...NARROW, heads: 4, qLora: 256, ffx: 256, indexerHeads: 4, topK: 8 } }],
  ['deepseek-v3', { layers: 4, experts: 16, vocab: 1024, mix: 'Q2_K', dims: { ...NARROW, heads: 4, qLora: 256, ffx: 256 } }],
];

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
    if (x > a) {
      b = a;
      a = x;
      best = v;
    } else if (x > b) b = x;
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

/**
 * llama.cpp's log-probabilities renormalized in float64. Its probabilities are normalized by a sum
 * of ~150k f32 terms whose rounding shifts every log-prob of a position by the same ~5e-4; the
 * shape of the distribution (what is compared) is unchanged by removing that constant.
 */
export function renormalized(lp: Float64Array[]): { lp: Float64Array[]; maxShift: number } {
  let maxShift = 0;
  const out = lp.map((row) => {
    let s = 0;
    for (const v of row) if (Number.isFinite(v)) s += Math.exp(v);
    const shift = Math.log(s);
    maxShift = Math.max(maxShift, Math.abs(shift));
    return Float64Array.from(row, (v) => v - shift);
  });
  return { lp: out, maxShift };
}
