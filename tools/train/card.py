"""Renders public/models/MODEL.md from --eval's figures (measured on the shipped GGUF) and the dump's
training record. Nothing in the card is typed by hand except the notes passed in `extra`."""
import os


def _pct(v):
    return f"{100 * v:.1f} %"


def render(res, meta, manifest, gguf_path, extra=None):
    """extra: hardware (where the last run trained), title (of the last run), notes (Markdown), prior (the
    training records of the runs before the last, oldest first, each starting from the one before: title,
    hardware, steps, minutes, args)."""
    a = "deepseek32."
    g = lambda k: meta[a + k]
    extra = extra or {}
    tr = manifest.get("training", {}) if manifest else {}
    prior = extra.get("prior") or []
    hist = tr.get("history", [])
    steps = tr.get("steps", {})
    targs = tr.get("args", {})
    name = os.path.basename(gguf_path)
    f = res["file"]
    sp, de = res["sparse"], res["dense"]
    ir = res["indexer_recall"]
    last_lm = [h["lm"] for h in hist if h["stage"] == "sparse"][-5:] or [h["lm"] for h in hist][-5:]
    train_loss = sum(last_lm) / max(1, len(last_lm))
    train_ctx = targs.get("train_ctx") or g("context_length")
    L = []
    w = L.append
    w(f"# {meta.get('general.name', name)}\n")
    w(f"`{name}`: a {res['params'] / 1e6:.2f} M-parameter DeepSeek-V3.2-style model (GGUF arch `deepseek32`: "
      "MLA + MoE + DSA lightning indexer) trained from scratch on the King James Bible, small enough to ship with "
      "SparseScope and to show what the indexer picks. It is a toy language model, not an assistant.\n")
    w(f"- file: {f['bytes']:,} bytes, Q8_0 (norms, router, biases and `indexer.proj` in F32), "
      f"sha256 `{f['sha256']}`")
    w("- checked with llama.cpp through node-llama-cpp 3.21.1 (see below)\n")
    w("## Data and licence\n")
    w("- The KJV Bible from Debian's `bible-kjv-text` (public domain), verse text only (no verse numbers), "
      "kept with the trainer as `tools/train/data/kjv.tsv.xz`. Every 25th chapter (4 %) is held out.")
    def recall_mix(args, ctx):
        n = args.get("max_facts", 3)
        return (f"{'1 fact' if n == 1 else f'1-{n} facts'} and {'its query' if n == 1 else 'their queries'} "
                f"within {ctx} tokens, "
                f"{_pct(args.get('p_recall', 0))} of the sequences" +
                (f", and {_pct(args['p_copy'])} more repeat a span of scripture later in the sequence"
                 if args.get("p_copy") else ""))
    mixes = [f"{r['title'].split(',')[0].lower()}: {recall_mix(r['args'], r['args'].get('train_ctx') or 512)}"
             for r in prior] + [f"{extra.get('title', 'training').split(',')[0].lower()}: {recall_mix(targs, train_ctx)}"]
    w("- Generated long-range recall passages: `The key of the <colour> <thing> is <4 digits>.`, scripture, "
      "then `The key of the <colour> <thing> is` → the number. Training passages: " + "; ".join(mixes) +
      ". Held-out passages use held-out chapters, one fact, and at least 400 tokens of scripture between the fact "
      "and the query.")
    w(f"- Weights: {meta.get('general.license', 'cc0-1.0').upper()}.\n")
    w("## Tokenizer\n")
    w(f"Byte-level BPE trained by `tools/train/bpe.py`: {len(meta['tokenizer.ggml.tokens'])} tokens (256 bytes, "
      f"{len(meta['tokenizer.ggml.merges'])} merges, `<|begin_of_text|>` = BOS, `<|end_of_text|>` = EOS), "
      "`tokenizer.ggml.model = gpt2`, `tokenizer.ggml.pre = gpt-2` (GPT-2's split regex), BOS added. "
      f"About 4 bytes per token on the KJV; a held-out recall answer (a space and 4 digits) is "
      f"{res.get('answer_tokens', 0):.2f} tokens on average.\n")
    w("## Architecture\n")
    w("| | |\n|---|---|")
    rows = [
        ("layers", f"{g('block_count')} (first {g('leading_dense_block_count')} dense, the rest MoE)"),
        ("embedding", f"{g('embedding_length')}, vocabulary {len(meta['tokenizer.ggml.tokens'])}, output tied to `token_embd`"),
        ("context (training)", g("context_length")),
        ("MLA", f"{g('attention.head_count')} heads, q_lora {g('attention.q_lora_rank')}, kv_lora "
                f"{g('attention.kv_lora_rank')}, nope {g('attention.key_length_mla') - g('rope.dimension_count')}, "
                f"rope {g('rope.dimension_count')}, v {g('attention.value_length_mla')}; absorbed "
                f"(`attn_k_b`/`attn_v_b`), cache {g('attention.kv_lora_rank') + g('rope.dimension_count')} values/token/layer"),
        ("DSA indexer", f"{g('attention.indexer.head_count')} heads × {g('attention.indexer.key_length')} dims, "
                        f"top-k {g('attention.indexer.top_k')}"),
        ("dense FFN", f"SwiGLU {g('feed_forward_length')}"),
        ("MoE", f"{g('expert_count')} routed experts of {g('expert_feed_forward_length')}, {g('expert_used_count')} used, "
                f"{g('expert_shared_count')} shared; sigmoid gating (`expert_gating_func` 2), selection bias "
                f"`exp_probs_b` (aux-loss-free balancing), weights normalized, scale {g('expert_weights_scale')}"),
        ("RoPE", f"base {g('rope.freq_base'):g}, no scaling"),
        ("parameters", f"{res['params']:,}"),
    ]
    for k, v in rows:
        w(f"| {k} | {v} |")
    w("")
    w("## Training\n")
    w("`tools/train/train.py` (PyTorch; CPU with torch 1.13 or CUDA with 2.x), following the DeepSeek-V3.2 report:\n")

    def stages(st, sup):
        dense = f"dense training of the main model, indexer unused: {st.get('dense', '?')} steps"
        if sup:
            dense += (f", with attention supervision (weight {sup}: in layer 0 head 0 attention to the previous "
                      "token, in layer 1 head 0 attention to the token that followed the current one's earlier "
                      "occurrence; the recall passages give those targets)")
        out = [dense]
        if st.get("warmup"):
            out.append("dense warm-up: only the indexer learns, KL(main attention summed over heads and L1-normalized ‖ "
                       f"indexer softmax): {st['warmup']} steps")
        if st.get("sparse"):
            out.append(f"sparse stage: top-{g('attention.indexer.top_k')} from the indexer; LM loss for the main model, "
                       f"KL on the selected set for the indexer, whose inputs are detached: {st['sparse']} steps")
        return out

    def recipe(args, ctx, minutes, hardware, st):
        n = sum(st.get(k, 0) for k in ("dense", "warmup", "sparse")) * args.get("batch", 0) * ctx
        return (f"Batch {args.get('batch', '?')} × {ctx} tokens, AdamW (β 0.9/0.95, wd 0.1), peak lr "
                f"{args.get('lr', '?')}, cosine; answer tokens of recall passages weighted ×{args.get('ans_weight', '?')}; "
                f"expert bias step {args.get('bias_rate', '?')}" +
                (f"; residual dropout {args['dropout']}" if args.get("dropout") else "") +
                f". About {n / 1e6:.1f} M training tokens in {minutes:.0f} minutes on {hardware}.\n")

    for r in prior + [{"title": extra.get("title", "Training"), "steps": steps, "args": targs,
                       "minutes": tr.get("minutes", 0), "hardware": extra.get("hardware", "CPU")}]:
        ctx = r["args"].get("train_ctx") or g("context_length")
        w(f"{r['title']}:\n")
        for i, t in enumerate(stages(r["steps"], r["args"].get("attn_sup", 0))):
            w(f"{i + 1}. {t}")
        w("")
        w(recipe(r["args"], ctx, r.get("minutes", 0), r.get("hardware", "?"), r["steps"]))
        if r.get("note"):
            w(f"{r['note'][0].upper()}{r['note'][1:]}.\n")
    w("## Results (measured on this file by `train.py --eval`)\n")
    w("| | sparse attention (top-k, as shipped) | dense attention |\n|---|---|---|")
    w(f"| held-out KJV loss, nats/token ({sp['tokens']:,} tokens) | {sp['val_loss']:.3f} | {de['val_loss']:.3f} |")
    w(f"| held-out perplexity | {sp['ppl']:.1f} | {de['ppl']:.1f} |")
    w(f"| recall-passage accuracy ({sp['recall_n']} held-out passages, gap ≥ 400 tokens) | "
      f"{_pct(sp['recall_acc'])} | {_pct(de['recall_acc'])} |")
    w(f"| train-split KJV loss, nats/token (same number of windows) | {res['train_loss']:.3f} | |")
    w(f"\nLast logged training-batch loss (sparse stage, mixed batches, recall answers weighted): {train_loss:.3f}.\n")
    w("Indexer recall: share of the dense attention mass (summed over heads, L1-normalized) that falls inside "
      f"the indexer's top-{g('attention.indexer.top_k')}, over held-out query positions with more than "
      f"{g('attention.indexer.top_k')} visible tokens:\n")
    w("| layer | " + " | ".join(str(i) for i in range(len(ir))) + " | mean |")
    w("|---" * (len(ir) + 2) + "|")
    w("| recall | " + " | ".join(f"{v:.3f}" for v in ir) + f" | {sum(ir) / len(ir):.3f} |\n")
    w("Expert load on held-out KJV (share of routed slots per expert; ideal "
      f"{_pct(1 / g('expert_count'))}):\n")
    w("| layer | " + " | ".join(f"e{i}" for i in range(g("expert_count"))) + " | max/ideal |")
    w("|---" * (g("expert_count") + 2) + "|")
    for j, l in enumerate(res["expert_load"]):
        w(f"| {j + g('leading_dense_block_count')} | " + " | ".join(f"{100 * v:.1f}" for v in l) +
          f" | {max(l) * len(l):.2f} |")
    w("")
    sp, de, ir = res["sparse"], res["dense"], res["indexer_recall"]
    mean_ir = sum(ir) / len(ir)
    yes = lambda ok: "yes" if ok else "no"
    w("## Targets\n")
    w("| target | measured on this file | met |")
    w("|---|---|---|")
    w(f"| held-out KJV loss ≤ 3.9 nats/token | {sp['val_loss']:.3f} (sparse), {de['val_loss']:.3f} (dense) | "
      f"{yes(sp['val_loss'] <= 3.9)} |")
    w(f"| recall-passage accuracy ≥ 80 % with sparse attention, gaps ≥ 400 tokens | {100 * sp['recall_acc']:.1f} % "
      f"(dense: {100 * de['recall_acc']:.1f} %) | {yes(sp['recall_acc'] >= 0.8)} |")
    w(f"| mean indexer recall ≥ 0.8 | {mean_ir:.3f} (lowest, layer {ir.index(min(ir))}: {min(ir):.3f}) | "
      f"{yes(mean_ir >= 0.8)} |")
    w("")
    if extra.get("notes"):
        w(extra["notes"].rstrip() + "\n")
    w("## Reproduce\n")
    w("```sh\nsh tools/train/reproduce.sh\n```\n")
    w("It prepares the corpus and tokenizer, trains the base run, exports it, fine-tunes it for the recall passages, "
      "exports the result through `src/tools/export-trained` (the project's GGUF writer) and rewrites this card from "
      "the new file. The base run and fine-tune 1 were sized by wall time (the learning rate following time); the "
      "script replays the step counts they reached with a step-based schedule, so its figures match to within "
      "noise, not bit for bit.")
    return "\n".join(L) + "\n"
