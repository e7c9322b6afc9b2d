import { SparseScopeError } from '../../errors.ts';
import { preTokenizerSpec, type PreTokenizerSpec } from './pre-tokenizers.ts';

/** Token attributes as bits, like llama.cpp's llama_token_attr (a token may gain CONTROL below). */
export const Attr = {
  UNDEFINED: 0,
  UNKNOWN: 1 << 0,
  UNUSED: 1 << 1,
  NORMAL: 1 << 2,
  CONTROL: 1 << 3,
  USER_DEFINED: 1 << 4,
  BYTE: 1 << 5,
} as const;

/** GGUF `tokenizer.ggml.token_type` values → attribute bits. */
const TYPE_TO_ATTR: Record<number, number> = { 1: Attr.NORMAL, 2: Attr.UNKNOWN, 3: Attr.CONTROL, 4: Attr.USER_DEFINED, 5: Attr.UNUSED, 6: Attr.BYTE };

export const SUPPORTED_MODELS = ['gpt2', 'llama'] as const;
export type TokenizerModel = (typeof SUPPORTED_MODELS)[number];

/** Everything the encoder and decoder need, read once from GGUF metadata. */
export interface Vocab {
  readonly model: TokenizerModel;
  readonly tokens: readonly string[];
  readonly attrs: Uint8Array;
  readonly scores: Float32Array;
  readonly tokenToId: ReadonlyMap<string, number>;
  /** BPE merge ranks keyed by mergeKey(left, right). */
  readonly mergeRanks: ReadonlyMap<string, number>;
  readonly pre: PreTokenizerSpec | null;
  readonly bos: number | null;
  readonly eos: number | null;
  readonly eot: number | null;
  readonly unk: number | null;
  readonly pad: number | null;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;
  /** Ids that end generation (llama.cpp's EOG set). */
  readonly stopIds: ReadonlySet<number>;
  /** Control, user-defined and unknown tokens, longest text first: matched before pre-tokenization. */
  readonly specialIds: readonly number[];
}

/** Unambiguous key for a merge pair (a token may itself contain spaces). */
export function mergeKey(left: string, right: string): string {
  return `${left.length}:${left}${right}`;
}

// Texts llama.cpp treats as end-of-turn / end-of-generation whatever their declared type.
const EOT_TEXTS = [
  '<|eot_id|>',
  '<|im_end|>',
  '<|end|>',
  '<end_of_turn>',
  '<|endoftext|>',
  '<|end_of_text|>',
  '<EOT>',
  '_<EOT>',
  '[EOT]',
  '<｜end▁of▁sentence｜>',
  '<end_of_utterance>',
];
const FIM_EOG_TEXTS: readonly (readonly string[])[] = [
  ['<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>', '[PAD]'],
  ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>'],
  ['<|file_sep|>'],
];
const EOG_TEXTS = [
  '<|eot_id|>',
  '<|im_end|>',
  '<|end|>',
  '<|return|>',
  '<|call|>',
  '<|flush|>',
  '<|calls|>',
  '<end_of_turn>',
  '<|endoftext|>',
  '</s>',
  '<|eom_id|>',
  '<EOT>',
  '_<EOT>',
  '[EOT]',
  '[EOS]',
  '<|end_of_text|>',
  '<end_of_utterance>',
  '<eos>',
  '<turn|>',
  '<|tool_response>',
  '<｜end▁of▁sentence｜>',
  '[e~[',
];

type Meta = Record<string, unknown>;

function get(meta: Meta, key: string): unknown {
  return meta[`tokenizer.ggml.${key}`];
}

function asArray(v: unknown, key: string): ArrayLike<unknown> {
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return v as unknown as ArrayLike<unknown>;
  throw new SparseScopeError('bad-metadata', `tokenizer.ggml.${key} must be an array`);
}

function asId(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function asBool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : undefined;
}

export function readVocab(meta: Meta): Vocab {
  const model = get(meta, 'model');
  if (model !== 'gpt2' && model !== 'llama') {
    throw new SparseScopeError(
      'tokenizer',
      `Unsupported tokenizer model tokenizer.ggml.model = '${String(model)}'. Supported: ${SUPPORTED_MODELS.join(', ')} ('gpt2' = byte-level BPE, 'llama' = SentencePiece).`,
    );
  }
  const isBpe = model === 'gpt2';
  // llama.cpp reads tokenizer.ggml.pre only for BPE vocabs; SentencePiece files ignore it.
  const pre = isBpe ? preTokenizerSpec(get(meta, 'pre') as string | undefined) : null;

  const rawTokens = get(meta, 'tokens');
  if (rawTokens === undefined) throw new SparseScopeError('missing-metadata', 'tokenizer.ggml.tokens is missing');
  const list = asArray(rawTokens, 'tokens');
  const n = list.length;
  const tokens: string[] = [];
  const tokenToId = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    // llama.cpp renames empty entries so every id keeps a distinct text.
    const t = String(list[i]) || `[EMPTY_${i}]`;
    tokens.push(t);
    tokenToId.set(t, i); // a duplicated text maps to its last id, as in llama.cpp
  }

  const types = get(meta, 'token_type');
  const attrs = new Uint8Array(n).fill(Attr.NORMAL); // no types at all: everything is normal
  if (types !== undefined) {
    const tl = asArray(types, 'token_type');
    for (let i = 0; i < n; i++) attrs[i] = TYPE_TO_ATTR[Number(tl[i])] ?? Attr.UNDEFINED;
  }

  const scores = new Float32Array(n);
  const rawScores = get(meta, 'scores');
  if (rawScores !== undefined) {
    const sl = asArray(rawScores, 'scores');
    for (let i = 0; i < n; i++) scores[i] = Number(sl[i] ?? 0);
  }

  const mergeRanks = new Map<string, number>();
  if (isBpe) {
    const rawMerges = get(meta, 'merges');
    if (rawMerges === undefined) throw new SparseScopeError('missing-metadata', 'tokenizer.ggml.merges is missing (required for gpt2 BPE)');
    const ml = asArray(rawMerges, 'merges');
    for (let r = 0; r < ml.length; r++) {
      const m = String(ml[r]);
      const sp = m.indexOf(' ', 1); // llama.cpp splits at the first space after the first character
      const key = sp < 0 ? mergeKey('', '') : mergeKey(m.slice(0, sp), m.slice(sp + 1));
      if (!mergeRanks.has(key)) mergeRanks.set(key, r); // first (best) rank wins, like map::emplace
    }
  }

  // Defaults llama.cpp uses when the keys are absent (if they fall inside the vocab).
  const inRange = (id: number | undefined | null) => (id !== undefined && id !== null && id >= 0 && id < n ? id : null);
  const pick = (key: string, fallback: number | null) => {
    const v = asId(get(meta, key));
    return v !== undefined && v >= 0 && v < n ? v : inRange(fallback);
  };
  const bos = pick('bos_token_id', isBpe ? 11 : 1);
  const eos = pick('eos_token_id', isBpe ? 11 : 2);
  const unk = pick('unknown_token_id', isBpe ? null : 0);
  const pad = pick('padding_token_id', null);
  let eot = pick('eot_token_id', null);
  const eom = pick('eom_token_id', null);

  // Tokens llama.cpp recognises by their text: the first text of each list present in the vocabulary
  // (Llama 3 has both <|eot_id|> and <|end_of_text|>: the turn's end is the EOT), marked control.
  const byText = (texts: readonly string[]): number | null => {
    for (const text of texts) {
      const id = tokenToId.get(text);
      if (id !== undefined) return id;
    }
    return null;
  };
  if (eot === null) {
    eot = byText(EOT_TEXTS);
    if (eot !== null) attrs[eot] |= Attr.CONTROL;
  }
  const stopIds = new Set<number>();
  // Fill-in-the-middle pad, repository and file separators end a generation too (Qwen's coder tokens).
  for (const texts of FIM_EOG_TEXTS) {
    const id = byText(texts);
    if (id !== null) {
      stopIds.add(id);
      attrs[id] |= Attr.CONTROL;
    }
  }
  for (let i = 0; i < n; i++) {
    if (EOG_TEXTS.includes(tokens[i])) {
      stopIds.add(i);
      attrs[i] |= Attr.CONTROL;
    }
  }
  for (let i = 0; i < n; i++) if (attrs[i] & Attr.CONTROL && tokens[i].includes('unused')) attrs[i] |= Attr.UNUSED;
  for (const id of [eos, eot, eom]) if (id !== null) stopIds.add(id);

  const specialMask = Attr.CONTROL | Attr.USER_DEFINED | Attr.UNKNOWN;
  const specialIds: number[] = [];
  for (let i = 0; i < n; i++) if (attrs[i] & specialMask) specialIds.push(i);
  // Longest first by UTF-8 length, as llama.cpp sorts its special-token cache (its tie order is unspecified).
  const utf8 = new TextEncoder();
  const byteLen = new Map(specialIds.map((id) => [id, utf8.encode(tokens[id]).length]));
  specialIds.sort((a, b) => byteLen.get(b)! - byteLen.get(a)! || a - b);

  const addBosDefault = isBpe ? pre!.addBosDefault : true;
  return {
    model,
    tokens,
    attrs,
    scores,
    tokenToId,
    mergeRanks,
    pre,
    bos,
    eos,
    eot,
    unk,
    pad,
    addBos: asBool(get(meta, 'add_bos_token')) ?? addBosDefault,
    addEos: asBool(get(meta, 'add_eos_token')) ?? false,
    addSpacePrefix: asBool(get(meta, 'add_space_prefix')) ?? !isBpe,
    stopIds,
    specialIds,
  };
}
