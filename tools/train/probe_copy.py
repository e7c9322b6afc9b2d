#!/usr/bin/env python3
"""Does a model copy? The figures behind the card's "Why the recall passages fail".

  python3 tools/train/probe_copy.py <model.gguf> [--data tools/train/out/run]   # the shipped model
  python3 tools/train/probe_copy.py --toy [--steps 300]                        # the same code, 2 layers, copy task only

For a GGUF: mean loss (nats/token) of a run of random tokens and of a scripture span, the first time and
when repeated later in the same sequence (an induction circuit makes the repeat cheap), and greedy
recall accuracy for one fact at gaps of 0 to 400 tokens of scripture, with dense and with sparse attention.
--toy trains the model code with 2 dense layers on nothing but random-token repeats (batch 32 × 65
tokens) and prints the loss of the first and the repeated half every 100 steps. The repeat always
starts 32 tokens after the original, so the toy can copy by position alone (attend 31 tokens back):
it shows the heads can copy a token, not that they find where to copy from by content.
"""
import argparse
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch
import torch.nn.functional as F

import data as D
import export as X
from model import Config, Model


def nll_of(model, seq):
    with torch.no_grad():
        logits, _ = model(torch.tensor([seq]), "dense")
    return F.cross_entropy(logits[0, :-1], torch.tensor(seq[1:]), reduction="none")


def probe_gguf(path, data_dir, n=20, seed=7):
    model, _ = X.read_model(path)
    model.eval()
    tok, verses, _ = D.load_prepped(data_dir)
    mk = D.RecallMaker(tok, verses["val"])
    rng = random.Random(seed)
    for kind in ("random tokens", "scripture"):
        first, again = 0.0, 0.0
        for _ in range(n):
            span = ([rng.randrange(256, len(tok.tokens) - 2) for _ in range(30)] if kind == "random tokens"
                    else mk.filler.take(rng, 30, at_least=True)[:30])
            seq = [tok.bos_id] + span + mk.filler.take(rng, 100, at_least=True) + span
            nll = nll_of(model, seq)
            first += nll[:30].mean().item() / n           # predicting span[0..29] the first time
            again += nll[-29:].mean().item() / n          # span[1..29] when repeated
        print(f"{kind:13s}: {first:.2f} nats/token the first time, {again:.2f} repeated 100+ tokens later")
    for gap in (0, 100, 200, 300, 400):
        ok = {"dense": 0, "sparse": 0}
        for _ in range(n):
            c, t, num = mk.fact(rng)
            full, q, ans, _ = mk.parts(c, t, num)
            seq = [tok.bos_id] + full + mk.filler.take(rng, gap, at_least=True) + q + ans
            L = len(seq) - len(ans)
            for mode in ok:
                with torch.no_grad():
                    pred = model(torch.tensor([seq]), mode)[0][0].argmax(-1).tolist()
                ok[mode] += [pred[L - 1 + j] for j in range(len(ans))] == ans
        print(f"recall, one fact, gap {gap:3d}: dense {ok['dense']}/{n}, sparse top-{model.c.top_k} {ok['sparse']}/{n}")


def toy(steps, seed=0):
    torch.manual_seed(seed)
    c = Config(vocab=4096, dim=128, layers=2, dense_layers=2, heads=4, q_lora=64, kv_lora=64, ff=256, ctx=64, top_k=64)
    model = Model(c)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    t0 = time.time()
    for step in range(1, steps + 1):
        r = torch.randint(300, 4000, (32, 32))
        x = torch.cat([torch.ones(32, 1, dtype=torch.long), r, r], 1)    # BOS, span, span: [32, 65]
        logits, _ = model(x[:, :-1], "dense")
        nll = F.cross_entropy(logits.reshape(-1, c.vocab), x[:, 1:].reshape(-1), reduction="none").view(32, -1)
        opt.zero_grad()
        nll.mean().backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step}: first half {nll[:, :32].mean():.2f}, repeated half {nll[:, 33:].mean():.2f} "
                  f"nats/token ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf", nargs="?")
    ap.add_argument("--data", default=os.path.join(HERE, "out", "run"), help="a --out folder holding data/")
    ap.add_argument("--toy", action="store_true")
    ap.add_argument("--steps", type=int, default=300)
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.toy:
        toy(a.steps)
    elif a.gguf:
        probe_gguf(a.gguf, a.data)
    else:
        ap.error("give a GGUF or --toy")
