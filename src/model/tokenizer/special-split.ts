import { Attr, type Vocab } from './vocab.ts';

/** A run of text to pre-tokenize, or a special token already recognised. */
export type Fragment = { readonly text: string } | { readonly id: number };

/**
 * Cut special tokens out of the text before pre-tokenization (llama.cpp `tokenizer_st_partition`).
 * Each special token, longest first, is searched in every text fragment still left, and every
 * occurrence becomes its own fragment. Without parseSpecial, control and unknown tokens are left as
 * text (so "<｜begin▁of▁sentence｜>" typed by a user is just characters), but user-defined tokens are
 * still cut out: Hugging Face tokenizers treat added tokens that way.
 */
export function splitSpecial(vocab: Vocab, text: string, parseSpecial: boolean): Fragment[] {
  let frags: Fragment[] = text.length > 0 ? [{ text }] : [];
  for (const id of vocab.specialIds) {
    if (!parseSpecial && vocab.attrs[id] & (Attr.CONTROL | Attr.UNKNOWN)) continue;
    const needle = vocab.tokens[id];
    const next: Fragment[] = [];
    for (const f of frags) {
      if (!('text' in f) || !f.text.includes(needle)) {
        next.push(f);
        continue;
      }
      let at = 0;
      for (let hit = f.text.indexOf(needle); hit >= 0; hit = f.text.indexOf(needle, at)) {
        if (hit > at) next.push({ text: f.text.slice(at, hit) });
        next.push({ id });
        at = hit + needle.length;
      }
      if (at < f.text.length) next.push({ text: f.text.slice(at) });
    }
    frags = next;
  }
  return frags;
}
