/**
 * Dense decoder-only transformers with grouped-query attention (Llama, Qwen2, Qwen3): what varies
 * between them is data (a DenseArchitecture: rope style, biases, QK-norm, the q width), read from
 * GGUF in one place (readDenseConfig) into one frozen DenseModelConfig, and one tensor list
 * (denseTensors) used by the tensor check, the fixture writer, the CPU reference and, later, the GPU
 * graph and the memory plan. Semantics follow llama.cpp (src/llama-model.cpp load_hparams,
 * src/models/llama.cpp, qwen2.cpp, qwen3.cpp, llama-graph.cpp build_qkv / build_attn).
 *
 * Per layer:  h += W_o · GQA(RoPE(QKnorm(W_q x + b_q)), RoPE(QKnorm(W_k x + b_k)), W_v x + b_v),  x = RMSNorm(h)
 *             h += W_down · (silu(W_gate x) ⊙ W_up x),                                            x = RMSNorm(h)
 */
import { SparseScopeError } from '../../errors.ts';
import { Reader, badMetadata, readRopeConfig, type RopeConfig, type TensorShapeInfo } from '../config.ts';
import type { TensorSpec } from '../weights-spec.ts';

export type DenseArchName = 'llama' | 'qwen2' | 'qwen3';

/** One dense family, as data: everything readDenseConfig / denseTensors need to know about it. */
export interface DenseArchitecture {
  readonly arch: DenseArchName;
  /** the released models it describes (for messages and docs) */
  readonly models: string;
  /** llama.cpp's rope type: 'normal' rotates adjacent pairs (LLAMA_ROPE_TYPE_NORM), 'neox' the two halves */
  readonly ropeStyle: 'normal' | 'neox';
  /** per-head RMSNorm of q and k before RoPE (attn_q_norm / attn_k_norm, ne [head_dim]) */
  readonly qkNorm: boolean;
  /**
   * The width of attn_q's output and attn_output's input: 'heads' = heads · head_dim; 'embd' = the
   * embedding width (llama.cpp sizes qwen2's attn_q and attn_output {embd, embd}, so there
   * heads · head_dim must equal embd).
   */
  readonly qWidth: 'heads' | 'embd';
  /** optional bias tensors llama.cpp loads for this arch when present */
  readonly optionalBiases: {
    /** attn_q.bias / attn_k.bias / attn_v.bias (Qwen2's are always there) */
    readonly qkv: boolean;
    readonly attnOutput: boolean;
    /** ffn_gate.bias / ffn_up.bias / ffn_down.bias */
    readonly ffn: boolean;
    /** output.bias [vocab] */
    readonly output: boolean;
  };
  /** the file may carry `rope_freqs.weight` [head_dim/2] (Llama 3.1+'s long-context rope factors) */
  readonly ropeFreqs: boolean;
  /** llama.cpp refuses a rope.dimension_count other than head_dim at load (llama); the others assert it in the graph */
  readonly ropeDimsKey: 'checked' | 'asserted';
}

export interface DenseModelConfig {
  readonly family: 'dense';
  readonly arch: DenseArchName;
  readonly name: string | null;
  readonly contextLength: number;
  readonly embd: number;
  readonly layers: number;
  readonly vocab: number;
  readonly heads: number;
  /** key/value heads (GQA): head h reads kv head ⌊h / (heads / headsKv)⌋ */
  readonly headsKv: number;
  /** `attention.key_length` (= value_length), default embd / heads */
  readonly headDim: number;
  /** attn_q's output width (heads · headDim) */
  readonly qDim: number;
  readonly ffn: number;
  readonly rmsEps: number;
  /** rope over every dim of each head (dims = headDim) */
  readonly rope: RopeConfig;
  readonly ropeStyle: 'normal' | 'neox';
  /** the file has rope_freqs.weight: each pair's angle is divided by its factor */
  readonly ropeFreqs: boolean;
  /** softmax scale of q·k: 1 / sqrt(head_dim) */
  readonly kqScale: number;
  readonly qkNorm: boolean;
  /** the file has attn_q/k/v biases (every layer) */
  readonly qkvBias: boolean;
  /** `output.weight` absent: the logits use token_embd */
  readonly tiedOutput: boolean;
}

type Meta = Record<string, unknown>;

const f = Math.fround;

/** Reads the description of `spec` from GGUF metadata and the tensor list (vocab, tied output, biases). */
export function readDenseConfig(spec: DenseArchitecture, metadata: Meta, tensors: readonly TensorShapeInfo[]): DenseModelConfig {
  const arch = spec.arch;
  const r = new Reader(metadata, arch);
  const nameValue = metadata['general.name'];
  const contextLength = r.count('context_length', undefined, { min: 1 });
  const embd = r.count('embedding_length', undefined, { min: 1 });
  const layers = r.count('block_count', undefined, { min: 1 });
  const heads = r.count('attention.head_count', undefined, { min: 1, perLayer: true });
  const headsKv = r.count('attention.head_count_kv', heads, { min: 1, perLayer: true });
  if (heads % headsKv !== 0)
    badMetadata(r.key('attention.head_count_kv'), `(${headsKv}) must divide attention.head_count (${heads}): each kv head serves a whole group of query heads`);
  const rmsEps = r.float('attention.layer_norm_rms_epsilon');
  if (!(rmsEps > 0)) badMetadata(r.key('attention.layer_norm_rms_epsilon'), `must be > 0, found ${rmsEps}`);
  const ffn = r.count('feed_forward_length', undefined, { min: 1, perLayer: true });
  const experts = r.count('expert_count', 0);
  if (experts > 0)
    throw new SparseScopeError(
      'not-implemented',
      `${r.key('expert_count')} = ${experts}: mixture-of-experts ${arch} models are not supported; supported: dense ${spec.models}`,
    );

  const headDim = r.count('attention.key_length', Math.floor(embd / heads), { min: 2 });
  const vDim = r.count('attention.value_length', Math.floor(embd / heads), { min: 1 });
  // llama.cpp asserts n_embd_head_k == n_embd_head_v == n_rot in each of these graphs
  if (vDim !== headDim) badMetadata(r.key('attention.value_length'), `(${vDim}) must equal attention.key_length (${headDim}) for ${arch}`);
  if (headDim < 2) badMetadata(r.key('attention.key_length'), `(${headDim}, default embedding_length / head_count) must be ≥ 2`);
  if (headDim % 2 !== 0) badMetadata(r.key('attention.key_length'), `must be even (rope rotates pairs), found ${headDim}`);
  const ropeDims = r.count('rope.dimension_count', headDim, { min: 2 });
  if (ropeDims !== headDim) {
    const why = spec.ropeDimsKey === 'checked' ? 'llama.cpp refuses other values' : 'llama.cpp asserts it';
    badMetadata(r.key('rope.dimension_count'), `(${ropeDims}) must equal the head dim (${headDim}) for ${arch}: ${why}`);
  }
  const qDim = heads * headDim;
  if (spec.qWidth === 'embd' && qDim !== embd) {
    badMetadata(
      r.key('attention.head_count'),
      `× head dim (${heads} × ${headDim} = ${qDim}) must equal embedding_length (${embd}): llama.cpp sizes ${arch}'s attn_q and attn_output {embd, embd}`,
    );
  }
  const rope = readRopeConfig(r, contextLength, headDim, { yarnLogMul: false, deepseek2Mscale: false });

  const embdTensor = tensors.find((t) => t.name === 'token_embd.weight');
  if (embdTensor === undefined) throw new SparseScopeError('missing-tensor', 'tensor "token_embd.weight" is missing');
  if (embdTensor.shape.length !== 2 || embdTensor.shape[0] !== embd) {
    throw new SparseScopeError('wrong-shape', `tensor "token_embd.weight": expected ne [${embd}, vocab], found [${embdTensor.shape.join(', ')}]`);
  }
  const names = new Set(tensors.map((t) => t.name));
  return Object.freeze({
    family: 'dense',
    arch,
    name: typeof nameValue === 'string' ? nameValue : null,
    contextLength,
    embd,
    layers,
    vocab: embdTensor.shape[1],
    heads,
    headsKv,
    headDim,
    qDim,
    ffn,
    rmsEps,
    rope,
    ropeStyle: spec.ropeStyle,
    ropeFreqs: spec.ropeFreqs && names.has('rope_freqs.weight'),
    kqScale: f(1 / f(Math.sqrt(headDim))),
    qkNorm: spec.qkNorm,
    qkvBias: spec.optionalBiases.qkv && names.has('blk.0.attn_q.bias'),
    tiedOutput: !names.has('output.weight'),
  });
}

/**
 * The tensors of a config, ne order (fastest first), as llama.cpp's load_arch_tensors creates them.
 * Optional ones (biases, rope_freqs, output.weight when tied) are marked; those the config says are
 * present (qkvBias, ropeFreqs, !tiedOutput) are required.
 */
export function denseTensors(spec: DenseArchitecture, c: DenseModelConfig): TensorSpec[] {
  const { embd: E, qDim: Q, headDim: D, ffn: F } = c;
  const KV = c.headsKv * D;
  const out: TensorSpec[] = [
    { name: 'token_embd.weight', shape: [E, c.vocab] },
    { name: 'output_norm.weight', shape: [E] },
  ];
  if (!c.tiedOutput) out.push({ name: 'output.weight', shape: [E, c.vocab] });
  if (spec.optionalBiases.output) out.push({ name: 'output.bias', shape: [c.vocab], optional: true });
  if (spec.ropeFreqs) out.push(c.ropeFreqs ? { name: 'rope_freqs.weight', shape: [D / 2] } : { name: 'rope_freqs.weight', shape: [D / 2], optional: true });
  for (let il = 0; il < c.layers; il++) {
    const p = `blk.${il}.`;
    const t = (name: string, shape: number[], optional = false) => out.push(optional ? { name: p + name, shape, optional } : { name: p + name, shape });
    t('attn_norm.weight', [E]);
    t('attn_q.weight', [E, Q]);
    t('attn_k.weight', [E, KV]);
    t('attn_v.weight', [E, KV]);
    if (spec.optionalBiases.qkv) {
      // all three or none: c.qkvBias is read from blk.0.attn_q.bias
      t('attn_q.bias', [Q], !c.qkvBias);
      t('attn_k.bias', [KV], !c.qkvBias);
      t('attn_v.bias', [KV], !c.qkvBias);
    }
    if (spec.qkNorm) {
      t('attn_q_norm.weight', [D]);
      t('attn_k_norm.weight', [D]);
    }
    t('attn_output.weight', [Q, E]);
    if (spec.optionalBiases.attnOutput) t('attn_output.bias', [E], true);
    t('ffn_norm.weight', [E]);
    t('ffn_gate.weight', [E, F]);
    t('ffn_up.weight', [E, F]);
    t('ffn_down.weight', [F, E]);
    if (spec.optionalBiases.ffn) {
      t('ffn_gate.bias', [F], true);
      t('ffn_up.bias', [F], true);
      t('ffn_down.bias', [E], true);
    }
  }
  return out;
}
