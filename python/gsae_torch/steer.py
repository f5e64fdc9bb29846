"""steer: how strongly each latent's decoder direction, added at the hook, pushes the model toward its tokens.

Protocol, identical for every SAE (so TopK and g-SAE compare at equal k):

1. Live latents: those in at least one scored token's top-k on the held-out contexts, under the SAE's
   own selection (with g when β > 0). A sample of ``latents`` of them is steered, drawn with a generator
   seeded afresh for each SAE, so an SAE's sample does not depend on which other SAEs share the call.
2. Targets of latent i: the ``targets`` tokens with the largest logit-lens score
   u_i = W_U · (γ ⊙ (w_i − mean(w_i)))  (a LayerNorm final norm; RMSNorm: W_U · (γ ⊙ w_i)), where
   w_i = W_dec[i], γ the final norm's gain and W_U the unembedding; norm and unembedding biases are
   left out because they do not depend on the latent.
3. Steering: on ``contexts`` held-out contexts drawn with the seed, x_t ← x_t + α·n̄·w_i/‖w_i‖ at every
   position t ≥ skip, where n̄ is the mean ‖x_t‖ of those contexts at those positions (so α is relative
   to the residual norm).
4. Per latent and α, over every steered position t (next-token distributions p_t):
   Δlogp = mean over t and targets j of log p_t^steered(j) − log p_t^clean(j)
   Δmass = mean over t of Σ_j p_t^steered(j) − Σ_j p_t^clean(j)
   moved = Δlogp > ``moved_threshold`` nats.
   Reported per α: the mean of Δlogp and Δmass over the sampled latents and the fraction moved.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import forward, heldout, hooks, model as models, sae as saes
from .errors import GsaeError


def steer(model=None, sae=(), *, data: str | None = None, text_path: str | None = None, hook: str | None = None,
          tokenizer=None, context_size: int | None = None, prepend_bos: bool | None = None,
          skip_positions: int | None = None, tokens: int | None = None, alphas=(0.25, 0.5, 1.0), latents: int = 32,
          targets: int = 5, contexts: int = 8, moved_threshold: float = 1e-3, seed: int = 0, batch_size: int = 8,
          device: str = "cpu", model_dtype: str | None = None, final_norm: str | None = None,
          text_column: str = "text") -> dict:
    """Measures steering for each SAE in ``sae`` (paths or Sae objects); returns a JSON-ready dict."""
    if latents < 1 or targets < 1 or contexts < 1:
        raise GsaeError("--latents, --targets and --contexts must each be ≥ 1")
    held = heldout.build(model, data=data, text_path=text_path, hook=hook, tokenizer=tokenizer, context_size=context_size,
                         prepend_bos=prepend_bos, skip_positions=skip_positions, tokens=tokens, device=device,
                         model_dtype=model_dtype, text_column=text_column)
    models_ = [s if isinstance(s, saes.Sae) else saes.load(s) for s in ([sae] if isinstance(sae, (str, saes.Sae)) else sae)]
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randperm(held.ids.shape[0], generator=gen)[:contexts].sort().values
    ids = held.ids[pick].to(held.lm.device)
    x, clean = forward.activations(held.lm.model, held.module, ids)
    where = held.spliced_positions(ids.shape[1])
    norm_mean = float(x[:, held.skip:].norm(dim=-1).mean())
    clean_lp = F.log_softmax(clean[:, held.skip:].float(), dim=-1)
    lens = _logit_lens(held.lm, final_norm)
    report = {"model": held.lm.name, "hook": held.hook, "text": held.text_path, "contexts": int(ids.shape[0]),
              "context_size": int(ids.shape[1]), "skip_positions": held.skip, "mean_activation_norm": norm_mean,
              "alphas": list(alphas), "targets": targets, "moved_threshold": moved_threshold, "seed": seed, "saes": []}
    for m in models_:
        m = m.to(held.lm.device)
        live = _live(m, held, batch_size)
        if live.numel() == 0:
            raise GsaeError(f"--sae: {m.source} has no live latent on these contexts")
        own = torch.Generator().manual_seed(seed)
        chosen = live[torch.randperm(live.numel(), generator=own)[:latents]].sort().values
        rows = [_one_latent(held, ids, where, clean_lp, m.W_dec[i].float(), lens, alphas, norm_mean, targets) for i in chosen.tolist()]
        per_alpha = []
        for j, alpha in enumerate(alphas):
            dlogp = torch.tensor([r[0][j] for r in rows], dtype=torch.float64)
            dmass = torch.tensor([r[1][j] for r in rows], dtype=torch.float64)
            per_alpha.append({"alpha": alpha, "delta_logprob": float(dlogp.mean()), "delta_mass": float(dmass.mean()),
                              "fraction_moved": float((dlogp > moved_threshold).double().mean())})
        report["saes"].append({"sae": m.source, "latents": m.latents, "k": m.k, "beta": m.beta, "live_latents": int(live.numel()),
                               "steered_latents": chosen.tolist(), "per_alpha": per_alpha})
    return report


def _logit_lens(lm: models.LoadedModel, final_norm: str | None):
    """u(w) = W_U · (γ ⊙ centred w) for a LayerNorm final norm, W_U · (γ ⊙ w) otherwise: [V] per direction [d]."""
    norm = models.final_norm(lm, final_norm)
    W_U = models.unembedding(lm).weight.float()
    gain = getattr(norm, "weight", None)
    gain = torch.ones(W_U.shape[1], device=W_U.device) if gain is None else gain.float()
    centre = isinstance(norm, nn.LayerNorm)

    def lens(w: torch.Tensor) -> torch.Tensor:
        v = w - w.mean() if centre else w
        return W_U @ (gain * v)

    return lens


def target_tokens(lm: models.LoadedModel, direction: torch.Tensor, n: int, final_norm: str | None = None) -> torch.Tensor:
    """The n tokens the logit lens ranks highest for ``direction`` [d]."""
    return torch.topk(_logit_lens(lm, final_norm)(direction.float()), n).indices


def _live(m: saes.Sae, held: heldout.HeldOut, batch_size: int) -> torch.Tensor:
    """Latent indices in some scored token's top-k under the SAE's own selection."""
    seen = torch.zeros(m.latents, dtype=torch.bool, device=held.lm.device)
    for ids, scored in held.batches(batch_size):
        if m.beta != 0.0:
            x, g, _ = forward.with_gradient(held.lm.model, held.module, ids)
            g = g[scored]
        else:
            (x, _), g = forward.activations(held.lm.model, held.module, ids), None
        xs, gs = m.scaled(x[scored], g)
        _, selected = m.encode(xs, gs)
        seen |= selected.any(0)
    return torch.nonzero(seen).flatten().cpu()


def _one_latent(held, ids, where, clean_lp, w, lens, alphas, norm_mean, n_targets):
    """(Δlogp per α, Δmass per α) for steering along w [d]; one forward pass over the contexts per α."""
    tgt = torch.topk(lens(w), n_targets).indices
    unit = w / w.norm()
    clean_t = clean_lp[..., tgt]  # [n, C - skip, targets]
    dlogp, dmass = [], []
    for alpha in alphas:
        step = alpha * norm_mean * unit

        def add(h, step=step):
            return torch.where(where, h + step.to(h.dtype), h)

        with torch.no_grad(), hooks.rewrite(held.module, add):
            logits = forward.logits_of(held.lm.model, ids)
        lp = F.log_softmax(logits[:, held.skip:].float(), dim=-1)[..., tgt]
        dlogp.append(float((lp - clean_t).mean()))
        dmass.append(float((lp.exp().sum(-1) - clean_t.exp().sum(-1)).mean()))
    return dlogp, dmass
