/**
 * TEST DOUBLE. A deterministic stand-in "model" for the FakeEngine: word tokens, hashed index scores,
 * dense weights and router choices, and a toy next-token distribution that really depends on which
 * positions attention kept — so the views and the classroom can be built and e2e-tested before the
 * real engine lands. Nothing here resembles a trained model.
 */
import type { Candidate, LayerTrace, ModelShape, TokenText, TokenTrace, TraceRequest } from '../../api/protocol.ts';

export const FAKE_SHAPE: ModelShape = {
  layers: 4,
  embedding: 256,
  heads: 8,
  qLoraRank: 128,
  kvLoraRank: 64,
  nopeDim: 32,
  ropeDim: 16,
  vDim: 32,
  indexerHeads: 4,
  indexerDim: 32,
  indexerTopK: 8,
  experts: 8,
  expertsUsed: 2,
  sharedExperts: 1,
  leadingDenseLayers: 1,
  contextLength: 512,
};

const WORDS = (
  'the light of day and the word was with them ; in the beginning there was a garden , and a river went out ' +
  'of it to water the land . **behold** the sea and the stars , for they are many . `seed` grows where it falls . ' +
  'and he said unto them : go in peace'
).split(' ');
export const VOCAB = [...new Set(WORDS)];
export const EOS = VOCAB.length;

/** FNV-1a: stable hashes so every run, tab and reload sees the same numbers. */
export function hash(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193);
  }
  return h >>> 0;
}
const unit = (...p: (string | number)[]) => hash(...p) / 0x100000000;

export function tokenize(text: string): TokenText[] {
  return (text.match(/\s*\S+|\s+$/g) ?? []).map((t) => ({ id: hash(t.trim()) % 4096, text: t }));
}

/** Index scores for query t over keys 0..t: content-word preference plus a recency bump. */
function indexScores(tokens: TokenText[], t: number, layer: number): number[] {
  const out: number[] = [];
  for (let s = 0; s <= t; s++) {
    const w = tokens[s].text.trim();
    const content = w.length > 3 ? 1.5 : 0.2;
    out.push(+(content * unit('idx', layer, w, t % 3) + (s === t ? 1 : 0) + 0.5 / (1 + t - s)).toFixed(4));
  }
  return out;
}

export function topK(scores: number[], k: number): number[] {
  if (k <= 0 || k >= scores.length) return scores.map((_, i) => i);
  return scores
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i)
    .sort((a, b) => a - b);
}

function softmax(x: number[]): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

function router(tokens: TokenText[], t: number, layer: number): Pick<LayerTrace, 'routerProbs' | 'experts' | 'expertWeights'> {
  const probs = softmax(Array.from({ length: FAKE_SHAPE.experts! }, (_, e) => 3 * unit('route', layer, tokens[t].text.trim(), e)));
  const experts = topK(probs, FAKE_SHAPE.expertsUsed!).sort((a, b) => probs[b] - probs[a]);
  const sum = experts.reduce((a, e) => a + probs[e], 0);
  return { routerProbs: probs.map((p) => +p.toFixed(5)), experts, expertWeights: experts.map((e) => +(probs[e] / sum).toFixed(5)) };
}

/** One query row's trace over all layers. `k` undefined = the file's top-k, 0 = dense. */
export function traceRow(tokens: TokenText[], t: number, req: TraceRequest, k: number | undefined): TokenTrace {
  const kk = k ?? FAKE_SHAPE.indexerTopK!;
  const layers: LayerTrace[] = [];
  for (let l = 0; l < FAKE_SHAPE.layers; l++) {
    const scores = indexScores(tokens, t, l);
    const layer: LayerTrace = { ms: +(0.4 + 0.1 * l + (kk === 0 ? 0.002 : 0.0005) * (t + 1)).toFixed(3) };
    if (req.indexer) {
      layer.indexScores = scores;
      layer.chosen = topK(scores, kk);
    }
    if (req.dense) layer.denseWeights = softmax(scores.map((v) => 2 * v)).map((p) => +p.toFixed(5));
    if (req.router && l >= FAKE_SHAPE.leadingDenseLayers!) Object.assign(layer, router(tokens, t, l));
    layers.push(layer);
  }
  return { position: t, layers, token: tokens[t], ms: +layers.reduce((a, x) => a + (x.ms ?? 0), 0).toFixed(3) };
}

/**
 * Next-token distribution when the last position attends to `chosen` only: attention-weighted votes of
 * the kept tokens for vocabulary entries. Dense keeps everything, so k changes the result visibly.
 */
export function nextDistribution(tokens: TokenText[], k: number): number[] {
  const t = tokens.length - 1;
  const last = FAKE_SHAPE.layers - 1;
  const scores = indexScores(tokens, t, last);
  const chosen = topK(scores, k);
  const w = softmax(chosen.map((s) => 2 * scores[s]));
  const logits = Array.from({ length: VOCAB.length + 1 }, (_, v) => {
    let z = 0;
    chosen.forEach((s, j) => (z += w[j] * 6 * unit('vote', tokens[s].text.trim(), v)));
    return z + (v === EOS ? Math.min(0, (t - 60) / 10) : 0);
  });
  return softmax(logits);
}

export function candidates(p: number[], n: number): Candidate[] {
  return topK(p, n)
    .sort((a, b) => p[b] - p[a])
    .map((id) => ({ id, text: id === EOS ? '<eos>' : ' ' + VOCAB[id], prob: p[id] }));
}

export function kl(p: number[], q: number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) s += p[i] * Math.log(p[i] / Math.max(q[i], 1e-30));
  return Math.max(0, s);
}

/** Sampling with temperature/top-k/top-p from a seeded PRNG (mulberry32): the same seed, the same reply. */
export function sample(p: number[], temperature: number, topKN: number, topP: number, rand: () => number): number {
  if (temperature <= 0) return p.indexOf(Math.max(...p));
  let ids = topK(p, topKN > 0 ? topKN : p.length).sort((a, b) => p[b] - p[a]);
  const w = ids.map((i) => Math.pow(p[i], 1 / temperature));
  const z = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  const keep: number[] = [];
  for (let j = 0; j < ids.length; j++) {
    keep.push(j);
    acc += w[j] / z;
    if (acc >= topP) break;
  }
  ids = keep.map((j) => ids[j]);
  const ws = keep.map((j) => w[j]);
  let r = rand() * ws.reduce((a, b) => a + b, 0);
  for (let j = 0; j < ids.length; j++) if ((r -= ws[j]) <= 0) return ids[j];
  return ids[ids.length - 1];
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
