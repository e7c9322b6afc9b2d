import { Heap } from './heap.ts';
import type { Vocab } from './vocab.ts';

interface Bigram {
  left: number;
  right: number;
  score: number;
  size: number;
}

const utf8 = new TextEncoder();
const HEX = '0123456789ABCDEF';

/**
 * SentencePiece-style BPE as llama.cpp runs it for 'llama' vocabs (`llm_tokenizer_spm_session`):
 * start from single characters and repeatedly merge the adjacent pair whose concatenation is a vocab
 * entry with the highest score (leftmost on ties). Pieces that end up outside the vocab are undone
 * along the recorded merges, and whatever is still unknown falls back to <0xXX> byte tokens.
 * Spaces arrive already escaped as U+2581.
 */
export class SpmEncoder {
  constructor(private readonly vocab: Vocab) {}

  encode(text: string, out: number[]): void {
    const { vocab } = this;
    const sym = Array.from(text); // one symbol per code point
    const prev = sym.map((_, i) => i - 1);
    const next = sym.map((_, i) => (i + 1 < sym.length ? i + 1 : -1));
    // Byte length of each live symbol; the stale check compares sizes, as llama.cpp does.
    const size = sym.map((s) => utf8.encode(s).length);
    const revMerge = new Map<string, readonly [number, number]>();
    const heap = new Heap<Bigram>((a, b) => a.score > b.score || (a.score === b.score && a.left < b.left));

    const tryBigram = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const t = sym[left] + sym[right];
      const id = vocab.tokenToId.get(t);
      if (id === undefined) return;
      heap.push({ left, right, score: vocab.scores[id], size: size[left] + size[right] });
      revMerge.set(t, [left, right]); // later pairs with the same text overwrite, as in llama.cpp
    };
    for (let i = 1; i < sym.length; i++) tryBigram(i - 1, i);

    const stale = (b: Bigram) => size[b.left] === 0 || size[b.right] === 0 || size[b.left] + size[b.right] !== b.size;
    for (let b = heap.pop(); b; b = heap.pop()) {
      if (stale(b)) continue;
      sym[b.left] += sym[b.right];
      size[b.left] += size[b.right];
      size[b.right] = 0;
      next[b.left] = next[b.right];
      if (next[b.right] >= 0) prev[next[b.right]] = b.left;
      tryBigram(prev[b.left], b.left);
      tryBigram(b.left, next[b.left]);
    }

    // Every merge forms a vocab entry, so in practice only single unknown characters reach the
    // byte fallback; the undo path is kept for duplicate-text vocabs, as llama.cpp keeps it.
    const resegment = (textOf: string, depth = 0): void => {
      const id = vocab.tokenToId.get(textOf);
      if (id !== undefined) {
        out.push(id);
        return;
      }
      const parts = revMerge.get(textOf);
      if (!parts || depth > 64) {
        for (const byte of utf8.encode(textOf)) out.push(this.byteToken(byte));
        return;
      }
      resegment(sym[parts[0]], depth + 1);
      resegment(sym[parts[1]], depth + 1);
    };
    if (sym.length > 0) for (let i = 0; i >= 0; i = next[i]) resegment(sym[i]);
  }

  /** The <0xXX> token for a byte (llama.cpp also accepts the raw one-byte text as a fallback). */
  private byteToken(byte: number): number {
    const id =
      this.vocab.tokenToId.get(`<0x${HEX[byte >> 4]}${HEX[byte & 15]}>`) ?? (byte < 0x80 ? this.vocab.tokenToId.get(String.fromCharCode(byte)) : undefined);
    if (id === undefined) throw new Error(`no byte-fallback token for byte 0x${byte.toString(16)}`);
    return id;
  }
}
