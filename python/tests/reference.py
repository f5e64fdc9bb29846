"""A second, hand-written GPT-2 forward pass (from the weights, not through transformers' modules), for tests."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def block(blk, h: torch.Tensor, n_head: int) -> torch.Tensor:
    """One GPT-2 block on h [B, C, d]: pre-LN causal self-attention and MLP, each added to the residual."""
    B, C, d = h.shape
    hd = d // n_head
    a = F.layer_norm(h, (d,), blk.ln_1.weight, blk.ln_1.bias, blk.ln_1.eps)
    q, k, v = (a @ blk.attn.c_attn.weight + blk.attn.c_attn.bias).split(d, dim=-1)
    q, k, v = (t.view(B, C, n_head, hd).transpose(1, 2) for t in (q, k, v))
    att = q @ k.transpose(-1, -2) / math.sqrt(hd)
    causal = torch.ones(C, C, dtype=torch.bool).tril()
    att = att.masked_fill(~causal, float("-inf")).softmax(-1)
    y = (att @ v).transpose(1, 2).reshape(B, C, d)
    h = h + (y @ blk.attn.c_proj.weight + blk.attn.c_proj.bias)
    m = F.layer_norm(h, (d,), blk.ln_2.weight, blk.ln_2.bias, blk.ln_2.eps)
    m = gelu_new(m @ blk.mlp.c_fc.weight + blk.mlp.c_fc.bias) @ blk.mlp.c_proj.weight + blk.mlp.c_proj.bias
    return h + m


def logits_after(model, h: torch.Tensor, first_block: int) -> torch.Tensor:
    """Logits [B, C, V] from the residual stream h [B, C, d] entering block ``first_block``."""
    t = model.transformer
    for blk in t.h[first_block:]:
        h = block(blk, h, model.config.n_head)
    h = F.layer_norm(h, (h.shape[-1],), t.ln_f.weight, t.ln_f.bias, t.ln_f.eps)
    return h @ model.lm_head.weight.T


def summed_ce(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Σ over predicted positions of −log softmax(logits_t)[ids_{t+1}], per context: [B]."""
    lp = logits[:, :-1].log_softmax(-1)
    return -lp.gather(-1, ids[:, 1:, None]).squeeze(-1).sum(-1)
