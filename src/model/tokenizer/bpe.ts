import { bytesToByteLevel } from './byte-level.ts';
import { Heap } from './heap.ts';
import { codePointsToString, compileSplitRegex, regexSplit } from './regex-split.ts';
import { mergeKey, type Vocab } from './vocab.ts';

interface Pair {
  left: number;
  right: number;
  rank: number;
  text: string;
}

const utf8 = new TextEncoder();

/**
 * Byte-level BPE (llama.cpp `llm_tokenizer_bpe_session`): pre-tokenize with the regexes, map each
 * piece's UTF-8 bytes to the byte-level alphabet, then merge adjacent symbols, always the pair with the
 * lowest merge rank (leftmost on ties), with a heap: O(n log n) per piece.
 */
export class BpeEncoder {
  private readonly regexes;
  private readonly cache = new Map<string, number[]>();

  constructor(private readonly vocab: Vocab) {
    this.regexes = vocab.pre!.regexes.map(compileSplitRegex);
  }

  encode(text: string, out: number[]): void {
    const cps = Array.from(text, (c) => c.codePointAt(0)!);
    for (const piece of regexSplit(cps, this.regexes)) {
      const word = bytesToByteLevel(utf8.encode(codePointsToString(piece)));
      let ids = this.cache.get(word);
      if (!ids) {
        ids = this.encodeWord(word);
        if (this.cache.size < 50_000) this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  private encodeWord(word: string): number[] {
    const { vocab } = this;
    if (vocab.pre!.ignoreMerges) {
      const whole = vocab.tokenToId.get(word);
      if (whole !== undefined) return [whole];
    }
    // One symbol per byte-level character; a linked list so merges are O(1).
    const sym = Array.from(word);
    const prev = sym.map((_, i) => i - 1);
    const next = sym.map((_, i) => (i + 1 < sym.length ? i + 1 : -1));
    const heap = new Heap<Pair>((a, b) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left));
    const tryPair = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const rank = vocab.mergeRanks.get(mergeKey(sym[left], sym[right]));
      if (rank !== undefined) heap.push({ left, right, rank, text: sym[left] + sym[right] });
    };
    for (let i = 1; i < sym.length; i++) tryPair(i - 1, i);

    for (let p = heap.pop(); p; p = heap.pop()) {
      const { left, right } = p;
      // Stale entry: one side was merged away or changed since the pair was queued.
      if (sym[left] === '' || sym[right] === '' || sym[left] + sym[right] !== p.text) continue;
      sym[left] = p.text;
      sym[right] = '';
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      tryPair(prev[left], left);
      tryPair(left, next[left]);
    }

    const ids: number[] = [];
    for (let i = 0; i >= 0 && i < sym.length; i = next[i]) {
      const s = sym[i];
      const id = vocab.tokenToId.get(s);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      // A merge produced a string that is not in the vocab. llama.cpp then looks up each UTF-8 byte
      // of the byte-level string as a one-byte token; only ASCII bytes can match, the rest are
      // dropped. We do the same so ids stay identical; sane vocabs never reach this.
      for (const b of utf8.encode(s)) {
        const byteId = b < 0x80 ? vocab.tokenToId.get(String.fromCharCode(b)) : undefined;
        if (byteId !== undefined) ids.push(byteId);
      }
    }
    return ids;
  }
}
