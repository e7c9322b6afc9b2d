/**
 * The CPU reference of the dense families (llama, qwen2, qwen3: src/model/architectures/), built
 * from the shared parts: RMSNorm, GQA attention (gqa-attention.ts), the SwiGLU FFN (dense-ffn.ts).
 * Same session surface as ReferenceModel / ReferenceSession (forward.ts): `session().step(token)
 * → { logits }`, one token at a time with its own KV cache.
 *
 *   h = token_embd[token]
 *   per layer:  h += Attn(RMSNorm(h) · attn_norm);  h += FFN(RMSNorm(h) · ffn_norm)
 *   logits = output · (RMSNorm(h) · output_norm) (+ output.bias)        (output = token_embd when tied)
 */
import { SparseScopeError } from '../../../errors.ts';
import type { DenseModelConfig } from '../../architectures/dense.ts';
import { rmsNorm, ropeCache } from '../math.ts';
import { tensorRow, type ReferenceWeights } from '../weights.ts';
import { affine } from './affine.ts';
import { denseFfn } from './dense-ffn.ts';
import { checkOracleTopK } from '../oracle-topk.ts';
import { emptyGqaCache, gqaAttention, type GqaCache, type GqaShape } from './gqa-attention.ts';

export interface DenseLayerTrace {
  layer: number;
  /** dense attention weights over positions 0..pos, summed over heads */
  attnDense: number[];
  /** with an oracle top-k: the positions this layer attended (ascending) */
  oracle?: number[];
}

export interface DenseTokenTrace {
  pos: number;
  token: number;
  layers: DenseLayerTrace[];
}

export interface DenseSessionOptions {
  /** record a DenseTokenTrace per step */
  trace?: boolean;
  /** oracle top-k sparse attention (oracle-topk.ts): k > 0 attends over the k positions of largest dense weight; 0 = dense */
  oracleTopK?: number;
}

export class DenseTransformerReference {
  /** the attention part's shape, shared by every layer */
  readonly attn: GqaShape;

  constructor(
    readonly config: DenseModelConfig,
    readonly weights: ReferenceWeights,
  ) {
    const c = config;
    this.attn = {
      embd: c.embd,
      heads: c.heads,
      headsKv: c.headsKv,
      headDim: c.headDim,
      kqScale: c.kqScale,
      rmsEps: c.rmsEps,
      qkNorm: c.qkNorm,
      ropeStyle: c.ropeStyle,
    };
  }

  session(options: DenseSessionOptions = {}): DenseTransformerSession {
    return new DenseTransformerSession(this, options);
  }

  /** Logits for every position of `tokens` (a fresh session). */
  forward(tokens: readonly number[], options: DenseSessionOptions = {}): { logits: Float32Array[]; trace: DenseTokenTrace[] } {
    const s = this.session(options);
    const logits: Float32Array[] = [];
    const trace: DenseTokenTrace[] = [];
    for (const t of tokens) {
      const r = s.step(t);
      logits.push(r.logits);
      if (r.trace) trace.push(r.trace);
    }
    return { logits, trace };
  }
}

export class DenseTransformerSession {
  private readonly caches: GqaCache[];
  private readonly freqFactors: Float32Array | undefined;
  private pos = 0;
  private readonly oracleK: number;

  constructor(
    private readonly model: DenseTransformerReference,
    private readonly options: DenseSessionOptions,
  ) {
    this.caches = Array.from({ length: model.config.layers }, emptyGqaCache);
    this.oracleK = checkOracleTopK(options.oracleTopK);
    this.freqFactors = model.config.ropeFreqs ? model.weights.get('rope_freqs.weight') : undefined;
  }

  get position(): number {
    return this.pos;
  }

  /** Feed one token at the next position; returns the logits for the token after it. */
  step(token: number): { logits: Float32Array; trace?: DenseTokenTrace } {
    const r = this.advance(token, true);
    return r.trace ? { logits: r.logits!, trace: r.trace } : { logits: r.logits! };
  }

  /**
   * Feed tokens one after another (ReferenceSession.steps' surface, for the CPU engine): the logits
   * after every token ('all', the default), after the last ('last') or none ('none': a prompt chunk
   * whose logits nobody reads skips the vocab-wide output matmul). Per token the same operations as `step`.
   */
  steps(tokens: readonly number[], o: { logits?: 'all' | 'last' | 'none' } = {}): { logits: Float32Array[]; trace?: DenseTokenTrace[] } {
    if (tokens.length === 0) throw new SparseScopeError('bad-argument', 'no tokens to feed');
    const which = o.logits ?? 'all';
    const logits: Float32Array[] = [];
    const trace: DenseTokenTrace[] = [];
    tokens.forEach((token, i) => {
      const r = this.advance(token, which === 'all' || (which === 'last' && i === tokens.length - 1));
      if (r.logits) logits.push(r.logits);
      if (r.trace) trace.push(r.trace);
    });
    return this.options.trace ? { logits, trace } : { logits };
  }

  private advance(token: number, wantLogits: boolean): { logits?: Float32Array; trace?: DenseTokenTrace } {
    const c = this.model.config;
    const w = this.model.weights;
    const E = c.embd;
    if (!Number.isInteger(token) || token < 0 || token >= c.vocab)
      throw new SparseScopeError('bad-argument', `token id ${token} is outside the vocab (0..${c.vocab - 1})`);
    if (this.pos >= c.contextLength) throw new SparseScopeError('context-overflow', `position ${this.pos} is past the context length ${c.contextLength}`);
    const trace: DenseTokenTrace | undefined = this.options.trace ? { pos: this.pos, token, layers: [] } : undefined;

    // h = token_embd[token]                                    [E]
    const h = tensorRow(w, 'token_embd.weight', token, E);
    // cos/sin of this position over the head dims              [D/2]
    const rope = ropeCache(c.rope, this.pos, this.freqFactors);
    for (let il = 0; il < c.layers; il++) {
      const p = `blk.${il}.`;
      const x = rmsNorm(h, w.get(`${p}attn_norm.weight`), c.rmsEps); // [E]
      const a = gqaAttention(w, p, this.model.attn, x, rope, this.caches[il], trace !== undefined, this.oracleK);
      for (let i = 0; i < E; i++) h[i] += a.out[i];
      const xf = rmsNorm(h, w.get(`${p}ffn_norm.weight`), c.rmsEps); // [E]
      const f = denseFfn(w, p, xf, E, c.ffn);
      for (let i = 0; i < E; i++) h[i] += f[i];
      if (trace) trace.layers.push(a.oracle ? { layer: il, attnDense: a.attnDense ?? [], oracle: a.oracle } : { layer: il, attnDense: a.attnDense ?? [] });
    }
    if (!wantLogits) {
      this.pos++;
      return trace ? { trace } : {};
    }
    // logits = output · RMSNorm(h) · output_norm (+ output.bias)   [V]
    const hn = rmsNorm(h, w.get('output_norm.weight'), c.rmsEps);
    const logits = affine(w, c.tiedOutput ? 'token_embd.weight' : 'output.weight', 'output.bias', hn, E, c.vocab);
    this.pos++;
    return trace ? { logits, trace } : { logits };
  }
}
