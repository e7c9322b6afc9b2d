"""Trained weights <-> llama.cpp `deepseek32` GGUF tensors and metadata.

dump() writes a manifest (metadata as typed entries, tensors with GGUF names and ne shapes) plus one
raw little-endian float32 file per tensor; src/tools/export-trained/main.ts turns that into the GGUF
with the project's writer. load_gguf_into() maps a GGUF read back onto the PyTorch model (for --eval).
"""
import json
import os

import numpy as np
import torch

from model import Config, Model, MoE

ARCH = "deepseek32"
# 2-D+ tensors stay F32 when llama.cpp's own quantizer would keep them so (router) or they are tiny.
KEEP_F32 = ("ffn_gate_inp.weight", "indexer.proj.weight")


def _np(t):
    return t.detach().float().cpu().numpy()


def gguf_tensors(model):
    """[(name, array shaped like ne reversed, i.e. a PyTorch [out, in] matrix is ne {in, out})]."""
    out = [("token_embd.weight", _np(model.embed.weight)), ("output_norm.weight", _np(model.out_norm))]
    for i, b in enumerate(model.blocks):
        p, a, ix = f"blk.{i}.", b.attn, b.attn.indexer
        out += [
            (p + "attn_norm.weight", _np(b.attn_norm)),
            (p + "attn_q_a.weight", _np(a.q_a.weight)),
            (p + "attn_q_a_norm.weight", _np(a.q_a_norm)),
            (p + "attn_q_b.weight", _np(a.q_b.weight)),
            (p + "attn_kv_a_mqa.weight", _np(a.kv_a.weight)),
            (p + "attn_kv_a_norm.weight", _np(a.kv_a_norm)),
            (p + "attn_k_b.weight", _np(a.k_b.transpose(1, 2))),   # [H, kv_lora, nope] = ne {nope, kv_lora, H}
            (p + "attn_v_b.weight", _np(a.v_b)),                   # [H, v, kv_lora]    = ne {kv_lora, v, H}
            (p + "attn_output.weight", _np(a.o.weight)),
            (p + "indexer.attn_q_b.weight", _np(ix.q_b.weight)),
            (p + "indexer.attn_k.weight", _np(ix.k.weight)),
            (p + "indexer.k_norm.weight", _np(ix.k_norm.weight)),
            (p + "indexer.k_norm.bias", _np(ix.k_norm.bias)),
            (p + "indexer.proj.weight", _np(ix.proj.weight)),
            (p + "ffn_norm.weight", _np(b.ffn_norm)),
        ]
        f = b.ffn
        if isinstance(f, MoE):
            out += [
                (p + "ffn_gate_inp.weight", _np(f.gate_inp.weight)),
                (p + "exp_probs_b.bias", _np(f.bias)),
                (p + "ffn_gate_exps.weight", _np(f.w_gate)),       # [X, ffx, E] = ne {E, ffx, X}
                (p + "ffn_up_exps.weight", _np(f.w_up)),
                (p + "ffn_down_exps.weight", _np(f.w_down)),       # [X, E, ffx] = ne {ffx, E, X}
                (p + "ffn_gate_shexp.weight", _np(f.shared.gate.weight)),
                (p + "ffn_up_shexp.weight", _np(f.shared.up.weight)),
                (p + "ffn_down_shexp.weight", _np(f.shared.down.weight)),
            ]
        else:
            out += [(p + "ffn_gate.weight", _np(f.gate.weight)), (p + "ffn_up.weight", _np(f.up.weight)),
                    (p + "ffn_down.weight", _np(f.down.weight))]
    return out


def quant_type(name, arr, qtype):
    if qtype == "F32" or arr.ndim < 2 or name.endswith(KEEP_F32) or arr.shape[-1] % 32 != 0:
        return "F32"
    return qtype


def metadata(c: Config, tok, name, qtype):
    A = ARCH + "."
    u32 = lambda k, v: {"key": k, "type": "u32", "value": int(v)}
    f32 = lambda k, v: {"key": k, "type": "f32", "value": float(v)}
    token_type = [3 if t in ("<|begin_of_text|>", "<|end_of_text|>") else 1 for t in tok.tokens]
    return [
        {"key": "general.architecture", "type": "string", "value": ARCH},
        {"key": "general.name", "type": "string", "value": name},
        {"key": "general.license", "type": "string", "value": "cc0-1.0"},
        u32("general.file_type", {"F32": 0, "F16": 1, "Q8_0": 7}[qtype]),
        u32("general.quantization_version", 2),
        u32(A + "context_length", c.ctx),
        u32(A + "embedding_length", c.dim),
        u32(A + "block_count", c.layers),
        u32(A + "feed_forward_length", c.ff),
        u32(A + "attention.head_count", c.heads),
        u32(A + "attention.head_count_kv", 1),
        u32(A + "attention.key_length", c.kv_lora + c.rope),
        u32(A + "attention.value_length", c.kv_lora),
        u32(A + "attention.key_length_mla", c.nope + c.rope),
        u32(A + "attention.value_length_mla", c.v_dim),
        u32(A + "attention.q_lora_rank", c.q_lora),
        u32(A + "attention.kv_lora_rank", c.kv_lora),
        f32(A + "attention.layer_norm_rms_epsilon", c.eps),
        u32(A + "rope.dimension_count", c.rope),
        f32(A + "rope.freq_base", c.rope_base),
        u32(A + "leading_dense_block_count", c.dense_layers),
        u32(A + "expert_count", c.experts),
        u32(A + "expert_used_count", c.experts_used),
        u32(A + "expert_shared_count", c.experts_shared),
        u32(A + "expert_feed_forward_length", c.ffx),
        u32(A + "expert_group_count", 1),
        u32(A + "expert_group_used_count", 1),
        f32(A + "expert_weights_scale", c.route_scale),
        {"key": A + "expert_weights_norm", "type": "bool", "value": True},
        u32(A + "expert_gating_func", 2),
        u32(A + "attention.indexer.head_count", c.idx_heads),
        u32(A + "attention.indexer.key_length", c.idx_dim),
        u32(A + "attention.indexer.top_k", c.top_k),
        u32(A + "vocab_size", c.vocab),
        {"key": "tokenizer.ggml.model", "type": "string", "value": "gpt2"},
        {"key": "tokenizer.ggml.pre", "type": "string", "value": "gpt-2"},
        {"key": "tokenizer.ggml.tokens", "type": "string[]", "value": tok.tokens},
        {"key": "tokenizer.ggml.token_type", "type": "i32[]", "value": token_type},
        {"key": "tokenizer.ggml.merges", "type": "string[]", "value": tok.merges},
        u32("tokenizer.ggml.bos_token_id", tok.bos_id),
        u32("tokenizer.ggml.eos_token_id", tok.eos_id),
        {"key": "tokenizer.ggml.add_bos_token", "type": "bool", "value": True},
        {"key": "tokenizer.ggml.add_eos_token", "type": "bool", "value": False},
    ]


def dump(model, tok, out_dir, name, qtypes=("Q8_0", "F16", "F32"), extra=None):
    """Writes <out_dir>/manifest.json and <out_dir>/tensors/<i>.f32 (raw little-endian float32).
    manifest: {format, arch, config, metadata: {qtype: [{key, type, value}]}, tensors: [{name, shape (ne
    order), file, types: {qtype: ggml type name}}]}; metadata types are the project writer's names."""
    os.makedirs(os.path.join(out_dir, "tensors"), exist_ok=True)
    ts = []
    for i, (n, arr) in enumerate(gguf_tensors(model)):
        f = f"tensors/{i:03d}.f32"
        np.ascontiguousarray(arr, dtype="<f4").tofile(os.path.join(out_dir, f))
        ts.append({"name": n, "shape": list(reversed(arr.shape)), "file": f,
                   "types": {q: quant_type(n, arr, q) for q in qtypes}})
    man = {"format": "sparsescope-trained-v1", "arch": ARCH, "config": model.c.to_dict(),
           "metadata": {q: metadata(model.c, tok, name, q) for q in qtypes}, "tensors": ts}
    if extra:
        man.update(extra)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(man, f)
    return man


def config_from_meta(meta):
    A = ARCH + "."
    g = lambda k: meta[A + k]
    return Config(vocab=len(meta["tokenizer.ggml.tokens"]), dim=g("embedding_length"), layers=g("block_count"),
                  dense_layers=g("leading_dense_block_count"), heads=g("attention.head_count"),
                  q_lora=g("attention.q_lora_rank"), kv_lora=g("attention.kv_lora_rank"),
                  nope=g("attention.key_length_mla") - g("rope.dimension_count"), rope=g("rope.dimension_count"),
                  v_dim=g("attention.value_length_mla"), ff=g("feed_forward_length"),
                  ffx=g("expert_feed_forward_length"), experts=g("expert_count"), experts_used=g("expert_used_count"),
                  experts_shared=g("expert_shared_count"), route_scale=g("expert_weights_scale"),
                  idx_heads=g("attention.indexer.head_count"), idx_dim=g("attention.indexer.key_length"),
                  top_k=g("attention.indexer.top_k"), ctx=g("context_length"),
                  eps=g("attention.layer_norm_rms_epsilon"), rope_base=g("rope.freq_base"))


@torch.no_grad()
def load_gguf_into(model, tensors):
    """Copies dequantized GGUF tensors into the model (the inverse of gguf_tensors)."""
    params = {}
    for n, arr in gguf_tensors(model):
        params[n] = arr.shape
    missing = set(params) - set(tensors)
    if missing:
        raise ValueError(f"GGUF lacks tensors: {sorted(missing)[:5]}")
    def put(dst, name, transform=None):
        t = torch.from_numpy(np.ascontiguousarray(tensors[name][0]))
        if transform:
            t = transform(t)
        dst.copy_(t.view(dst.shape))
    put(model.embed.weight, "token_embd.weight")
    put(model.out_norm, "output_norm.weight")
    for i, b in enumerate(model.blocks):
        p, a, ix = f"blk.{i}.", b.attn, b.attn.indexer
        put(b.attn_norm, p + "attn_norm.weight")
        put(a.q_a.weight, p + "attn_q_a.weight")
        put(a.q_a_norm, p + "attn_q_a_norm.weight")
        put(a.q_b.weight, p + "attn_q_b.weight")
        put(a.kv_a.weight, p + "attn_kv_a_mqa.weight")
        put(a.kv_a_norm, p + "attn_kv_a_norm.weight")
        put(a.k_b, p + "attn_k_b.weight", lambda t: t.transpose(1, 2))
        put(a.v_b, p + "attn_v_b.weight")
        put(a.o.weight, p + "attn_output.weight")
        put(ix.q_b.weight, p + "indexer.attn_q_b.weight")
        put(ix.k.weight, p + "indexer.attn_k.weight")
        put(ix.k_norm.weight, p + "indexer.k_norm.weight")
        put(ix.k_norm.bias, p + "indexer.k_norm.bias")
        put(ix.proj.weight, p + "indexer.proj.weight")
        put(b.ffn_norm, p + "ffn_norm.weight")
        f = b.ffn
        if isinstance(f, MoE):
            put(f.gate_inp.weight, p + "ffn_gate_inp.weight")
            put(f.bias, p + "exp_probs_b.bias")
            put(f.w_gate, p + "ffn_gate_exps.weight")
            put(f.w_up, p + "ffn_up_exps.weight")
            put(f.w_down, p + "ffn_down_exps.weight")
            put(f.shared.gate.weight, p + "ffn_gate_shexp.weight")
            put(f.shared.up.weight, p + "ffn_up_shexp.weight")
            put(f.shared.down.weight, p + "ffn_down_shexp.weight")
        else:
            put(f.gate.weight, p + "ffn_gate.weight")
            put(f.up.weight, p + "ffn_up.weight")
            put(f.down.weight, p + "ffn_down.weight")


def read_model(path):
    """A GGUF file as (Model with its weights, metadata): what --eval, --init-from and probe_copy.py start from."""
    from gguf_io import read_gguf
    meta, tensors = read_gguf(path)
    model = Model(config_from_meta(meta))
    load_gguf_into(model, tensors)
    return model, meta
