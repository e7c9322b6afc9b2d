import { BpeEncoder } from './bpe.ts';
import { detokenize, tokenPiece } from './pieces.ts';
import { splitSpecial } from './special-split.ts';
import { SpmEncoder } from './spm.ts';
import { createStreamDecoder, type StreamDecoder } from './stream-decoder.ts';
import { readVocab, type TokenizerModel } from './vocab.ts';

export type { StreamDecoder } from './stream-decoder.ts';
export { SUPPORTED_MODELS } from './vocab.ts';
export { SUPPORTED_PRE_TOKENIZERS } from './pre-tokenizers.ts';

export interface EncodeOptions {
  /** Add BOS/EOS as the file asks (`add_bos_token`/`add_eos_token`). Default false. */
  addSpecial?: boolean;
  /** Recognise control tokens written in the text (e.g. "<｜User｜>"). Default false. */
  parseSpecial?: boolean;
}

export interface Tokenizer {
  readonly model: TokenizerModel;
  /** The pre-tokenizer name for BPE vocabs, null for SentencePiece. */
  readonly preTokenizer: string | null;
  readonly vocabSize: number;
  readonly bos: number | null;
  readonly eos: number | null;
  /** End-of-turn token (e.g. <|im_end|>, <｜end▁of▁sentence｜>), when the vocab has one. */
  readonly eot: number | null;
  /** Every id that ends generation (EOS, EOT and the like). */
  readonly stopIds: ReadonlySet<number>;
  /** Whether the file asks for BOS at the start of a prompt. */
  readonly addBos: boolean;
  encode(text: string, options?: EncodeOptions): number[];
  /** Ids → text like llama.cpp's detokenize; `special` prints control tokens' text. */
  decode(ids: readonly number[], options?: { special?: boolean }): string;
  /** The raw bytes of one token (empty for control tokens unless `special`). */
  tokenToBytes(id: number, special?: boolean): Uint8Array;
  /** The vocab entry's text as stored in the file (byte-level or ▁-escaped). */
  tokenText(id: number): string;
  createStreamDecoder(options?: { special?: boolean }): StreamDecoder;
}

/**
 * Build a tokenizer from GGUF metadata (`tokenizer.ggml.*`). The behaviour follows llama.cpp
 * (llama-vocab.cpp), which is our reference: the tests compare ids with it through node-llama-cpp.
 */
export function createTokenizer(metadata: Record<string, unknown>): Tokenizer {
  const vocab = readVocab(metadata);
  const bpe = vocab.model === 'gpt2' ? new BpeEncoder(vocab) : null;
  const spm = vocab.model === 'llama' ? new SpmEncoder(vocab) : null;
  const checkId = (id: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocab.tokens.length) throw new RangeError(`token id ${id} outside vocab of ${vocab.tokens.length}`);
  };
  const tokenToBytes = (id: number, special = false) => {
    checkId(id);
    return tokenPiece(vocab, id, special);
  };

  function encode(text: string, { addSpecial = false, parseSpecial = false }: EncodeOptions = {}): number[] {
    // Lone surrogates cannot be UTF-8: they become U+FFFD, as they do on their way into llama.cpp.
    const clean = text.replace(/\p{Cs}/gu, '\uFFFD');
    const out: number[] = [];
    if (addSpecial && vocab.addBos && vocab.bos !== null) out.push(vocab.bos);
    // SentencePiece: a space goes before the text at the start and after every special token.
    let prevSpecial = true;
    for (const f of splitSpecial(vocab, clean, parseSpecial)) {
      if ('id' in f) {
        out.push(f.id);
        prevSpecial = true;
      } else if (bpe) {
        bpe.encode(f.text, out);
      } else {
        const t = vocab.addSpacePrefix && prevSpecial ? ` ${f.text}` : f.text;
        spm!.encode(t.replaceAll(' ', '\u2581'), out);
        prevSpecial = false;
      }
    }
    if (addSpecial && vocab.addEos && vocab.eos !== null) out.push(vocab.eos);
    return out;
  }

  return {
    model: vocab.model,
    preTokenizer: vocab.pre?.name ?? null,
    vocabSize: vocab.tokens.length,
    bos: vocab.bos,
    eos: vocab.eos,
    eot: vocab.eot,
    stopIds: vocab.stopIds,
    addBos: vocab.addBos,
    encode,
    decode(ids, { special = false } = {}) {
      ids.forEach(checkId);
      return detokenize(vocab, ids, special);
    },
    tokenToBytes,
    tokenText(id) {
      checkId(id);
      return vocab.tokens[id];
    },
    createStreamDecoder({ special = false } = {}) {
      return createStreamDecoder((id) => tokenToBytes(id, special));
    },
  };
}
