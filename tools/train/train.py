#!/usr/bin/env python3
"""Train the bundled SparseScope model (GGUF arch `deepseek32`) on the KJV + recall passages.

  prep + train + dump:  python3 tools/train/train.py --out tools/train/out/run
  export to GGUF:        npx tsx src/tools/export-trained/main.ts tools/train/out/run/dump public/models/<f>.gguf
  figures for the card:  python3 tools/train/train.py --eval public/models/<f>.gguf
  smoke test:            sh tools/train/smoke.sh

Stages (DeepSeek-V3.2 report): (1) dense pre-training of the main model, the indexer unused;
(2) dense warm-up: only the indexer learns, KL(main attention summed over heads, L1-normalized ||
indexer softmax); (3) sparse: top-k selection from the indexer, LM loss for the main model, KL on
the selected set for the indexer, whose inputs are detached from the main graph.
Runs on CPU with torch 1.13 and on CUDA with PyTorch 2.x; checkpoints so a cut run can still be dumped.
"""
import argparse
import json
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("SKIP: PyTorch is not installed (apt-get install python3-torch libopenblas0-pthread); nothing trained.")
    sys.exit(3)

import data as D
import export as X
from model import Config, Model, rms_norm


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ---------------------------------------------------------------- batches
class Batches:
    def __init__(self, tok, verses, ctx, p_recall, seed, p_copy=0.0, max_facts=3, p_rcopy=0.0):
        self.ctx, self.p_recall, self.p_copy, self.max_facts = ctx, p_recall, p_copy, max_facts
        self.p_rcopy = p_rcopy
        self.stream = [t for v in verses for t in v]
        self.maker = D.RecallMaker(tok, verses)
        self.bos = tok.bos_id
        self.rng = random.Random(seed)

    def sample(self):
        n = self.ctx + 1
        r = self.rng.random()
        if r < self.p_recall:
            return self.maker.train_sample(self.rng, n, self.max_facts)
        if r < self.p_recall + self.p_copy:
            return self.maker.copy_sample(self.rng, n)
        if r < self.p_recall + self.p_copy + self.p_rcopy:
            return self.maker.random_copy_sample(self.rng, n)
        i = self.rng.randrange(len(self.stream) - n)
        return [self.bos] + self.stream[i:i + n - 1], [], []

    def batch(self, B, ans_weight, device):
        """(inputs [B,ctx], targets [B,ctx], loss weights [B,ctx], copy pairs [(b, q, k)])."""
        seqs, w, pairs = [], torch.ones(B, self.ctx), []
        for b in range(B):
            s, ans, cp = self.sample()
            seqs.append(s)
            for p in ans:
                w[b, p - 1] = ans_weight  # target index p-1 predicts token p
            for q, k in cp:
                # the copy head's target holds the token that comes next: what the pair promises
                assert k <= q and s[q + 1] == s[k] and s[q] == s[k - 1], (q, k)
            pairs += [(b, q, k) for q, k in cp if q < self.ctx]
        t = torch.tensor(seqs, dtype=torch.long)
        return t[:, :-1].to(device), t[:, 1:].to(device), w.to(device), pairs


# Attention supervision (--attn-sup): two heads are told where to look, so the copy circuit a recall passage
# needs forms in minutes instead of waiting out the long plateau before an induction head appears (the base
# run's 2,424 GPU steps never left it; with these targets the heads attend as told within ~100 steps). A
# previous-token head attends from t to t-1; a copy head attends from a query token to the token that
# followed its earlier occurrence (the pairs from data.py).
PREV_TOKEN_HEAD = (0, 0)  # (layer, head)
COPY_HEAD = (1, 0)


def attention_supervision(stats, pairs, device):
    """-mean log p of the previous-token head at t-1, plus -mean log p of the copy head at each pair's key.
    stats: per layer p [B,H,T,T] (from Model.forward); pairs: [(b, q, k)]."""
    layer, head = PREV_TOKEN_HEAD
    prev = -torch.log(stats[layer][:, head].diagonal(offset=-1, dim1=-2, dim2=-1).clamp_min(1e-9)).mean()
    if not pairs:
        return prev
    b, q, k = (torch.tensor(v, device=device) for v in zip(*pairs))
    layer, head = COPY_HEAD
    return prev - torch.log(stats[layer][b, head, q, k].clamp_min(1e-9)).mean()


def val_windows(verses, bos, ctx):
    stream = [t for v in verses for t in v]
    n = ctx - 1
    return [[bos] + stream[i:i + n + 1] for i in range(0, len(stream) - n - 1, n + 1)]


# ---------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate(model, tok, verses_val, passages, device, mode_list=("sparse", "dense"), max_windows=None,
             max_passages=None):
    model.eval()
    c = model.c
    res = {}
    wins = val_windows(verses_val, tok.bos_id, c.ctx)[:max_windows]
    for mode in mode_list:
        nll, n = 0.0, 0
        recall = [[0.0, 0] for _ in range(c.layers)]
        loads = [torch.zeros(c.experts) for _ in model.moe_layers()]
        for w in wins:
            ids = torch.tensor([w], device=device)
            logits, _ = model(ids[:, :-1], "sparse" if mode == "sparse" else "dense")
            nll += F.cross_entropy(logits[0], ids[0, 1:], reduction="sum").item()
            n += ids.shape[1] - 1
            if mode == "sparse":
                for j, m in enumerate(model.moe_layers()):
                    loads[j] += m.load
                for li, r in enumerate(indexer_recall(model, ids[:, :-1])):
                    recall[li][0] += r[0]
                    recall[li][1] += r[1]
        res[mode] = {"val_loss": nll / n, "ppl": math.exp(nll / n), "tokens": n}
        if mode == "sparse":
            res["indexer_recall"] = [s / max(k, 1) for s, k in recall]
            res["expert_load"] = [(l / l.sum()).tolist() for l in loads]
    for mode in mode_list:
        ok, tot = 0, 0
        for p in passages[:max_passages]:
            ids = torch.tensor([p["prompt"] + p["answer"]], device=device)
            logits, _ = model(ids, "sparse" if mode == "sparse" else "dense")
            pred = logits[0].argmax(-1).tolist()
            L = len(p["prompt"])
            good = all(pred[L - 1 + j] == a for j, a in enumerate(p["answer"]))
            nxt = tok.tokens[pred[-1]]
            good = good and not any(ch.isdigit() for ch in nxt)  # the number must end there
            ok += good
            tot += 1
        res[mode]["recall_acc"] = ok / max(tot, 1)
        res[mode]["recall_n"] = tot
    model.train()
    return res


@torch.no_grad()
def indexer_recall(model, ids):
    """Per layer: share of the dense attention mass (summed over heads, L1-normalized) that falls inside
    the indexer's top-k, over query positions with more than top_k visible tokens. Returns [(sum, count)]."""
    c = model.c
    T = ids.shape[1]
    if T <= c.top_k:
        return [(0.0, 0)] * c.layers
    probe = []
    hooks = [b.attn.register_forward_hook(lambda mod, inp, out, li=li: probe.append((li, inp))) for li, b in
             enumerate(model.blocks)]
    model(ids, "dense")
    for h in hooks:
        h.remove()
    out = []
    for li, (x, rope, _, _) in sorted(probe, key=lambda z: z[0]):
        a = model.blocks[li].attn
        st = []
        a(x, rope, "dense", st)
        p = st[0].sum(1)
        p = p / p.sum(-1, keepdim=True)                                              # [B,T,T]
        cq = torch.nn.functional.linear(x, a.q_a.weight)
        cq = rms_norm(cq, a.q_a_norm, c.eps)
        score = a.indexer(x, cq, *rope)
        causal = torch.ones(T, T, dtype=torch.bool, device=ids.device).tril()
        score = score.masked_fill(~causal, float("-inf"))
        idx = score.topk(c.top_k, dim=-1).indices
        mass = p.gather(-1, idx).sum(-1)[:, c.top_k:]                               # rows with > top_k visible
        out.append((mass.sum().item(), mass.numel()))
    return out


# ---------------------------------------------------------------- training
def lr_at(step, total, peak, warm, frac=None):
    if step < warm:
        return peak * (step + 1) / warm
    f = (step - warm) / max(1, total - warm) if frac is None else frac
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, f))))


def save_ckpt(path, model, opt, state):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict() if opt else None, "state": state,
                "config": model.c.to_dict()}, tmp)
    os.replace(tmp, path)


def train(args):
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data_dir = os.path.join(args.out, "data")
    if not os.path.exists(os.path.join(data_dir, "recall_val.json")):
        D.prep(args.out, vocab_size=args.vocab, ctx=args.ctx, n_eval=args.eval_passages, log=log,
               limit_verses=args.limit_verses)
    tok, verses, passages = D.load_prepped(args.out)
    c = Config(vocab=len(tok.tokens), dim=args.dim, layers=args.layers, ctx=args.ctx, ff=args.ff, ffx=args.ffx,
               q_lora=args.q_lora, kv_lora=args.kv_lora, heads=args.heads, top_k=args.top_k)
    model = Model(c).to(device)
    if args.init_from and not (args.resume and os.path.exists(os.path.join(args.out, "ckpt.pt"))):
        src, _ = X.read_model(args.init_from)
        got, want = src.c.to_dict(), c.to_dict()
        if any(not math.isclose(got[k], want[k], rel_tol=1e-5) for k in want):
            raise SystemExit(f"--init-from {args.init_from}: its config differs from this run's")
        model.load_state_dict(src.state_dict())
        log(f"initialized from {args.init_from}")
    for b in model.blocks:
        b.drop = args.dropout
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {n_params / 1e6:.2f} M parameters, {device}, config {json.dumps(c.to_dict())}")
    stages = [("dense", args.dense_steps), ("warmup", args.warmup_steps), ("sparse", args.sparse_steps)]
    ckpt = os.path.join(args.out, "ckpt.pt")
    state = {"stage": 0, "step": 0, "elapsed": 0.0, "history": []}
    opt_state = None
    if args.resume and os.path.exists(ckpt):
        ck = torch.load(ckpt, map_location=device)
        model.load_state_dict(ck["model"])
        state, opt_state = ck["state"], ck["opt"]
        log(f"resumed at stage {stages[state['stage']][0]} step {state['step']}")
    train_ctx = args.train_ctx or c.ctx
    state["args"] = vars(args)  # the training invocation's settings, for the dump (a --dump-only run has its own)
    batches = Batches(tok, verses["train"], train_ctx, args.p_recall, args.seed + state["stage"] * 1000 + state["step"],
                      args.p_copy, args.max_facts, args.p_random_copy)
    t_start = time.time() - state["elapsed"]
    deadline = t_start + args.max_minutes * 60 if args.max_minutes else None
    while state["stage"] < len(stages):
        mode, n_steps = stages[state["stage"]]
        main = [p for n, p in model.named_parameters() if ".indexer." not in n]
        for p in main:
            p.requires_grad_(mode != "warmup")
        params = model.indexer_params() if mode == "warmup" else (
            main if mode == "dense" else list(model.parameters()))
        decay = [p for p in params if p.dim() >= 2]
        other = [p for p in params if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                                lr=args.lr, betas=(0.9, 0.95))
        if opt_state is not None:
            opt.load_state_dict(opt_state)
            opt_state = None
        peak = args.lr if mode == "dense" else (args.idx_lr if mode == "warmup" else args.lr * 0.3)
        warm = 50 if mode == "dense" else 10
        # a stage sized by wall time (on a GPU lease the budget is minutes, not steps): lr follows time
        minutes = {"dense": args.dense_minutes, "warmup": args.warmup_minutes, "sparse": args.sparse_minutes}[mode]
        timed = minutes > 0
        if timed:
            n_steps = 10 ** 9
        stage_t0 = state.get("stage_t0", 0.0)
        while state["step"] < n_steps:
            s = state["step"]
            frac = (state["elapsed"] - stage_t0) / (60 * minutes) if timed else None
            if timed and frac >= 1.0:
                log(f"{mode} stage: {minutes} min reached after {s} steps")
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(s, n_steps, peak, warm, frac)
            x, y, w, pairs = batches.batch(args.batch, args.ans_weight, device)
            supervise = args.attn_sup > 0 and mode == "dense"
            stats = [] if supervise else None
            logits, kl = model(x, mode, stats)
            lm = (F.cross_entropy(logits.reshape(-1, c.vocab), y.reshape(-1), reduction="none") * w.reshape(-1)
                  ).sum() / w.sum()
            loss = kl if mode == "warmup" else (lm + kl if kl is not None else lm)
            sup = attention_supervision(stats, pairs, device) if supervise else None
            if sup is not None:
                loss = loss + args.attn_sup * sup
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            if mode != "warmup":
                for m in model.moe_layers():
                    m.update_bias(args.bias_rate)
            state["step"] += 1
            state["elapsed"] = time.time() - t_start
            if state["step"] % args.log_every == 0 or state["step"] == n_steps:
                tps = (state["step"] * args.batch * train_ctx) / max(1e-9, state["elapsed"] - stage_t0)
                rec = {"stage": mode, "step": state["step"], "lm": round(lm.item(), 4),
                       "kl": round(kl.item(), 4) if kl is not None else None,
                       "sup": round(sup.item(), 4) if sup is not None else None, "min": round(state["elapsed"] / 60, 2), "lr": opt.param_groups[0]["lr"]}
                state["history"].append(rec)
                log(f"{mode} {state['step']}/{f'{minutes} min' if timed else n_steps} lm {lm.item():.3f}" +
                    (f" kl {kl.item():.3f}" if kl is not None else "") +
                    (f" attn-sup {sup.item():.3f}" if sup is not None else "") + f" lr {opt.param_groups[0]['lr']:.2e}"
                    f" ~{tps:.0f} tok/s {state['elapsed'] / 60:.1f} min")
            if state["step"] % args.ckpt_every == 0:
                save_ckpt(ckpt, model, opt, state)
            if state["step"] % args.eval_every == 0 and mode != "warmup":
                r = evaluate(model, tok, verses["val"], passages, device, (mode,), max_windows=8, max_passages=30)
                log(f"eval {mode}: val {r[mode]['val_loss']:.3f} recall-acc {r[mode]['recall_acc']:.2f}" +
                    (f" idx-recall {[round(v, 3) for v in r['indexer_recall']]}" if mode == "sparse" else ""))
            if args.stop_at_step and state["step"] >= args.stop_at_step and mode == "dense":
                log(f"--stop-at-step {args.stop_at_step}: checkpointed, stopping (continue with --resume)")
                save_ckpt(ckpt, model, opt, state)
                return model, tok, state, n_params
            if deadline and time.time() > deadline:
                log("time budget reached: stopping early")
                save_ckpt(ckpt, model, opt, state)
                return model, tok, state, n_params
        state.setdefault("steps", {})[mode] = state["step"]
        state["stage"] += 1
        state["step"] = 0
        state["stage_t0"] = state["elapsed"]
        save_ckpt(ckpt, model, None, state)
    return model, tok, state, n_params


def load_ckpt(out):
    ck = torch.load(os.path.join(out, "ckpt.pt"), map_location="cpu")
    model = Model(Config(**ck["config"]))
    model.load_state_dict(ck["model"])
    return model, ck["state"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "out", "run"))
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, a few steps, then dump")
    ap.add_argument("--eval", metavar="GGUF", help="read a GGUF back and print the model card's figures")
    ap.add_argument("--dump-only", action="store_true", help="dump the checkpoint in --out without training")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--final-eval", action="store_true", help="after training, print the full held-out figures")
    ap.add_argument("--cpu", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--q-lora", type=int, default=128)
    ap.add_argument("--kv-lora", type=int, default=64)
    ap.add_argument("--ff", type=int, default=512)
    ap.add_argument("--ffx", type=int, default=128)
    ap.add_argument("--top-k", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--idx-lr", type=float, default=3e-3)
    ap.add_argument("--dense-steps", type=int, default=700)
    ap.add_argument("--dense-minutes", type=float, default=0, help="size the dense stage by time instead of steps")
    ap.add_argument("--warmup-steps", type=int, default=60)
    ap.add_argument("--warmup-minutes", type=float, default=0, help="size the indexer warm-up by time")
    ap.add_argument("--sparse-steps", type=int, default=150)
    ap.add_argument("--sparse-minutes", type=float, default=0, help="size the sparse stage by time")
    ap.add_argument("--p-recall", type=float, default=0.5)
    ap.add_argument("--ans-weight", type=float, default=3.0)
    ap.add_argument("--p-copy", type=float, default=0.0, help="share of repeated-span (induction) sequences")
    ap.add_argument("--p-random-copy", type=float, default=0.0, help="share of random-token repeat sequences")
    ap.add_argument("--init-from", metavar="GGUF", help="start from this model's weights (F32/F16/Q8_0 GGUF)")
    ap.add_argument("--max-facts", type=int, default=3, help="facts (and queries) per recall sequence, 1..N")
    ap.add_argument("--train-ctx", type=int, default=0, help="train on sequences this long (default: --ctx, the "
                    "model's context); with --init-from, fine-tune at a shorter length than the model's")
    ap.add_argument("--attn-sup", type=float, default=0.0, help="weight of the attention supervision (a previous-token "
                    "head and a copy head told where to look) in the dense stage; 0: off")
    ap.add_argument("--dropout", type=float, default=0.0, help="residual-branch dropout while training")
    ap.add_argument("--bias-rate", type=float, default=2e-3)
    ap.add_argument("--max-minutes", type=float, default=0)
    ap.add_argument("--stop-at-step", type=int, default=0, help="stop the dense stage at this step (to change the mix)")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--ckpt-every", type=int, default=25)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-passages", type=int, default=200)
    ap.add_argument("--limit-verses", type=int, default=0)
    ap.add_argument("--name", default="SparseScope KJV 5M")
    ap.add_argument("--card", metavar="MD", help="with --eval: write the model card there")
    ap.add_argument("--prior-run", metavar="JSON", action="append", default=[],
                    help="with --card, repeatable, oldest first: the training record (title, hardware, steps, minutes, "
                    "args) of a run before this one, e.g. tools/train/runs/base.json")
    ap.add_argument("--run-title", default="Training", help="with --card: the heading of the last run's stages")
    ap.add_argument("--card-notes", metavar="MD", help="with --card: a Markdown file appended to the results")
    ap.add_argument("--hardware", default="1 shared core of a 2-core CPU (torch 1.13, 1 thread)")
    args = ap.parse_args()
    if args.smoke:
        args.out = os.path.join(HERE, "out", "smoke") if args.out == ap.get_default("out") else args.out
        args.vocab, args.ctx, args.dim, args.layers, args.heads = 512, 128, 64, 2, 2
        args.q_lora, args.kv_lora, args.ff, args.ffx, args.top_k = 32, 64, 128, 32, 16
        args.batch, args.dense_steps, args.warmup_steps, args.sparse_steps = 2, 3, 2, 3
        args.eval_passages, args.limit_verses, args.log_every, args.eval_every = 8, 3000, 1, 10 ** 9
        args.name = "SparseScope smoke"
    if args.eval:
        return run_eval(args)
    if args.dump_only:
        model, state = load_ckpt(args.out)
        tok, _, _ = D.load_prepped(args.out)
    else:
        model, tok, state, _ = train(args)
        if args.final_eval:
            # the full held-out figures on the trained float model, where it was trained (fast on a GPU);
            # the card's figures come from --eval on the exported file
            _, verses, passages = D.load_prepped(args.out)
            r = evaluate(model, tok, verses["val"], passages, next(model.parameters()).device)
            log("final eval: " + json.dumps({k: r[k] for k in ("sparse", "dense", "indexer_recall")}))
    man = X.dump(model, tok, os.path.join(args.out, "dump"), args.name,
                 extra={"training": {"history": state["history"][-400:], "minutes": state["elapsed"] / 60,
                                     "steps": dict(state.get("steps", {}), **(
                                         {["dense", "warmup", "sparse"][state["stage"]]: state["step"]}
                                         if state["stage"] < 3 else {})),
                                     "args": state.get("args", vars(args))}})
    log(f"dumped {len(man['tensors'])} tensors to {os.path.join(args.out, 'dump')}")


def run_eval(args):
    from bpe import Tokenizer
    torch.set_num_threads(args.threads)
    model, meta = X.read_model(args.eval)
    c = model.c
    tok = Tokenizer(meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.merges"])
    if not os.path.exists(os.path.join(args.out, "data", "recall_val.json")):
        D.prep(args.out, vocab_size=len(tok.tokens), ctx=c.ctx, n_eval=args.eval_passages, log=log,
               limit_verses=args.limit_verses)
    tok_p, verses, passages = D.load_prepped(args.out)
    if tok_p.tokens != tok.tokens:
        raise SystemExit(f"the tokenizer in {args.eval} differs from the one prepared in {args.out}")
    r = evaluate(model, tok, verses["val"], passages, torch.device("cpu"))
    # train-split loss on as many windows as the held-out split has, evenly spaced through the train text
    n_val = len(val_windows(verses["val"], tok.bos_id, c.ctx))
    tw = val_windows(verses["train"], tok.bos_id, c.ctx)
    tw = tw[::max(1, len(tw) // n_val)][:n_val]
    with torch.no_grad():
        nll = sum(F.cross_entropy(model(torch.tensor([w[:-1]]), "sparse")[0][0], torch.tensor(w[1:]),
                                  reduction="sum").item() for w in tw)
    r["train_loss"] = nll / sum(len(w) - 1 for w in tw)
    n_params = sum(p.numel() for p in model.parameters())
    r["params"] = n_params
    r["answer_tokens"] = sum(len(p["answer"]) for p in passages) / max(1, len(passages))
    r["file"] = {"path": args.eval, "bytes": os.path.getsize(args.eval), "sha256": D.sha256_file(args.eval)}
    ir = r["indexer_recall"]
    print(json.dumps(r, indent=1))
    print(f"train-split KJV loss (sparse): {r['train_loss']:.3f}")
    print(f"\nparams {n_params / 1e6:.2f} M | file {r['file']['bytes']} bytes sha256 {r['file']['sha256']}")
    for mode in ("sparse", "dense"):
        m = r[mode]
        print(f"{mode:6s}: held-out KJV loss {m['val_loss']:.3f} nats/token, perplexity {m['ppl']:.1f} "
              f"({m['tokens']} tokens); recall-passage accuracy {100 * m['recall_acc']:.1f} % ({m['recall_n']})")
    print("indexer recall per layer: " + ", ".join(f"{v:.3f}" for v in ir) + f"; mean {sum(ir) / len(ir):.3f}")
    for j, l in enumerate(r["expert_load"]):
        print(f"expert load, MoE layer {j + c.dense_layers}: " + " ".join(f"{100 * v:.1f}" for v in l) +
              f" % (max/ideal {max(l) * len(l):.2f})")
    if args.card:
        import card
        mp = os.path.join(args.out, "dump", "manifest.json")
        man = json.load(open(mp)) if os.path.exists(mp) else {}
        notes = open(args.card_notes).read() if args.card_notes else ""
        with open(args.card, "w") as f:
            prior = [json.load(open(p)) for p in args.prior_run]
            f.write(card.render(r, meta, man, args.eval, {"hardware": args.hardware, "notes": notes, "prior": prior,
                                                          "title": args.run_title}))
        print(f"wrote {args.card}")


if __name__ == "__main__":
    main()
