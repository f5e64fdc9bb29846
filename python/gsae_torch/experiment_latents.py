"""Which latents the gradient changes: per SAE, on the held-out harvest's rows (x, g).

overlap_with_without_g   mean over rows of |S_g ∩ S_0| / k, where S_g is the top-k selected with g
                         (score z∘(1+β|g·W_decᵀ|)) and S_0 the top-k of z (for TopK it is 1 by definition)
grad_cos_selected        mean over rows and selected latents (without g) of |cos(g, W_dec[i])|
grad_cos_all             the same over all latents: the level a dictionary blind to g would show
"""

from __future__ import annotations

import glob
import os

import torch

from . import sae as saes


def _rows(shard_folder: str) -> tuple[torch.Tensor, torch.Tensor]:
    from safetensors.torch import load_file

    xs, gs = [], []
    for f in sorted(glob.glob(os.path.join(shard_folder, "shard-*.safetensors"))):
        t = load_file(f)
        xs.append(t["activations"].float())
        gs.append(t["gradients"].float())
    return torch.cat(xs), torch.cat(gs)


@torch.no_grad()
def latent_stats(sae_dirs: list[str], shard_folder: str) -> dict:
    x, g = _rows(shard_folder)
    out = {}
    for path in sae_dirs:
        m = saes.load(path)
        xs, gs = m.scaled(x, g)
        _, sel0 = m.encode(xs, None)
        _, selg = m.encode(xs, gs)
        w = m.W_dec / m.W_dec.norm(dim=1, keepdim=True)
        cos = (g / g.norm(dim=1, keepdim=True).clamp_min(1e-30)) @ w.T
        cos = cos.abs()
        out[path] = {"overlap_with_without_g": float((sel0 & selg).sum(1).float().mean() / m.k),
                     "grad_cos_selected": float(cos[sel0].mean()), "grad_cos_all": float(cos.mean()),
                     "rows": int(x.shape[0])}
    return out
