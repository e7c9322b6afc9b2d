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
const DEEPSEEK_LLM_LETTERS =
  '\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+';
const CJK_HANGUL = '[一-龥ࠀ-一가-퟿]+';

const base = { cleanSpaces: true, ignoreMerges: false, addBosDefault: false };

const SPECS: Record<string, PreTokenizerSpec> = {
  default: { ...base, name: 'default', regexes: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'] },
  'gpt-2': { ...base, name: 'gpt-2', regexes: [GPT2] },
  llama3: { ...base, name: 'llama3', regexes: [LLAMA3], ignoreMerges: true, addBosDefault: true },
  'deepseek-llm': {
    ...base,
    name: 'deepseek-llm',
    cleanSpaces: false,
    regexes: ['[\r\n]', DEEPSEEK_LLM_LETTERS, '\\s?[!-/:-~！-／：-～‘-‟　-。]+', '\\s+$', CJK_HANGUL, '\\p{N}+'],
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
      '[一-龥぀-ゟ゠-ヿ]+',
      "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
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
    throw new SparseScopeError(
      'tokenizer',
      `Unsupported pre-tokenizer tokenizer.ggml.pre = '${pre}'. Supported: ${SUPPORTED_PRE_TOKENIZERS.join(', ')}.`,
    );
  }
  return spec;
}
