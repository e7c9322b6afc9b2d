"""Byte-level BPE (GPT-2 style) trained from scratch, with llama.cpp's 'gpt-2' pre-tokenizer.

The split regex is GPT-2's own; llama.cpp's `tokenizer.ggml.pre = "gpt-2"` uses the same pattern
(src/llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_GPT2). Tokens are stored as GPT-2 "byte-to-unicode"
strings, merges as "left right" strings, exactly what `tokenizer.ggml.model = "gpt2"` expects.
"""
import json
import regex

GPT2_SPLIT = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

BOS = "<|begin_of_text|>"
EOS = "<|end_of_text|>"


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()
U2B = {u: b for b, u in B2U.items()}


def pretokenize(text):
    return GPT2_SPLIT.findall(text)


def train_bpe(text, vocab_size, log=print):
    """Returns (tokens: list[str], merges: list[str]) with 256 byte tokens, merges, then BOS, EOS."""
    counts = {}
    for piece in pretokenize(text):
        counts[piece] = counts.get(piece, 0) + 1
    words = [list(p.encode("utf-8")) for p in counts]
    freq = list(counts.values())
    token_bytes = [bytes([i]) for i in range(256)]
    pair_count, where = {}, {}
    for wi, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] = pair_count.get((a, b), 0) + freq[wi]
            where.setdefault((a, b), set()).add(wi)
    n_merges = vocab_size - 256 - 2
    merges = []
    for m in range(n_merges):
        if not pair_count:
            break
        best = max(pair_count.items(), key=lambda kv: (kv[1], -kv[0][0], -kv[0][1]))[0]
        new_id = len(token_bytes)
        token_bytes.append(token_bytes[best[0]] + token_bytes[best[1]])
        merges.append(best)
        for wi in list(where.get(best, ())):
            w, f = words[wi], freq[wi]
            for a, b in zip(w, w[1:]):  # remove this word's old pairs
                pair_count[(a, b)] -= f
                if pair_count[(a, b)] <= 0:
                    del pair_count[(a, b)]
                s = where.get((a, b))
                if s is not None:
                    s.discard(wi)
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == best[0] and w[i + 1] == best[1]:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[wi] = out
            for a, b in zip(out, out[1:]):
                pair_count[(a, b)] = pair_count.get((a, b), 0) + f
                where.setdefault((a, b), set()).add(wi)
        where.pop(best, None)
        if log and (m + 1) % 1000 == 0:
            log(f"bpe: {m + 1}/{n_merges} merges")
    to_str = lambda bs: "".join(B2U[b] for b in bs)
    tokens = [to_str(t) for t in token_bytes] + [BOS, EOS]
    merge_strs = [f"{to_str(token_bytes[a])} {to_str(token_bytes[b])}" for a, b in merges]
    return tokens, merge_strs


class Tokenizer:
    def __init__(self, tokens, merges):
        self.tokens = tokens
        self.merges = merges
        self.id_of = {t: i for i, t in enumerate(tokens)}
        self.rank = {tuple(m.split(" ")): r for r, m in enumerate(merges)}
        self.bos_id = self.id_of[BOS]
        self.eos_id = self.id_of[EOS]
        self.cache = {}

    @classmethod
    def load(cls, path):
        with open(path) as f:
            d = json.load(f)
        return cls(d["tokens"], d["merges"])

    def save(self, path):
        with open(path, "w") as f:
            json.dump({"tokens": self.tokens, "merges": self.merges}, f)

    def _bpe(self, piece):
        hit = self.cache.get(piece)
        if hit is not None:
            return hit
        syms = [B2U[b] for b in piece.encode("utf-8")]
        while len(syms) > 1:
            best, best_rank = None, None
            for i in range(len(syms) - 1):
                r = self.rank.get((syms[i], syms[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            syms = syms[:best] + [syms[best] + syms[best + 1]] + syms[best + 2:]
        ids = [self.id_of[s] for s in syms]
        self.cache[piece] = ids
        return ids

    def encode(self, text):
        out = []
        for piece in pretokenize(text):
            out.extend(self._bpe(piece))
        return out

    def decode(self, ids):
        bs = bytearray()
        for i in ids:
            t = self.tokens[i]
            if t in (BOS, EOS):
                continue
            bs.extend(U2B[c] for c in t)
        return bs.decode("utf-8", errors="replace")
