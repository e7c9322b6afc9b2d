import { SparseScopeError } from '../../errors.ts';

/**
 * The pre-tokenizers we support, keyed by the GGUF `tokenizer.ggml.pre` value. The regex lists are the
 * ones llama.cpp (llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_*) applies, in order: each regex splits every
 * piece left by the previous one further (matches and the gaps between them both become pieces). They
 * are data from the models' tokenizer.json files as llama.cpp adapted them (e.g. `(?i:'s|...)` spelled
 * out as `'[sS]|...` because std::regex, like JS, lacks inline flags).
 */
export interface PreTokenizerSpec {
  /** Canonical name, for messages. */
  readonly name: string;
  readonly regexes: readonly string[];
  /** llama.cpp's `clean_spaces` (HF clean_up_tokenization_spaces): tidy " ," and " 's" on decode. */
  readonly cleanSpaces: boolean;
  /** A pre-token that is itself a vocab entry is emitted whole, without merging (llama3). */
  readonly ignoreMerges: boolean;
  /** Default for add_bos when the file has no `tokenizer.ggml.add_bos_token`. */
  readonly addBosDefault: boolean;
}

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const LLAMA3 =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2 =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// DeepSeek LLM's letter class is a literal list of Latin/Greek/Cyrillic/... ranges, not \p{L}.
// Non-ASCII characters are escaped: several (e.g. U+1F7D) would be changed by NFC normalisation.
const DEEPSEEK_LLM_LETTERS =
  '\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+';
const CJK_HANGUL = '[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+';

const base = { cleanSpaces: true, ignoreMerges: false, addBosDefault: false };

const SPECS: Record<string, PreTokenizerSpec> = {
  default: { ...base, name: 'default', regexes: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'] },
  'gpt-2': { ...base, name: 'gpt-2', regexes: [GPT2] },
  llama3: { ...base, name: 'llama3', regexes: [LLAMA3], ignoreMerges: true, addBosDefault: true },
  'deepseek-llm': {
    ...base,
    name: 'deepseek-llm',
    cleanSpaces: false,
    regexes: ['[\r\n]', DEEPSEEK_LLM_LETTERS, '\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+', '\\s+$', CJK_HANGUL, '\\p{N}+'],
  },
  'deepseek-coder': {
    ...base,
    name: 'deepseek-coder',
    cleanSpaces: false,
    regexes: ['[\r\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', CJK_HANGUL, '\\p{N}'],
  },
  'deepseek-v3': {
    ...base,
    name: 'deepseek-v3',
    cleanSpaces: false,
    regexes: [
      '\\p{N}{1,3}',
      '[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+',
      '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+',
    ],
  },
  qwen2: { ...base, name: 'qwen2', regexes: [QWEN2], cleanSpaces: false },
};

/** GGUF names that llama.cpp maps to the same pre-tokenizer (same regexes and flags). */
const ALIASES: Record<string, string> = {
  'llama-v3': 'llama3',
  'llama-bpe': 'llama3',
  'deepseek-r1-qwen': 'qwen2',
};

export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = [...Object.keys(SPECS), ...Object.keys(ALIASES)];

/** A missing `tokenizer.ggml.pre` means 'default', as in llama.cpp (which warns about quality). */
export function preTokenizerSpec(pre: string | undefined): PreTokenizerSpec {
  const key = pre === undefined || pre === '' ? 'default' : (ALIASES[pre] ?? pre);
  const spec = Object.hasOwn(SPECS, key) ? SPECS[key] : undefined;
  if (!spec) {
    throw new SparseScopeError('tokenizer', `Unsupported pre-tokenizer tokenizer.ggml.pre = '${pre}'. Supported: ${SUPPORTED_PRE_TOKENIZERS.join(', ')}.`);
  }
  return spec;
}
