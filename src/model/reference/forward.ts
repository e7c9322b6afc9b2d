/**
 * The CPU reference forward pass for deepseek2 / deepseek32, in Float32 storage, one token at a
 * time with its own caches (so generation costs O(T) per token), reading like the math of
 * docs/model-math.md. Every other engine is tested against this; this is tested against llama.cpp.
 *
 * Per layer:   h += Attn(RMSNorm(h));   h += FFN(RMSNorm(h))
 * Attn (MLA):  absorbed — MQA over the shared latent (cache: ckv [kv_lora] + kpe [rope] per token);
 *              legacy   — attn_kv_b expands the latent into per-head keys/values (cache: k, v).
 * DSA:         the lightning indexer picks top-k past positions; attention runs over those only.
 */
import { SparseScopeError } from '../../errors.ts';
import { isMoeLayer, type ModelConfig } from '../config.ts';
import { indexerTopK } from './indexer-topk.ts';
import { dot, layerNorm, rmsNorm, ropeCache, ropeNeox, ropeNormal, softmaxInPlace } from './math.ts';
import { moeFfn, swiglu } from './moe.ts';
import { linear, type ReferenceWeights } from './weights.ts';

/** What one layer did for one query token. */
export interface LayerTrace {
  layer: number;
  /** deepseek32: the indexer's score for every visible position 0..pos, and the positions kept (ascending) */
  indexer?: { scores: number[]; chosen: number[] };
  /** dense attention weights over positions 0..pos, summed over heads (what full attention would do) */
  attnDense: number[];
  /** MoE layers: router probabilities (after gating, unbiased), chosen experts (best first) and weights */
  moe?: { probs: number[]; experts: number[]; weights: number[] };
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

  constructor(
    private readonly model: ReferenceModel,
    private readonly options: SessionOptions,
  ) {
    const c = model.config;
    this.caches = Array.from({ length: c.layers }, () => ({ ckv: [], kpe: [], knope: [], v: [], kI: [] }));
    const k = options.indexTopK ?? c.indexer?.topK ?? 0;
    if (!Number.isInteger(k) || k < 0) throw new SparseScopeError('bad-argument', `index top-k must be an integer ≥ 0, got ${k}`);
    this.topK = k;
  }

  get position(): number {
    return this.pos;
  }

  /** Feed one token at the next position; returns the logits for the token after it. */
  step(token: number): { logits: Float32Array; trace?: TokenTrace } {
    const c = this.model.config;
    const w = this.model.weights;
    const E = c.embd;
    if (!Number.isInteger(token) || token < 0 || token >= c.vocab) throw new SparseScopeError('bad-argument', `token id ${token} is outside the vocab (0..${c.vocab - 1})`);
    if (this.pos >= c.contextLength) throw new SparseScopeError('context-overflow', `position ${this.pos} is past the context length ${c.contextLength}`);
    const pos = this.pos;
    const trace: TokenTrace | undefined = this.options.trace ? { pos, token, layers: [] } : undefined;

    // h = token_embd[token]                                    [E]
    const h = w.get('token_embd.weight').slice(token * E, (token + 1) * E);
    // cos/sin of this position for the rope dims                [rope/2]
    const rope = ropeCache(c.rope, pos);

    for (let il = 0; il < c.layers; il++) {
      const p = `blk.${il}.`;
      const lt: LayerTrace | undefined = trace ? { layer: il, attnDense: [] } : undefined;
      // x = RMSNorm(h) · attn_norm                             [E]
      const x = rmsNorm(h, w.get(`${p}attn_norm.weight`), c.rmsEps);
      // attention output                                       [E]
      const a = this.attention(il, x, rope, lt);
      for (let i = 0; i < E; i++) h[i] += a[i];
      // x = RMSNorm(h) · ffn_norm                              [E]
      const xf = rmsNorm(h, w.get(`${p}ffn_norm.weight`), c.rmsEps);
      let f: Float32Array;
      if (!isMoeLayer(c, il)) {
        // dense SwiGLU                                         [E]
        f = swiglu(w, `${p}ffn_gate.weight`, `${p}ffn_up.weight`, `${p}ffn_down.weight`, xf, E, c.ffn);
      } else {
        // routed experts + shared experts                      [E]
        const r = moeFfn(c.moe!, w, p, xf, E);
        f = r.out;
        if (lt) lt.moe = { probs: Array.from(r.router.probs), experts: r.router.experts, weights: r.router.weights };
      }
      for (let i = 0; i < E; i++) h[i] += f[i];
      if (lt) trace!.layers.push(lt);
    }

    // logits = output · RMSNorm(h) · output_norm               [V]
    const hn = rmsNorm(h, w.get('output_norm.weight'), c.rmsEps);
    const logits = linear(w, c.tiedOutput ? 'token_embd.weight' : 'output.weight', hn, E, c.vocab);
    this.pos++;
    return trace ? { logits, trace } : { logits };
  }

  /** MLA (+ DSA) for the token at this.pos; appends to the layer's caches. x [E] → [E]. */
  private attention(il: number, x: Float32Array, rope: { cos: Float32Array; sin: Float32Array }, lt: LayerTrace | undefined): Float32Array {
    const c = this.model.config;
    const w = this.model.weights;
    const p = `blk.${il}.`;
    const cache = this.caches[il];
    const { embd: E, heads: H, qkNope: N, qkRope: R, vHead: Vd, kvLoraRank: L } = c;
    const K = N + R;
    const pos = this.pos;

    // query: cq = RMSNorm(attn_q_a · x) [q_lora];  q = attn_q_b · cq   (lite: q = attn_q · x)   [H·(nope+rope)]
    let cq: Float32Array | null = null;
    let q: Float32Array;
    if (c.qLoraRank > 0) {
      cq = rmsNorm(linear(w, `${p}attn_q_a.weight`, x, E, c.qLoraRank), w.get(`${p}attn_q_a_norm.weight`), c.rmsEps);
      q = linear(w, `${p}attn_q_b.weight`, cq, c.qLoraRank, H * K);
    } else {
      q = linear(w, `${p}attn_q.weight`, x, E, H * K);
    }
    // each head is [nope | rope]: rope (adjacent pairs) on the last `rope` dims of every head
    for (let hd = 0; hd < H; hd++) ropeNormal(q, hd * K + N, rope);

    // [ckv | kpe] = attn_kv_a_mqa · x                          [kv_lora + rope]
    const kva = linear(w, `${p}attn_kv_a_mqa.weight`, x, E, L + R);
    // ckv = RMSNorm(ckv) · attn_kv_a_norm                      [kv_lora]
    const ckv = rmsNorm(kva.subarray(0, L), w.get(`${p}attn_kv_a_norm.weight`), c.rmsEps);
    // kpe = rope(kpe): one key part shared by all heads        [rope]
    const kpe = kva.slice(L, L + R);
    ropeNormal(kpe, 0, rope);
    cache.kpe.push(kpe);
    if (c.mla === 'absorbed') {
      cache.ckv.push(ckv);
    } else {
      // legacy: [knope_h | v_h] = attn_kv_b · ckv per head       [H·(nope+v)]
      const kv = linear(w, `${p}attn_kv_b.weight`, ckv, L, H * (N + Vd));
      const kn = new Float32Array(H * N);
      const vv = new Float32Array(H * Vd);
      for (let hd = 0; hd < H; hd++) {
        kn.set(kv.subarray(hd * (N + Vd), hd * (N + Vd) + N), hd * N);
        vv.set(kv.subarray(hd * (N + Vd) + N, (hd + 1) * (N + Vd)), hd * Vd);
      }
      cache.knope.push(kn);
      cache.v.push(vv);
    }

    // DSA: which past positions this query may attend to       (null = all of 0..pos)
    let chosen: number[] | null = null;
    if (c.indexer) {
      const scores = this.indexerScores(il, x, cq!, rope); // [pos+1]
      // llama.cpp's top-k, ties in its (std::partial_sort) order; ascending
      if (this.topK > 0) chosen = indexerTopK(scores, this.topK);
      if (lt) lt.indexer = { scores: Array.from(scores), chosen: chosen ?? Array.from({ length: pos + 1 }, (_, s) => s) };
    }
    const visible = chosen ?? Array.from({ length: pos + 1 }, (_, s) => s);

    // per-head scores over all of 0..pos                       [H][pos+1]
    const scoresAll: Float64Array[] = [];
    let qlat: Float32Array | null = null;
    if (c.mla === 'absorbed') {
      // qlat_h = k_b_h · qnope_h: the query in latent space    [H·kv_lora]
      // attn_k_b: ne {nope, kv_lora, H}; head h's rows are h·kv_lora .. (h+1)·kv_lora
      qlat = new Float32Array(H * L);
      for (let hd = 0; hd < H; hd++) qlat.set(linear(w, `${p}attn_k_b.weight`, q, N, L, hd * L, hd * K), hd * L);
    }
    for (let hd = 0; hd < H; hd++) {
      const sc = new Float64Array(pos + 1);
      for (let s = 0; s <= pos; s++) {
        // score = (q_nope · k_nope + q_pe · k_pe) · kq_scale, with q_nope · k_nope = qlat · ckv (absorbed)
        const nopePart = c.mla === 'absorbed' ? dot(qlat!, hd * L, cache.ckv[s], 0, L) : dot(q, hd * K, cache.knope[s], hd * N, N);
        sc[s] = (nopePart + dot(q, hd * K + N, cache.kpe[s], 0, R)) * c.kqScale;
      }
      scoresAll.push(sc);
    }
    if (lt) {
      // trace: dense softmax weights summed over heads         [pos+1]
      const sum = new Float64Array(pos + 1);
      for (const sc of scoresAll) {
        const pd = Float64Array.from(sc);
        softmaxInPlace(pd);
        for (let s = 0; s <= pos; s++) sum[s] += pd[s];
      }
      lt.attnDense = Array.from(sum);
    }

    // o_h = Σ_s softmax(score)_s · v_s over the visible positions   [H·v]
    const o = new Float32Array(H * Vd);
    for (let hd = 0; hd < H; hd++) {
      const pr = Float64Array.from(visible, (s) => scoresAll[hd][s]);
      softmaxInPlace(pr);
      if (c.mla === 'absorbed') {
        // olat_h = Σ p_s · ckv_s                                 [kv_lora]
        const olat = new Float32Array(L);
        visible.forEach((s, j) => {
          for (let i = 0; i < L; i++) olat[i] += pr[j] * cache.ckv[s][i];
        });
        // o_h = v_b_h · olat_h                                   [v]
        o.set(linear(w, `${p}attn_v_b.weight`, olat, L, Vd, hd * Vd), hd * Vd);
      } else {
        visible.forEach((s, j) => {
          for (let i = 0; i < Vd; i++) o[hd * Vd + i] += pr[j] * cache.v[s][hd * Vd + i];
        });
      }
    }
    // out = attn_output · concat_h(o_h)                        [E]
    return linear(w, `${p}attn_output.weight`, o, H * Vd, E);
  }

  /**
   * The lightning indexer for the current query: score(s) = Σ_h w_h · ReLU(qI_h · kI_s), s ≤ pos.
   * Appends this token's index key to the cache.
   */
  private indexerScores(il: number, x: Float32Array, cq: Float32Array, rope: { cos: Float32Array; sin: Float32Array }): Float64Array {
    const c = this.model.config;
    const w = this.model.weights;
    const p = `blk.${il}.`;
    const { heads: HI, keyLength: DI } = c.indexer!;
    const cache = this.caches[il];
    // qI = indexer.attn_q_b · cq                               [H_I·D_I]
    const qI = linear(w, `${p}indexer.attn_q_b.weight`, cq, c.qLoraRank, HI * DI);
    // NeoX rope on the FIRST rope dims of each head ([rope | nope])
    for (let hd = 0; hd < HI; hd++) ropeNeox(qI, hd * DI, rope);
    // kI = LayerNorm(indexer.attn_k · x) (weight and bias, eps 1e-6), then NeoX rope   [D_I]
    const kI = layerNorm(linear(w, `${p}indexer.attn_k.weight`, x, c.embd, DI), w.get(`${p}indexer.k_norm.weight`), w.get(`${p}indexer.k_norm.bias`), 1e-6);
    ropeNeox(kI, 0, rope);
    cache.kI.push(kI);
    // w = indexer.proj · x / sqrt(D_I · H_I)                   [H_I]
    const wts = linear(w, `${p}indexer.proj.weight`, x, c.embd, HI);
    const scale = 1 / Math.sqrt(DI * HI);
    // score(s) = Σ_h w_h · ReLU(qI_h · kI_s)                    [pos+1]
    const scores = new Float64Array(this.pos + 1);
    for (let s = 0; s <= this.pos; s++) {
      let acc = 0;
      for (let hd = 0; hd < HI; hd++) acc += wts[hd] * scale * Math.max(0, dot(qI, hd * DI, cache.kI[s], 0, DI));
      scores[s] = acc;
    }
    return scores;
  }
}
