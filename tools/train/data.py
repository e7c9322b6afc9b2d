"""Corpus: the KJV Bible (public domain, Debian `bible-kjv-text`) plus generated long-range recall passages.

prep() writes everything the trainer needs under <out>/data: the tokenizer, the verse token lists of
the train and held-out splits, and a fixed set of held-out recall passages. The KJV text travels with
the script as data/kjv.tsv.xz (book, chapter, verse, text); when it is absent it is rebuilt from the
Debian package with the `bible` tool.
"""
import hashlib
import json
import lzma
import os
import pickle
import random
import re
import shutil
import subprocess

from bpe import Tokenizer, train_bpe

HERE = os.path.dirname(os.path.abspath(__file__))
KJV_XZ = os.path.join(HERE, "data", "kjv.tsv.xz")
HOLDOUT_EVERY = 25  # every 25th chapter (offset 12) is held out: 4 % of the text, spread over the books

COLORS = ["blue", "red", "green", "white", "black", "gold", "silver", "brown", "grey", "pink", "purple", "orange"]
THINGS = ["door", "box", "gate", "chest", "room", "tower", "wall", "ship", "cart", "well"]


def dump_kjv():
    """Verses as (book, chapter, verse, text) from `bible` (Debian bible-kjv + bible-kjv-text)."""
    if shutil.which("bible") is None:
        raise SystemExit("neither tools/train/data/kjv.tsv.xz nor the `bible` tool is present: "
                         "apt-get install bible-kjv bible-kjv-text")
    raw = subprocess.run(["bible", "-l0", "Gen1:1-Rev22:21"], capture_output=True, text=True, check=True).stdout
    rows, book, chap = [], None, None
    for line in raw.splitlines():
        m = re.match(r"^(\S.*) (\d+)$", line)
        if m:
            book, chap = m.group(1), int(m.group(2))
            continue
        m = re.match(r"^\s+(\d+) (.*)$", line)
        if m:
            rows.append((book, chap, int(m.group(1)), " ".join(m.group(2).split())))
    return rows


def load_kjv():
    if os.path.exists(KJV_XZ):
        with lzma.open(KJV_XZ, "rt", encoding="utf-8") as f:
            rows = [l.rstrip("\n").split("\t") for l in f]
        return [(b, int(c), int(v), t) for b, c, v, t in rows]
    rows = dump_kjv()
    os.makedirs(os.path.dirname(KJV_XZ), exist_ok=True)
    with lzma.open(KJV_XZ, "wt", encoding="utf-8", preset=9) as f:
        for r in rows:
            f.write("\t".join(map(str, r)) + "\n")
    return rows


def split_verses(rows):
    """Train / held-out verse texts (each ending in a newline), split by whole chapters."""
    train, val, chap_index, last = [], [], -1, None
    for b, c, _, t in rows:
        if (b, c) != last:
            chap_index, last = chap_index + 1, (b, c)
        (val if chap_index % HOLDOUT_EVERY == 12 else train).append(t + "\n")
    return train, val


def fact_line(color, thing, number):
    return f"The key of the {color} {thing} is {number}.\n"


def query_prompt(color, thing):
    return f"The key of the {color} {thing} is"


class Filler:
    """Whole verses (token lists) taken in order from a random place in one split."""

    def __init__(self, verse_tokens):
        self.v = verse_tokens

    def take(self, rng, n_tokens, at_least=False):
        """Whole verses: at most n_tokens (or, with at_least, the fewest reaching n_tokens)."""
        out, i = [], rng.randrange(len(self.v))
        while len(out) < n_tokens:
            nxt = self.v[i]
            if not at_least and len(out) + len(nxt) > n_tokens:
                break
            out.extend(nxt)
            i = (i + 1) % len(self.v)
        return out

    def pad(self, rng, n_tokens):
        """Exactly n_tokens (the last verse cut): only for the end of a training sequence."""
        return self.take(rng, n_tokens, at_least=True)[:n_tokens]


class RecallMaker:
    def __init__(self, tok, verse_tokens):
        self.tok, self.filler = tok, Filler(verse_tokens)

    def fact(self, rng):
        color, thing = rng.choice(COLORS), rng.choice(THINGS)
        return color, thing, str(rng.randrange(1000, 10000))

    def parts(self, color, thing, number):
        """(fact tokens, query tokens, answer tokens); fact line and query+answer line tokenize alike."""
        full = self.tok.encode(fact_line(color, thing, number))
        q = self.tok.encode(query_prompt(color, thing))
        assert full[:len(q)] == q
        ans = self.tok.encode(" " + number)
        assert full[len(q):len(q) + len(ans)] == ans
        return full, q, ans, full[len(q) + len(ans):]

    def _repeat_sample(self, rng, length, span_of):
        """BOS, scripture, a span, scripture, the same span again, padded to `length` tokens. Returns
        (tokens, positions of the repeat after its first token, copy pairs as in train_sample)."""
        while True:
            span = span_of()
            head = self.filler.take(rng, rng.randrange(0, 60))
            gap = self.filler.take(rng, rng.randrange(0, max(1, length - 1 - len(head) - 2 * len(span))))
            seq = [self.tok.bos_id] + head + span + gap
            first = 1 + len(head)
            rep = list(range(len(seq) + 1, len(seq) + len(span)))
            pairs = [(len(seq) + i, first + i + 1) for i in range(len(span) - 1)]
            seq += span
            if len(seq) <= length:
                return seq + self.filler.pad(rng, length - len(seq)), rep, pairs

    def copy_sample(self, rng, length):
        """Induction practice: a run of whole verses, then the same run again later; `length` tokens.
        The repeat is not weighted (the model may predict memorized scripture without copying)."""
        seq, _, pairs = self._repeat_sample(rng, length, lambda: self.filler.take(rng, rng.randrange(20, 120), at_least=True))
        return seq, [], pairs

    def random_copy_sample(self, rng, length):
        """Induction practice on tokens the model cannot have memorized: a span of random tokens, scripture,
        the same span again; `length` tokens. Returns (tokens, positions of the repeat after its first
        token, copy pairs), so the repeat is weighted like recall answers."""
        lo, hi = 256, len(self.tok.tokens) - 2  # no raw bytes, no special tokens
        return self._repeat_sample(rng, length, lambda: [rng.randrange(lo, hi) for _ in range(rng.randrange(16, 64))])

    def train_sample(self, rng, length, max_facts=3):
        """BOS + filler + 1..max_facts facts ... gap ... their queries with answers + filler; `length` tokens.
        Returns (tokens, answer positions, copy pairs): positions index the tokens list; a copy pair
        (q, k) says that the token after q is the token at k (train.py's --attn-sup)."""
        while True:
            n = rng.randrange(1, max_facts + 1)
            facts, seen = [], set()
            while len(facts) < n:
                c, t, num = self.fact(rng)
                if (c, t) not in seen:
                    seen.add((c, t))
                    facts.append(self.parts(c, t, num))
            seq = [self.tok.bos_id] + self.filler.take(rng, rng.randrange(0, 40))
            fact_at = []
            for f in facts:
                fact_at.append(len(seq))
                seq += f[0] + self.filler.take(rng, rng.randrange(0, 40))
            q_total = sum(len(f[0]) for f in facts) + 20 * (n - 1)
            room = length - len(seq) - q_total
            if room < 0:
                continue
            seq += self.filler.take(rng, rng.randrange(0, room + 1))
            ans_pos, pairs = [], []
            order = list(range(n))
            rng.shuffle(order)
            for k, j in enumerate(order):
                full, q, ans, rest = facts[j]
                if k > 0:
                    seq += self.filler.take(rng, rng.randrange(0, 21))
                # the query line repeats its fact line token for token: at the query's i-th token the copy
                # head should look at the fact's (i+1)-th, the token to say next
                pairs += [(len(seq) + i, fact_at[j] + i + 1) for i in range(len(q) + len(ans) - 1)]
                seq += q
                ans_pos += list(range(len(seq), len(seq) + len(ans)))
                seq += ans + rest
            if len(seq) > length:
                continue
            seq += self.filler.pad(rng, length - len(seq))
            return seq, ans_pos, pairs

    def eval_passage(self, rng, min_gap, ctx):
        """BOS, a short prefix, one fact, >= min_gap tokens of scripture, the query. Fits in ctx with its answer."""
        while True:
            c, t, num = self.fact(rng)
            full, q, ans, _ = self.parts(c, t, num)
            seq = [self.tok.bos_id] + self.filler.take(rng, rng.randrange(0, 20)) + full
            gap = self.filler.take(rng, min_gap, at_least=True)
            if len(seq) + len(gap) + len(q) + len(ans) > ctx:
                continue
            return {"prompt": seq + gap + q, "answer": ans, "answer_text": " " + num,
                    "gap": len(gap), "color": c, "thing": t}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def prep(out_dir, vocab_size=4096, ctx=512, n_eval=200, seed=1234, log=print, limit_verses=0):
    d = os.path.join(out_dir, "data")
    os.makedirs(d, exist_ok=True)
    rows = load_kjv()
    if limit_verses:
        rows = rows[:limit_verses]
    train_v, val_v = split_verses(rows)
    log(f"kjv: {len(rows)} verses; train {len(train_v)}, held-out {len(val_v)} "
        f"({sum(map(len, val_v)) / 1e3:.0f} kB); source sha256 {sha256_file(KJV_XZ)[:16]}")
    rng = random.Random(seed)
    facts = "".join(fact_line(rng.choice(COLORS), rng.choice(THINGS), rng.randrange(1000, 10000))
                    for _ in range(20000 if not limit_verses else 500))
    tokens, merges = train_bpe("".join(train_v) + facts, vocab_size, log=log)
    tok = Tokenizer(tokens, merges)
    tok.save(os.path.join(d, "tokenizer.json"))
    train_t = [tok.encode(v) for v in train_v]
    val_t = [tok.encode(v) for v in val_v]
    n_train, n_val = sum(map(len, train_t)), sum(map(len, val_t))
    log(f"tokens: train {n_train}, held-out {n_val}; "
        f"{sum(map(len, train_v)) / n_train:.2f} bytes/token")
    with open(os.path.join(d, "verses.pkl"), "wb") as f:
        pickle.dump({"train": train_t, "val": val_t}, f)
    maker = RecallMaker(tok, val_t)
    erng = random.Random(seed + 1)
    min_gap = 400 if ctx >= 512 else ctx // 2
    passages = [maker.eval_passage(erng, min_gap, ctx) for _ in range(n_eval)]
    with open(os.path.join(d, "recall_val.json"), "w") as f:
        json.dump(passages, f)
    log(f"recall: {n_eval} held-out passages, gap >= {min_gap} tokens, answers of "
        f"{sum(len(p['answer']) for p in passages) / n_eval:.2f} tokens on average")
    return tok


def load_prepped(out_dir):
    d = os.path.join(out_dir, "data")
    tok = Tokenizer.load(os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "verses.pkl"), "rb") as f:
        verses = pickle.load(f)
    with open(os.path.join(d, "recall_val.json")) as f:
        passages = json.load(f)
    return tok, verses, passages
