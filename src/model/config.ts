/**
 * The one place a model's hyper-parameters are read: GGUF metadata (+ the tensor list, for the vocab
 * size and a tied output) → one frozen ModelConfig. Every engine (CPU reference, WebGPU) and the UI
 * read this object, never the metadata.
 *
 * Semantics follow llama.cpp (src/llama-model.cpp, src/models/deepseek2.cpp / deepseek32.cpp,
 * src/llama-context.cpp for the YaRN factors), which is our reference; see docs/gguf.md and docs/model-math.md.
 */
import { SparseScopeError } from '../errors.ts';

export const SUPPORTED_ARCHITECTURES = ['deepseek2', 'deepseek32'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

/** llama.cpp's `expert_gating_func` ids: 1 softmax (default), 2 sigmoid, 3 softmax_weight, 4 sqrt_softplus. */
export const GATING_FUNCS = { 1: 'softmax', 2: 'sigmoid', 3: 'softmax_weight', 4: 'sqrt_softplus' } as const;
export type GatingFunc = (typeof GATING_FUNCS)[keyof typeof GATING_FUNCS];
export const GATING_IDS: Record<GatingFunc, number> = { softmax: 1, sigmoid: 2, softmax_weight: 3, sqrt_softplus: 4 };

export interface RopeConfig {
  /** rotated dims per head (`rope.dimension_count`): MLA's `qk_rope_head_dim` */
  readonly dims: number;
  readonly freqBase: number;
  readonly scalingType: 'none' | 'linear' | 'yarn';
  /** 1 / rope.scaling.factor (1 without scaling) */
  readonly freqScale: number;
  /** YaRN ramp weight: 1 for YaRN, 0 otherwise (llama.cpp's cparams.yarn_ext_factor) */
  readonly extFactor: number;
  /** the attn_factor handed to ggml_rope_ext (llama.cpp's cparams.yarn_attn_factor) */
  readonly attnFactor: number;
  /** YaRN correction-range betas; llama.cpp uses its defaults 32 / 1 for DeepSeek models */
  readonly betaFast: number;
  readonly betaSlow: number;
  /** context the ramp is computed for (rope.scaling.original_context_length, else context_length) */
  readonly origContext: number;
  /** mscale_all_dim: rope.scaling.yarn_log_multiplier / 0.1 (0 when absent) */
  readonly yarnLogMul: number;
}

export interface MoeConfig {
  readonly experts: number;
  readonly used: number;
  readonly shared: number;
  /** width of one routed expert (`expert_feed_forward_length`); shared experts are `ffx · shared` wide */
  readonly ffx: number;
  /** 0 or 1 = no groups */
  readonly groups: number;
  readonly groupsUsed: number;
  readonly gating: GatingFunc;
  readonly weightsNorm: boolean;
  /** 1 when absent (llama.cpp skips the scale for 0 and 1) */
  readonly weightsScale: number;
  /** the file has `exp_probs_b.bias` (DeepSeek-V3's selection bias: it chooses experts, never weights them) */
  readonly selectionBias: boolean;
}

export interface IndexerConfig {
  readonly heads: number;
  /** D_I; llama.cpp asserts a multiple of 64 */
  readonly keyLength: number;
  readonly topK: number;
}

export interface ModelConfig {
  readonly arch: Architecture;
  readonly name: string | null;
  readonly contextLength: number;
  readonly embd: number;
  readonly layers: number;
  readonly vocab: number;
  /** dense FFN width (`feed_forward_length`), used by the first `leadingDense` layers */
  readonly ffn: number;
  readonly leadingDense: number;
  readonly heads: number;
  /** 0 = "lite": q = attn_q · x */
  readonly qLoraRank: number;
  readonly kvLoraRank: number;
  readonly qkNope: number;
  readonly qkRope: number;
  readonly vHead: number;
  /** 'absorbed': attn_k_b / attn_v_b (MQA over the latent); 'legacy': attn_kv_b expands to MHA */
  readonly mla: 'absorbed' | 'legacy';
  readonly rmsEps: number;
  readonly rope: RopeConfig;
  /** softmax scale of q·k: mscale² / sqrt(nope + rope), computed as llama.cpp does */
  readonly kqScale: number;
  /** null when the model has no MoE layers (every layer dense) */
  readonly moe: MoeConfig | null;
  /** deepseek32 only */
  readonly indexer: IndexerConfig | null;
  /** `output.weight` absent: the logits use token_embd */
  readonly tiedOutput: boolean;
}

export interface TensorShapeInfo {
  readonly name: string;
  readonly shape: readonly number[];
}

type Meta = Record<string, unknown>;

function bad(key: string, why: string): never {
  throw new SparseScopeError('bad-metadata', `metadata key "${key}" ${why}`);
}

function asNumber(key: string, v: unknown): number {
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) bad(key, `is out of range (${v})`);
    return Number(v);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(key, `must be a number, found ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Upper bound of every count key (2^24); block_count is also checked against the file's tensors (weights-spec.ts). */
const MAX_COUNT = 1 << 24;

/** A 'bad-metadata' error naming the key and what is wrong with it (for architecture readers). */
export const badMetadata: (key: string, why: string) => never = bad;

/** Reads `${arch}.${suffix}` with type checks; a per-layer array must hold one value (uniform). */
export class Reader {
  constructor(
    private readonly meta: Meta,
    readonly arch: string,
  ) {}
  key(suffix: string): string {
    return `${this.arch}.${suffix}`;
  }
  has(suffix: string): boolean {
    return this.meta[this.key(suffix)] !== undefined;
  }
  private raw(suffix: string, required: boolean): unknown {
    const k = this.key(suffix);
    const v = this.meta[k];
    if (v === undefined && required) throw new SparseScopeError('missing-metadata', `metadata key "${k}" is required for ${this.arch} models but absent`);
    return v;
  }
  /**
   * A count. `max` bounds what any real model holds (DeepSeek-V3: 61 layers, 256 experts, 129,280
   * vocab, 163,840 context), so a hostile value is refused here, before anything is sized by it.
   */
  count(suffix: string, fallback?: number, { min = 0, max = MAX_COUNT, perLayer = false } = {}): number {
    const k = this.key(suffix);
    let v = this.raw(suffix, fallback === undefined);
    if (v === undefined) return fallback!;
    if (perLayer && Array.isArray(v)) {
      const distinct = [...new Set(v.map((x) => asNumber(k, x)))];
      if (distinct.length !== 1) bad(k, `holds per-layer values ${JSON.stringify(v)}; only a uniform value is supported`);
      v = distinct[0];
    }
    const n = asNumber(k, v);
    if (!Number.isInteger(n) || n < min || n > max) bad(k, `must be an integer in ${min}..${max}, found ${n}`);
    return n;
  }
  float(suffix: string, fallback?: number): number {
    const v = this.raw(suffix, fallback === undefined);
    return v === undefined ? fallback! : asNumber(this.key(suffix), v);
  }
  bool(suffix: string, fallback: boolean): boolean {
    const v = this.raw(suffix, false);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') bad(this.key(suffix), `must be a bool, found ${describe(v)}`);
    return v;
  }
  string(suffix: string, fallback: string): string {
    const v = this.raw(suffix, false);
    if (v === undefined) return fallback;
    if (typeof v !== 'string') bad(this.key(suffix), `must be a string, found ${describe(v)}`);
    return v;
  }
}

/** ggml's float math is f32; these factors are computed in f32 like llama.cpp's logf/sqrtf. */
const f = Math.fround;
const logf = (x: number) => f(Math.log(f(x)));

/**
 * The rope factors of llama.cpp for this arch: cparams (llama-context.cpp) then the graph's
 * kq_scale (models/deepseek2.cpp: "pre-scale kq_scale and attn_factor to make the YaRN RoPE work").
 */
function ropeAndScale(r: Reader, arch: Architecture, contextLength: number, nope: number, rope: number): { rope: RopeConfig; kqScale: number } {
  const cfg = readRopeConfig(r, contextLength, rope, { yarnLogMul: true, deepseek2Mscale: arch === 'deepseek2' });
  const { freqScale, yarnLogMul, attnFactor } = cfg;

  // graph: cancel ggml's YaRN magnitude factor, then kq_scale = mscale² / sqrt(nope + rope)
  const attnFactorOrg = f(attnFactor * f(1 + f(0.1 * logf(1 / freqScale))));
  const mscale = f(attnFactorOrg * f(1 + f(f(0.1 * yarnLogMul) * logf(1 / freqScale))));
  const kqScale = f(f(mscale * mscale) / f(Math.sqrt(nope + rope)));
  return { rope: cfg, kqScale };
}

/**
 * The rope of `${arch}.rope.*` as llama.cpp's cparams derive it (llama-context.cpp): scaling type
 * none / linear / yarn, freq_scale = 1 / factor, YaRN's ext_factor and attn_factor. `yarnLogMul`:
 * whether this arch reads rope.scaling.yarn_log_multiplier (llama.cpp: the DeepSeek families only;
 * others leave it 0); `deepseek2Mscale`: llama.cpp's deepseek2-only mscale = mscale_all_dim rule.
 */
export function readRopeConfig(r: Reader, contextLength: number, dims: number, o: { yarnLogMul: boolean; deepseek2Mscale: boolean }): RopeConfig {
  const freqBase = r.float('rope.freq_base', 10000);
  const typeStr = r.string('rope.scaling.type', 'linear');
  if (typeStr !== 'none' && typeStr !== 'linear' && typeStr !== 'yarn') {
    throw new SparseScopeError('not-implemented', `rope scaling "${typeStr}" (${r.key('rope.scaling.type')}) is not supported; supported: none, linear, yarn`);
  }
  const factor = r.has('rope.scaling.factor') ? r.float('rope.scaling.factor') : 0;
  let freqScale = factor === 0 ? 1 : f(1 / factor);
  if (typeStr === 'none') freqScale = 1;
  const extFactor = typeStr === 'yarn' ? 1 : 0;
  // llama.cpp divides the stored multiplier by 0.1 again ([TAG_DEEPSEEK2_YARN_LOG_MUL_FIX])
  const yarnLogMul = o.yarnLogMul && r.has('rope.scaling.yarn_log_multiplier') ? f(r.float('rope.scaling.yarn_log_multiplier') / f(0.1)) : 0;
  const ropeAttnFactor = r.float('rope.scaling.attn_factor', 1);
  const origContext = r.count('rope.scaling.original_context_length', contextLength, { min: 1 });

  // cparams.yarn_attn_factor
  let attnFactor = 1;
  if (extFactor !== 0) {
    const getMscale = (scale: number, mscale: number) => (scale <= 1 ? 1 : f(f(f(0.1 * mscale) * logf(scale)) + 1));
    const fac = f(1 / freqScale);
    if (yarnLogMul !== 0) {
      // llama.cpp assumes mscale = 1 except for the deepseek2 arch, where mscale = mscale_all_dim
      const mscale = o.deepseek2Mscale && yarnLogMul !== 1 ? yarnLogMul : 1;
      attnFactor = f(getMscale(fac, mscale) / getMscale(fac, yarnLogMul));
    } else {
      attnFactor = getMscale(fac, 1);
    }
    attnFactor = f(attnFactor * f(1 / f(1 + f(0.1 * logf(fac)))));
  }
  attnFactor = f(attnFactor * ropeAttnFactor);
  return Object.freeze({ dims, freqBase, scalingType: typeStr, freqScale, extFactor, attnFactor, betaFast: 32, betaSlow: 1, origContext, yarnLogMul });
}

/**
 * Read the config. `tensors` gives the vocab size (token_embd) and whether `output.weight` exists;
 * pass the GGUF's tensor list (names and ne-order shapes).
 */
export function readModelConfig(metadata: Meta, tensors: readonly TensorShapeInfo[]): ModelConfig {
  const archValue = metadata['general.architecture'];
  if (archValue === undefined)
    throw new SparseScopeError(
      'missing-metadata',
      `metadata key "general.architecture" is absent; supported architectures: ${SUPPORTED_ARCHITECTURES.join(', ')}`,
    );
  if (typeof archValue !== 'string') bad('general.architecture', `must be a string, found ${describe(archValue)}`);
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(archValue)) {
    throw new SparseScopeError(
      'unknown-architecture',
      `architecture "${archValue}" is not supported; supported architectures: ${SUPPORTED_ARCHITECTURES.join(', ')}`,
    );
  }
  const arch = archValue as Architecture;
  const r = new Reader(metadata, arch);
  const nameValue = metadata['general.name'];

  const contextLength = r.count('context_length', undefined, { min: 1 });
  const embd = r.count('embedding_length', undefined, { min: 1 });
  const layers = r.count('block_count', undefined, { min: 1 });
  const heads = r.count('attention.head_count', undefined, { min: 1, perLayer: true });
  const rmsEps = r.float('attention.layer_norm_rms_epsilon');
  const leadingDense = r.count('leading_dense_block_count', 0);
  if (leadingDense > layers) bad(r.key('leading_dense_block_count'), `(${leadingDense}) exceeds block_count (${layers})`);
  const ffn = r.count('feed_forward_length', leadingDense > 0 ? undefined : 0, { perLayer: true });

  const qLoraRank = arch === 'deepseek32' ? r.count('attention.q_lora_rank', undefined, { min: 1 }) : r.count('attention.q_lora_rank', 0);
  const kvLoraRank = r.count('attention.kv_lora_rank', undefined, { min: 1 });
  const ropeDims = r.count('rope.dimension_count', undefined, { min: 2 });
  if (ropeDims % 2 !== 0) bad(r.key('rope.dimension_count'), `must be even, found ${ropeDims}`);

  const hasKMla = r.has('attention.key_length_mla');
  const hasVMla = r.has('attention.value_length_mla');
  if (hasKMla !== hasVMla) {
    const missing = hasKMla ? 'attention.value_length_mla' : 'attention.key_length_mla';
    throw new SparseScopeError('missing-metadata', `metadata key "${r.key(missing)}" is absent while its pair is present; MLA files carry both`);
  }
  const mla = hasKMla ? 'absorbed' : 'legacy';
  if (arch === 'deepseek32' && mla !== 'absorbed') {
    throw new SparseScopeError(
      'missing-metadata',
      `metadata keys "${r.key('attention.key_length_mla')}" and "${r.key('attention.value_length_mla')}" are required for deepseek32 (absorbed MLA only)`,
    );
  }
  const kLen =
    mla === 'absorbed' ? r.count('attention.key_length_mla', undefined, { min: 1 }) : r.count('attention.key_length', Math.floor(embd / heads), { min: 1 });
  const vHead =
    mla === 'absorbed' ? r.count('attention.value_length_mla', undefined, { min: 1 }) : r.count('attention.value_length', Math.floor(embd / heads), { min: 1 });
  const qkNope = kLen - ropeDims;
  if (qkNope < 1)
    bad(r.key(mla === 'absorbed' ? 'attention.key_length_mla' : 'attention.key_length'), `(${kLen}) must exceed rope.dimension_count (${ropeDims})`);

  const { rope, kqScale } = ropeAndScale(r, arch, contextLength, qkNope, ropeDims);
  if (r.has('attention.temperature_scale') && r.float('attention.temperature_scale') !== 0) {
    throw new SparseScopeError('not-implemented', `${r.key('attention.temperature_scale')} (attention temperature tuning) is not supported`);
  }

  let moe: MoeConfig | null = null;
  const experts = r.count('expert_count', 0);
  if (leadingDense < layers) {
    if (experts === 0)
      throw new SparseScopeError(
        'missing-metadata',
        `metadata key "${r.key('expert_count')}" is required: layers ${leadingDense}..${layers - 1} are MoE layers`,
      );
    const used = r.count('expert_used_count', undefined, { min: 1, perLayer: true });
    if (used > experts) bad(r.key('expert_used_count'), `(${used}) exceeds expert_count (${experts})`);
    const groups = r.count('expert_group_count', 0);
    const groupsUsed = r.count('expert_group_used_count', 0);
    if (groups > 1) {
      if (experts % groups !== 0) bad(r.key('expert_group_count'), `(${groups}) must divide expert_count (${experts})`);
      if (groupsUsed < 1 || groupsUsed >= groups) bad(r.key('expert_group_used_count'), `(${groupsUsed}) must be in 1..${groups - 1}`);
      if ((experts / groups) * groupsUsed < used)
        bad(r.key('expert_group_used_count'), `leaves ${(experts / groups) * groupsUsed} experts, fewer than expert_used_count (${used})`);
    }
    // deepseek2 defaults a missing gating func to softmax; deepseek32 requires the key (as llama.cpp)
    const gatingId = arch === 'deepseek32' ? r.count('expert_gating_func') : r.count('expert_gating_func', 0);
    const gating = GATING_FUNCS[(gatingId === 0 ? 1 : gatingId) as keyof typeof GATING_FUNCS];
    if (gating === undefined)
      bad(
        r.key('expert_gating_func'),
        `(${gatingId}) is not a known gating function; known: ${Object.entries(GATING_FUNCS)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
      );
    const scale = r.float('expert_weights_scale', 0);
    moe = Object.freeze({
      experts,
      used,
      shared: r.count('expert_shared_count', arch === 'deepseek32' ? undefined : 0),
      ffx: r.count('expert_feed_forward_length', undefined, { min: 1, perLayer: true }),
      groups,
      groupsUsed,
      gating,
      weightsNorm: r.bool('expert_weights_norm', false),
      weightsScale: scale === 0 ? 1 : scale,
      selectionBias: tensors.some((t) => /^blk\.\d+\.exp_probs_b\.bias$/.test(t.name)),
    });
  }

  let indexer: IndexerConfig | null = null;
  if (arch === 'deepseek32') {
    const keyLength = r.count('attention.indexer.key_length', undefined, { min: 1 });
    if (keyLength % 64 !== 0) bad(r.key('attention.indexer.key_length'), `(${keyLength}) must be a multiple of 64 (llama.cpp's Hadamard rotation asserts it)`);
    if (ropeDims > keyLength) bad(r.key('attention.indexer.key_length'), `(${keyLength}) must be ≥ rope.dimension_count (${ropeDims})`);
    indexer = Object.freeze({
      heads: r.count('attention.indexer.head_count', undefined, { min: 1 }),
      keyLength,
      topK: r.count('attention.indexer.top_k', undefined, { min: 1 }),
    });
  }

  const embdTensor = tensors.find((t) => t.name === 'token_embd.weight');
  if (embdTensor === undefined) throw new SparseScopeError('missing-tensor', 'tensor "token_embd.weight" is missing');
  if (embdTensor.shape.length !== 2 || embdTensor.shape[0] !== embd) {
    throw new SparseScopeError('wrong-shape', `tensor "token_embd.weight": expected ne [${embd}, vocab], found [${embdTensor.shape.join(', ')}]`);
  }
  const vocab = embdTensor.shape[1];
  const tiedOutput = !tensors.some((t) => t.name === 'output.weight');

  return Object.freeze({
    arch,
    name: typeof nameValue === 'string' ? nameValue : null,
    contextLength,
    embd,
    layers,
    vocab,
    ffn,
    leadingDense,
    heads,
    qLoraRank,
    kvLoraRank,
    qkNope,
    qkRope: ropeDims,
    vHead,
    mla,
    rmsEps,
    rope,
    kqScale,
    moe,
    indexer,
    tiedOutput,
  });
}

/** Whether layer `il` runs an MoE FFN (else the dense SwiGLU). */
export function isMoeLayer(c: ModelConfig, il: number): boolean {
  return c.moe !== null && il >= c.leadingDense;
}
