/**
 * The CPU reference forward pass for deepseek2 / deepseek32, in Float32 storage, a token (step) or
 * a chunk of tokens (steps: linears over the whole chunk, attention per token) at a time with its own
 * caches (so generation costs O(T) per token), reading like the math of docs/model-math.md. Every other engine is tested against this; this is tested against llama.cpp.
 *
 * Per layer:   h += Attn(RMSNorm(h));   h += FFN(RMSNorm(h))
 * Attn (MLA):  absorbed — MQA over the shared latent (cache: ckv [kv_lora] + kpe [rope] per token);
 *              legacy   — attn_kv_b expands the latent into per-head keys/values (cache: k, v).
 * DSA:         the lightning indexer picks top-k past positions; attention runs over those only.
 */
import { SparseScopeError } from '../../errors.ts';
import { isMoeLayer, type ModelConfig } from '../config.ts';
import { indexerTopK } from './indexer-topk.ts';
import { plainAttention, weightedRows, type AttentionKernels } from './attention-kernels.ts';
import { dot, layerNorm, rmsNorm, ropeCache, ropeNeox, ropeNormal, softmaxInPlace } from './math.ts';
import { moeFfnChunk, swigluChunk } from './moe-chunk.ts';
import { linearChunk, tensorRow, type ReferenceWeights } from './weights.ts';
import { checkOracleTopK, denseWeightSum, indexerRecall, oracleTopK } from './oracle-topk.ts';

/** What one layer did for one query token. */
export interface LayerTrace {
  layer: number;
  /** deepseek32: the indexer's score for every visible position 0..pos, and the positions kept (ascending) */
  indexer?: { scores: number[]; chosen: number[] };
  /** dense attention weights over positions 0..pos, summed over heads (what full attention would do) */
  attnDense: number[];
  /** MoE layers: router probabilities (after gating, unbiased), chosen experts (best first) and weights */
  moe?: { probs: number[]; experts: number[]; weights: number[] };
  /** with an oracle top-k (oracle-topk.ts): the positions attended, ascending (the k of largest dense weight) */
  oracle?: number[];
  /** deepseek32 with an oracle top-k and an indexer top-k: |indexer ∩ oracle| / |oracle| */
  oracleRecall?: number;
}

export interface TokenTrace {
  pos: number;
  token: number;
  layers: LayerTrace[];
}

export interface SessionOptions {
  /** deepseek32: override the file's indexer top-k; 0 = dense attention (no selection) */
  indexTopK?: number;
  /** record a TokenTrace per step */
  trace?: boolean;
  /**
   * oracle top-k sparse attention (oracle-topk.ts): k > 0 attends over the k positions of largest
   * dense weight summed over heads (instead of the indexer's picks, which are still traced); 0 = off
   */
  oracleTopK?: number;
  /** where the absorbed MLA cache rows live and how they are scored and summed (default: plainAttention) */
  attention?: AttentionKernels;
}

/** Per-layer caches, grown one token at a time. */
interface LayerCache {
  /** absorbed: normed latent ckv [T][kv_lora]; legacy: unused */
  ckv: Float32Array[];
  /** roped shared key part [T][rope] */
  kpe: Float32Array[];
  /** legacy: per-head keys (nope part) [T][H·nope] and values [T][H·v] */
  knope: Float32Array[];
  v: Float32Array[];
  /** deepseek32: index keys [T][D_I] */
  kI: Float32Array[];
}

export class ReferenceModel {
  constructor(
    readonly config: ModelConfig,
    readonly weights: ReferenceWeights,
  ) {}

  session(options: SessionOptions = {}): ReferenceSession {
    return new ReferenceSession(this, options);
  }

  /** Logits for every position of `tokens` (a fresh session). */
  forward(tokens: readonly number[], options: SessionOptions = {}): { logits: Float32Array[]; trace: TokenTrace[] } {
    const s = this.session(options);
    const logits: Float32Array[] = [];
    const trace: TokenTrace[] = [];
    for (const t of tokens) {
      const r = s.step(t);
      logits.push(r.logits);
      if (r.trace) trace.push(r.trace);
    }
    return { logits, trace };
  }
}

export class ReferenceSession {
  private readonly caches: LayerCache[];
  private pos = 0;
  private readonly topK: number;
  private readonly oracleK: number;

  constructor(
    private readonly model: ReferenceModel,
    private readonly options: SessionOptions,
  ) {
    const c = model.config;
    this.caches = Array.from({ length: c.layers }, () => ({ ckv: [], kpe: [], knope: [], v: [], kI: [] }));
    const k = options.indexTopK ?? c.indexer?.topK ?? 0;
    if (!Number.isInteger(k) || k < 0) throw new SparseScopeError('bad-argument', `index top-k must be an integer ≥ 0, got ${k}`);
    this.topK = k;
    this.oracleK = checkOracleTopK(options.oracleTopK);
  }

  get position(): number {
    return this.pos;
  }

  /** Feed one token at the next position; returns the logits for the token after it. */
  step(token: number): { logits: Float32Array; trace?: TokenTrace } {
    const r = this.steps([token]);
    return r.trace ? { logits: r.logits[0], trace: r.trace[0] } : { logits: r.logits[0] };
  }

  /**
   * Feed a chunk of tokens at the next positions, layer by layer: every linear runs once over the
   * whole chunk (linearChunk: a backend reads each weight row once for all T tokens), attention runs
   * per token, causally, over the caches. Per token the same operations as T single steps.
   * Returns the logits after every token ('all', the default), after the last only ('last'), or none
   * ('none': a prompt chunk whose logits nobody reads skips the vocab-wide output matmul).
   */
  steps(tokens: readonly number[], o: { logits?: 'all' | 'last' | 'none' } = {}): { logits: Float32Array[]; trace?: TokenTrace[] } {
    const c = this.model.config;
    const w = this.model.weights;
    const E = c.embd;
    if (tokens.length === 0) throw new SparseScopeError('bad-argument', 'no tokens to feed');
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= c.vocab)
        throw new SparseScopeError('bad-argument', `token id ${token} is outside the vocab (0..${c.vocab - 1})`);
    }
    if (this.pos + tokens.length > c.contextLength)
      throw new SparseScopeError('context-overflow', `position ${this.pos + tokens.length - 1} is past the context length ${c.contextLength}`);
    const pos0 = this.pos;
    const traces: TokenTrace[] | undefined = this.options.trace ? tokens.map((token, t) => ({ pos: pos0 + t, token, layers: [] })) : undefined;

    // h_t = token_embd[token_t]                                [T][E]
    const h = tokens.map((token) => tensorRow(w, 'token_embd.weight', token, E));
    // cos/sin of each position for the rope dims                [T][rope/2]
    const ropes = tokens.map((_, t) => ropeCache(c.rope, pos0 + t));

    for (let il = 0; il < c.layers; il++) {
      const p = `blk.${il}.`;
      const lts: LayerTrace[] | undefined = traces?.map(() => ({ layer: il, attnDense: [] }));
      // x = RMSNorm(h) · attn_norm                             [T][E]
      const x = h.map((ht) => rmsNorm(ht, w.get(`${p}attn_norm.weight`), c.rmsEps));
      // attention output                                       [T][E]
      const a = this.attention(il, x, ropes, lts);
      h.forEach((ht, t) => {
        for (let i = 0; i < E; i++) ht[i] += a[t][i];
      });
      // x = RMSNorm(h) · ffn_norm                              [T][E]
      const xf = h.map((ht) => rmsNorm(ht, w.get(`${p}ffn_norm.weight`), c.rmsEps));
      let f: Float32Array[];
      if (!isMoeLayer(c, il)) {
        // dense SwiGLU                                         [T][E]
        f = swigluChunk(w, `${p}ffn_gate.weight`, `${p}ffn_up.weight`, `${p}ffn_down.weight`, xf, E, c.ffn);
      } else {
        // routed experts + shared experts                      [T][E]
        const r = moeFfnChunk(c.moe!, w, p, xf, E);
        f = r.out;
        lts?.forEach((lt, t) => (lt.moe = { probs: Array.from(r.routers[t].probs), experts: r.routers[t].experts, weights: r.routers[t].weights }));
      }
      h.forEach((ht, t) => {
        for (let i = 0; i < E; i++) ht[i] += f[t][i];
      });
      lts?.forEach((lt, t) => traces![t].layers.push(lt));
    }

    // logits = output · RMSNorm(h) · output_norm               [T or 1][V]
    const which = o.logits ?? 'all';
    const last = which === 'all' ? h : which === 'last' ? h.slice(-1) : [];
    const hn = last.map((ht) => rmsNorm(ht, w.get('output_norm.weight'), c.rmsEps));
    const logits = hn.length ? linearChunk(w, c.tiedOutput ? 'token_embd.weight' : 'output.weight', hn, E, c.vocab) : [];
    this.pos += tokens.length;
    return traces ? { logits, trace: traces } : { logits };
  }

  /**
   * MLA (+ DSA) for the chunk's tokens at positions pos0 .. pos0+T-1; appends them to the layer's
   * caches (token t then attends to positions ≤ pos0 + t only). x [T][E] → [T][E].
   */
  private attention(il: number, x: Float32Array[], ropes: { cos: Float32Array; sin: Float32Array }[], lts: LayerTrace[] | undefined): Float32Array[] {
    const c = this.model.config;
    const w = this.model.weights;
    const p = `blk.${il}.`;
    const cache = this.caches[il];
    const { embd: E, heads: H, qkNope: N, qkRope: R, vHead: Vd, kvLoraRank: L } = c;
    const K = N + R;
    const pos0 = this.pos;
    const T = x.length;

    // query: cq = RMSNorm(attn_q_a · x) [q_lora];  q = attn_q_b · cq   (lite: q = attn_q · x)   [T][H·(nope+rope)]
    let cq: Float32Array[] | null = null;
    let q: Float32Array[];
    if (c.qLoraRank > 0) {
      cq = linearChunk(w, `${p}attn_q_a.weight`, x, E, c.qLoraRank).map((v) => rmsNorm(v, w.get(`${p}attn_q_a_norm.weight`), c.rmsEps));
      q = linearChunk(w, `${p}attn_q_b.weight`, cq, c.qLoraRank, H * K);
    } else {
      q = linearChunk(w, `${p}attn_q.weight`, x, E, H * K);
    }
    // each head is [nope | rope]: rope (adjacent pairs) on the last `rope` dims of every head
    q.forEach((qt, t) => {
      for (let hd = 0; hd < H; hd++) ropeNormal(qt, hd * K + N, ropes[t]);
    });

    // [ckv | kpe] = attn_kv_a_mqa · x                          [T][kv_lora + rope]
    const kva = linearChunk(w, `${p}attn_kv_a_mqa.weight`, x, E, L + R);
    // ckv = RMSNorm(ckv) · attn_kv_a_norm                      [T][kv_lora]
    const ckv = kva.map((v) => rmsNorm(v.subarray(0, L), w.get(`${p}attn_kv_a_norm.weight`), c.rmsEps));
    // kpe = rope(kpe): one key part shared by all heads        [T][rope]
    const att = this.options.attention ?? plainAttention;
    kva.forEach((v, t) => {
      const kpe = v.slice(L, L + R);
      ropeNormal(kpe, 0, ropes[t]);
      cache.kpe.push(att.keep(il, 'kpe', kpe));
    });
    if (c.mla === 'absorbed') {
      for (const row of ckv) cache.ckv.push(att.keep(il, 'ckv', row));
    } else {
      // legacy: [knope_h | v_h] = attn_kv_b · ckv per head       [T][H·(nope+v)]
      for (const kv of linearChunk(w, `${p}attn_kv_b.weight`, ckv, L, H * (N + Vd))) {
        const kn = new Float32Array(H * N);
        const vv = new Float32Array(H * Vd);
        for (let hd = 0; hd < H; hd++) {
          kn.set(kv.subarray(hd * (N + Vd), hd * (N + Vd) + N), hd * N);
          vv.set(kv.subarray(hd * (N + Vd) + N, (hd + 1) * (N + Vd)), hd * Vd);
        }
        cache.knope.push(kn);
        cache.v.push(vv);
      }
    }

    // DSA: the indexer's scores of every token over its visible positions   [T][pos+1]
    const indexScores = c.indexer ? this.indexerScores(il, x, cq!, ropes) : null;

    // absorbed: qlat_h = k_b_h · qnope_h, the query in latent space   [T][H·kv_lora]
    // attn_k_b: ne {nope, kv_lora, H}; head h's rows h·kv_lora .. (h+1)·kv_lora read q's head-h slice
    const qlat = c.mla === 'absorbed' ? linearChunk(w, `${p}attn_k_b.weight`, q, N, H * L, { groupRows: L, xGroupStride: K }) : null;

    // per token: which positions it sees, scores, softmax, weighted values
    const olats: Float32Array[] = []; // absorbed: [T][H·kv_lora]
    const outs: Float32Array[] = []; // legacy: [T][H·v]
    for (let t = 0; t < T; t++) {
      const pos = pos0 + t;
      const lt = lts?.[t];
      let chosen: number[] | null = null;
      if (indexScores) {
        // llama.cpp's top-k, ties in its (std::partial_sort) order; ascending
        if (this.topK > 0) chosen = indexerTopK(indexScores[t], this.topK);
        if (lt) lt.indexer = { scores: Array.from(indexScores[t]), chosen: chosen ?? Array.from({ length: pos + 1 }, (_, s) => s) };
      }
      let visible = chosen ?? Array.from({ length: pos + 1 }, (_, s) => s);

      // per-head scores over all of 0..pos                     [H][pos+1]
      const scoresAll: Float64Array[] = [];
      for (let hd = 0; hd < H; hd++) {
        const sc = new Float64Array(pos + 1);
        const qt = q[t];
        // score = (q_nope · k_nope + q_pe · k_pe) · kq_scale, with q_nope · k_nope = qlat · ckv (absorbed)
        if (qlat) {
          att.addScores(qlat[t], hd * L, cache.ckv, pos + 1, L, sc);
          att.addScores(qt, hd * K + N, cache.kpe, pos + 1, R, sc);
          for (let s = 0; s <= pos; s++) sc[s] *= c.kqScale;
        } else {
          for (let s = 0; s <= pos; s++) sc[s] = (dot(qt, hd * K, cache.knope[s], hd * N, N) + dot(qt, hd * K + N, cache.kpe[s], 0, R)) * c.kqScale;
        }
        scoresAll.push(sc);
      }
      // dense softmax weights summed over heads, for the trace and the oracle   [pos+1]
      const sum = lt || this.oracleK > 0 ? denseWeightSum(scoresAll) : null;
      if (lt) lt.attnDense = Array.from(sum!);
      if (this.oracleK > 0) {
        // oracle top-k: its picks replace the indexer's (all of 0..pos, in order, when k > pos)
        visible = oracleTopK(sum!, this.oracleK);
        if (lt) {
          lt.oracle = visible;
          if (chosen) lt.oracleRecall = indexerRecall(chosen, visible);
        }
      }

      // Σ_s softmax(score)_s · (ckv_s | v_s) over the visible positions, each partial sum rounded to
      // f32 as llama.cpp's f32 accumulation does (the greedy continuations depend on it)
      const olat = new Float32Array(qlat ? H * L : 0); // [H·kv_lora]
      const o = new Float32Array(qlat ? 0 : H * Vd); // [H·v]
      const acc = new Float32Array(qlat ? L : Vd);
      for (let hd = 0; hd < H; hd++) {
        const sc = scoresAll[hd];
        const pr = new Float64Array(visible.length);
        for (let j = 0; j < visible.length; j++) pr[j] = sc[visible[j]];
        softmaxInPlace(pr);
        if (qlat) {
          // olat_h = Σ p_s · ckv_s                               [kv_lora]
          att.weightedSum(pr, cache.ckv, visible, L, acc);
          olat.set(acc, hd * L);
        } else {
          // o_h = Σ p_s · v_s[head h]                             [v]
          weightedRows(pr, cache.v, visible, Vd, acc, hd * Vd);
          o.set(acc, hd * Vd);
        }
      }
      olats.push(olat);
      outs.push(o);
    }
    // absorbed: o_h = v_b_h · olat_h (attn_v_b: ne {kv_lora, v, H})   [T][H·v]
    const o = qlat ? linearChunk(w, `${p}attn_v_b.weight`, olats, L, H * Vd, { groupRows: Vd, xGroupStride: L }) : outs;
    // out = attn_output · concat_h(o_h)                        [T][E]
    return linearChunk(w, `${p}attn_output.weight`, o, H * Vd, E);
  }

  /**
   * The lightning indexer for the chunk's queries: score_t(s) = Σ_h w_h · ReLU(qI_h · kI_s), s ≤ pos0 + t.
   * Appends the chunk's index keys to the cache. → [T][pos+1]
   */
  private indexerScores(il: number, x: Float32Array[], cq: Float32Array[], ropes: { cos: Float32Array; sin: Float32Array }[]): Float64Array[] {
    const c = this.model.config;
    const w = this.model.weights;
    const p = `blk.${il}.`;
    const { heads: HI, keyLength: DI } = c.indexer!;
    const cache = this.caches[il];
    // qI = indexer.attn_q_b · cq                               [T][H_I·D_I]
    const qI = linearChunk(w, `${p}indexer.attn_q_b.weight`, cq, c.qLoraRank, HI * DI);
    // NeoX rope on the FIRST rope dims of each head ([rope | nope])
    qI.forEach((v, t) => {
      for (let hd = 0; hd < HI; hd++) ropeNeox(v, hd * DI, ropes[t]);
    });
    // kI = LayerNorm(indexer.attn_k · x) (weight and bias, eps 1e-6), then NeoX rope   [T][D_I]
    linearChunk(w, `${p}indexer.attn_k.weight`, x, c.embd, DI).forEach((v, t) => {
      const kI = layerNorm(v, w.get(`${p}indexer.k_norm.weight`), w.get(`${p}indexer.k_norm.bias`), 1e-6);
      ropeNeox(kI, 0, ropes[t]);
      cache.kI.push(kI);
    });
    // w = indexer.proj · x / sqrt(D_I · H_I)                   [T][H_I]
    const wts = linearChunk(w, `${p}indexer.proj.weight`, x, c.embd, HI);
    const scale = 1 / Math.sqrt(DI * HI);
    // score_t(s) = Σ_h w_h · ReLU(qI_h · kI_s)                  [T][pos+1]
    return qI.map((q, t) => {
      const scores = new Float64Array(this.pos + t + 1);
      for (let s = 0; s < scores.length; s++) {
        let acc = 0;
        for (let hd = 0; hd < HI; hd++) acc += wts[t][hd] * scale * Math.max(0, dot(q, hd * DI, cache.kI[s], 0, DI));
        scores[s] = acc;
      }
      return scores;
    });
  }
}
