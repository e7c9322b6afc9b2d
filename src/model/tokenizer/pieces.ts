import { CHAR_TO_BYTE } from './byte-level.ts';
import { Attr, type Vocab } from './vocab.ts';

const utf8 = new TextEncoder();

/**
 * The bytes one token stands for (llama.cpp `token_to_piece`). Control and unknown tokens are empty
 * unless `special`; user-defined tokens are their text; byte tokens <0xXX> are that byte; normal BPE
 * tokens are un-mapped from the byte-level alphabet; normal SentencePiece tokens turn U+2581 into a
 * space. Unused/undefined tokens are empty.
 */
export function tokenPiece(vocab: Vocab, id: number, special: boolean): Uint8Array {
  const attr = vocab.attrs[id];
  const text = vocab.tokens[id];
  if (attr & (Attr.CONTROL | Attr.UNKNOWN)) return special ? utf8.encode(text) : new Uint8Array(0);
  if (attr & Attr.USER_DEFINED) return utf8.encode(text);
  if (attr & Attr.NORMAL) {
    if (vocab.model === 'llama') return utf8.encode(text.replaceAll('\u2581', ' '));
    const out: number[] = [];
    for (const ch of text) {
      const b = CHAR_TO_BYTE.get(ch);
      if (b !== undefined) out.push(b);
      else out.push(...utf8.encode(`[UNK_BYTE_0x${[...utf8.encode(ch)].map((x) => x.toString(16).padStart(2, '0')).join('')}${text}]`));
    }
    return Uint8Array.from(out);
  }
  if (attr & Attr.BYTE) return Uint8Array.of(parseInt(text.slice(3, 5), 16));
  return new Uint8Array(0);
}

/**
 * Token ids → text, as llama.cpp's `llama_detokenize(remove_special = false)`: with a space-prefix
 * vocab the first piece loses one leading space; with `cleanSpaces` (HF's
 * clean_up_tokenization_spaces) " ." " ," " !" " ?" lose the space, " ' " becomes "'", and
 * " 's" " 'm" " 're" " 've" lose the space.
 */
export function detokenize(vocab: Vocab, ids: readonly number[], special: boolean): string {
  const bytes: number[] = [];
  let stripSpace = vocab.addSpacePrefix;
  for (const id of ids) {
    let piece = tokenPiece(vocab, id, special);
    if (stripSpace && piece[0] === 0x20) piece = piece.subarray(1);
    stripSpace = false; // only the very first token, even if it printed nothing
    for (const b of piece) bytes.push(b);
  }
  const cleaned = vocab.pre?.cleanSpaces ? cleanSpaces(bytes) : bytes;
  return new TextDecoder().decode(Uint8Array.from(cleaned));
}

const SP = 0x20;
const APOS = 0x27;
const ch = (c: string) => c.charCodeAt(0);

/** The three clean-up passes, each reading the previous pass's output. */
function cleanSpaces(input: number[]): number[] {
  // Pass 1: drop the space before ? ! . ,
  let a: number[] = [];
  for (let i = 0; i < input.length; i++) {
    if (i > 0 && input[i - 1] === SP && [ch('?'), ch('!'), ch('.'), ch(',')].includes(input[i])) a.pop();
    a.push(input[i]);
  }
  // Pass 2: " ' " → "'". llama.cpp then treats the swallowed space as a NUL when looking back, so
  // the character after it never counts as "preceded by a space".
  let b: number[] = [];
  let prevWasSwallowed = false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const prevIsSpace = i > 0 && a[i - 1] === SP && !prevWasSwallowed;
    prevWasSwallowed = false;
    if (i > 0 && x === APOS && i + 1 < a.length && prevIsSpace && a[i + 1] === SP) {
      b.pop();
      b.push(x);
      i++; // skip the space after
      prevWasSwallowed = true;
      continue;
    }
    b.push(x);
  }
  // Pass 3: " 's" " 'm" " 're" " 've" lose the space (" 't" " 'd" " 'll" keep it).
  a = b;
  b = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (i > 0 && a[i - 1] === SP && x === APOS && i + 1 < a.length) {
      const x1 = a[i + 1];
      const x2 = i + 2 < a.length ? a[i + 2] : -1;
      if (x1 === ch('s') || x1 === ch('m')) b.pop();
      else if (x1 !== ch('t') && x1 !== ch('d') && (x1 === ch('r') || x1 === ch('v')) && x2 === ch('e')) b.pop();
    }
    b.push(x);
  }
  return b;
}
