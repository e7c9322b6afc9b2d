"""A small DeepSeek-V3.2-style model (GGUF arch `deepseek32`) in PyTorch (1.13 CPU .. 2.x CUDA).

Math as llama.cpp computes it (see docs/model-math.md): MLA with q_lora and kv_lora
(expanded for training; exported absorbed), adjacent-pair RoPE for MLA, NeoX RoPE on the first
`rope` dims of the DSA indexer heads, sigmoid-gated MoE with a selection bias, tied output.
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab: int = 4096
    dim: int = 256
    layers: int = 4
    dense_layers: int = 1
    heads: int = 4
    q_lora: int = 128
    kv_lora: int = 64
    nope: int = 32
    rope: int = 32
    v_dim: int = 64
    ff: int = 512          # dense FFN width
    ffx: int = 128         # expert width (shared expert too)
    experts: int = 8
    experts_used: int = 2
    experts_shared: int = 1
    route_scale: float = 1.0
    idx_heads: int = 4
    idx_dim: int = 64
    top_k: int = 64
    ctx: int = 512
    eps: float = 1e-6
    rope_base: float = 10000.0

    def to_dict(self):
        return asdict(self)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_tables(n, dims, base, device):
    inv = base ** (-torch.arange(0, dims, 2, device=device, dtype=torch.float32) / dims)
    ang = torch.arange(n, device=device, dtype=torch.float32)[:, None] * inv[None, :]
    return ang.cos(), ang.sin()  # [T, dims/2]


def rope_pairs(x, cos, sin):
    """ggml 'normal' RoPE: rotate adjacent pairs (x0,x1), (x2,x3) ...; x [..., T, d]."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


def rope_neox(x, cos, sin, dims):
    """ggml NeoX RoPE on the first `dims` values: pairs (i, i + dims/2); the rest pass through."""
    h = dims // 2
    a, b, rest = x[..., :h], x[..., h:dims], x[..., dims:]
    return torch.cat((a * cos - b * sin, a * sin + b * cos, rest), dim=-1)


class Indexer(nn.Module):
    """DSA lightning indexer: score(t,s) = sum_h w_h(t) relu(qI_h(t) . kI(s))."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.q_b = nn.Linear(c.q_lora, c.idx_heads * c.idx_dim, bias=False)
        self.k = nn.Linear(c.dim, c.idx_dim, bias=False)
        self.k_norm = nn.LayerNorm(c.idx_dim, eps=1e-6)
        self.proj = nn.Linear(c.dim, c.idx_heads, bias=False)

    def forward(self, x, cq, cos, sin):
        c = self.c
        B, T, _ = x.shape
        q = self.q_b(cq).view(B, T, c.idx_heads, c.idx_dim).transpose(1, 2)      # [B,HI,T,DI]
        q = rope_neox(q, cos, sin, c.rope)
        k = rope_neox(self.k_norm(self.k(x)), cos, sin, c.rope)                     # [B,T,DI]
        w = self.proj(x) / math.sqrt(c.idx_dim * c.idx_heads)                       # [B,T,HI]
        s = torch.relu(torch.matmul(q, k.unsqueeze(1).transpose(-1, -2)))          # [B,HI,T,T]
        return torch.einsum("bhts,bth->bts", s, w)                                  # [B,T,T]


class MLA(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.q_a = nn.Linear(c.dim, c.q_lora, bias=False)
        self.q_a_norm = nn.Parameter(torch.ones(c.q_lora))
        self.q_b = nn.Linear(c.q_lora, c.heads * (c.nope + c.rope), bias=False)
        self.kv_a = nn.Linear(c.dim, c.kv_lora + c.rope, bias=False)
        self.kv_a_norm = nn.Parameter(torch.ones(c.kv_lora))
        self.k_b = nn.Parameter(torch.randn(c.heads, c.nope, c.kv_lora) / math.sqrt(c.kv_lora))
        self.v_b = nn.Parameter(torch.randn(c.heads, c.v_dim, c.kv_lora) / math.sqrt(c.kv_lora))
        self.o = nn.Linear(c.heads * c.v_dim, c.dim, bias=False)
        self.indexer = Indexer(c)

    def forward(self, x, rope, mode, stats=None):
        """mode: 'dense' (indexer unused), 'warmup' (dense + indexer KL, main graph frozen by caller),
        'sparse' (top-k from the indexer, indexer KL on the selected set with detached inputs).
        Returns (out, indexer_kl or None)."""
        c = self.c
        B, T, _ = x.shape
        cos, sin = rope
        cq = rms_norm(self.q_a(x), self.q_a_norm, c.eps)
        q = self.q_b(cq).view(B, T, c.heads, c.nope + c.rope).transpose(1, 2)     # [B,H,T,nope+rope]
        q_nope, q_pe = q[..., :c.nope], rope_pairs(q[..., c.nope:], cos, sin)
        kv = self.kv_a(x)
        ckv = rms_norm(kv[..., :c.kv_lora], self.kv_a_norm, c.eps)                  # [B,T,kv_lora]
        k_pe = rope_pairs(kv[..., c.kv_lora:], cos, sin)                            # [B,T,rope]
        k_nope = torch.einsum("btc,hnc->bhtn", ckv, self.k_b)                       # [B,H,T,nope]
        v = torch.einsum("btc,hvc->bhtv", ckv, self.v_b)                            # [B,H,T,v]
        scale = 1.0 / math.sqrt(c.nope + c.rope)
        att = (torch.matmul(q_nope, k_nope.transpose(-1, -2)) +
               torch.matmul(q_pe, k_pe.unsqueeze(1).transpose(-1, -2))) * scale    # [B,H,T,T]
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        kl, keep = None, causal
        if mode != "dense":
            detach = mode == "sparse"
            score = self.indexer(x.detach() if detach else x, cq.detach() if detach else cq, cos, sin)
            score = score.masked_fill(~causal, float("-inf"))
            if mode == "sparse" and T > c.top_k:
                idx = score.topk(c.top_k, dim=-1).indices
                sel = torch.zeros(B, T, T, dtype=torch.bool, device=x.device).scatter(-1, idx, True)
                keep = sel & causal
                score = score.masked_fill(~keep, float("-inf"))
        att = att.masked_fill(~keep.unsqueeze(-3) if keep.dim() == 3 else ~keep, float("-inf"))
        p = torch.softmax(att, dim=-1)
        if mode != "dense":
            target = p.detach().sum(1)
            target = target / target.sum(-1, keepdim=True)                          # L1-normalized
            logq = torch.log_softmax(score, dim=-1)
            kl = (target * (torch.log(target.clamp_min(1e-12)) - logq.clamp_min(-1e4)))
            kl = kl.masked_fill(~(keep if keep.dim() == 3 else keep.expand(B, T, T)), 0.0).sum(-1).mean()
        if stats is not None:
            stats.append(p)  # [B,H,T,T], not detached: train.py's attention supervision trains through it
        out = torch.matmul(p, v).transpose(1, 2).reshape(B, T, c.heads * c.v_dim)
        return self.o(out), kl


class FFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.gate = nn.Linear(dim, hidden, bias=False)
        self.up = nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class MoE(nn.Module):
    """Sigmoid gating; the bias (a buffer, not trained by gradient) only chooses the experts."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.gate_inp = nn.Linear(c.dim, c.experts, bias=False)
        self.register_buffer("bias", torch.zeros(c.experts))
        s = 1.0 / math.sqrt(c.dim)
        self.w_gate = nn.Parameter(torch.randn(c.experts, c.ffx, c.dim) * s)
        self.w_up = nn.Parameter(torch.randn(c.experts, c.ffx, c.dim) * s)
        self.w_down = nn.Parameter(torch.randn(c.experts, c.dim, c.ffx) / math.sqrt(c.ffx))
        self.shared = FFN(c.dim, c.ffx * c.experts_shared)
        self.load = torch.zeros(c.experts)

    def forward(self, x):
        c = self.c
        shape = x.shape
        x = x.reshape(-1, c.dim)
        probs = torch.sigmoid(self.gate_inp(x))                                      # [N,X]
        chosen = (probs.detach() + self.bias).topk(c.experts_used, dim=-1).indices  # [N,k]
        w = probs.gather(-1, chosen)
        w = w / w.sum(-1, keepdim=True).clamp_min(6.103515625e-5) * c.route_scale
        out = self.shared(x)
        self.load = torch.bincount(chosen.flatten(), minlength=c.experts).float().cpu()
        for e in range(c.experts):
            tok, slot = (chosen == e).nonzero(as_tuple=True)
            if tok.numel() == 0:
                continue
            xe = x[tok]
            h = F.silu(xe @ self.w_gate[e].t()) * (xe @ self.w_up[e].t())
            out = out.index_add(0, tok, (h @ self.w_down[e].t()) * w[tok, slot, None])
        return out.view(shape)

    @torch.no_grad()
    def update_bias(self, rate):
        """DeepSeek-V3 auxiliary-loss-free balancing: raise the bias of under-loaded experts."""
        self.bias += rate * torch.sign(self.load.mean() - self.load).to(self.bias.device)


class Block(nn.Module):
    def __init__(self, c, moe):
        super().__init__()
        self.attn_norm = nn.Parameter(torch.ones(c.dim))
        self.ffn_norm = nn.Parameter(torch.ones(c.dim))
        self.attn = MLA(c)
        self.ffn = MoE(c) if moe else FFN(c.dim, c.ff)
        self.eps = c.eps
        self.drop = 0.0  # residual-branch dropout, training only (the corpus is ~1 M tokens: many epochs on a GPU)

    def forward(self, h, rope, mode, stats=None):
        a, kl = self.attn(rms_norm(h, self.attn_norm, self.eps), rope, mode, stats)
        h = h + F.dropout(a, self.drop, self.training)
        return h + F.dropout(self.ffn(rms_norm(h, self.ffn_norm, self.eps)), self.drop, self.training), kl


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = nn.Embedding(c.vocab, c.dim)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.blocks = nn.ModuleList([Block(c, i >= c.dense_layers) for i in range(c.layers)])
        self.out_norm = nn.Parameter(torch.ones(c.dim))
        for n, p in self.named_parameters():
            if n.endswith("o.weight") or n.endswith("down.weight") or n.endswith("w_down"):
                with torch.no_grad():
                    p.mul_(1.0 / math.sqrt(2 * c.layers))

    def forward(self, ids, mode="dense", stats=None):
        c = self.c
        T = ids.shape[1]
        cos, sin = rope_tables(T, c.rope, c.rope_base, ids.device)
        h = self.embed(ids)
        kls = []
        for b in self.blocks:
            h, kl = b(h, (cos, sin), mode, stats)
            if kl is not None:
                kls.append(kl)
        logits = rms_norm(h, self.out_norm, c.eps) @ self.embed.weight.t()
        return logits, (torch.stack(kls).sum() if kls else None)

    def moe_layers(self):
        return [b.ffn for b in self.blocks if isinstance(b.ffn, MoE)]

    def indexer_params(self):
        return [p for b in self.blocks for p in b.attn.indexer.parameters()]
