"""Running sums for evaluate's metrics, accumulated in float64 over all scored tokens at once."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .forward import at_least_float32


def ce_sum(logits: torch.Tensor, ids: torch.Tensor, scored: torch.Tensor) -> float:
    """Σ over scored positions t of −log softmax(logits_t)[ids_{t+1}]; logits [B, C, V], ids and scored [B, C]."""
    lg = at_least_float32(logits[:, :-1])
    ce = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), ids[:, 1:].reshape(-1), reduction="none").view(ids.shape[0], -1)
    return float(ce[scored[:, :-1]].double().sum())


def kl_sum(clean: torch.Tensor, other: torch.Tensor, scored: torch.Tensor) -> float:
    """Σ over scored positions of KL(softmax(clean_t) ‖ softmax(other_t)); logits [B, C, V]."""
    lp = F.log_softmax(at_least_float32(clean), dim=-1)
    lq = F.log_softmax(at_least_float32(other), dim=-1)
    kl = (lp.exp() * (lp - lq)).sum(-1)
    return float(kl[scored].double().sum())


class Reconstruction:
    """FVU, L0 and dead latents as gsae eval computes them (ReconstructionStats), in the SAE's units.

    FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖² over all tokens, the denominator taken about the first token for
    conditioning; L0 = selected latents with a > 0 per token; dead = latents in no token's top-k.
    """

    def __init__(self, d: int, m: int):
        self.shift = None
        self.shifted_sum = torch.zeros(d, dtype=torch.float64)
        self.shifted_squares = 0.0
        self.squared_error = 0.0
        self.active = 0
        self.tokens = 0
        self.selected = torch.zeros(m, dtype=torch.bool)

    def add(self, xs: torch.Tensor, xhat: torch.Tensor, a: torch.Tensor, selected: torch.Tensor) -> None:
        """xs, xhat: [n, d] in the SAE's units; a, selected: [n, M]."""
        x = xs.double().cpu()
        if self.shift is None:
            self.shift = x[0].clone()
        c = x - self.shift
        self.squared_error += float(((x - xhat.double().cpu()) ** 2).sum())
        self.shifted_sum += c.sum(0)
        self.shifted_squares += float((c * c).sum())
        self.active += int((selected & (a > 0)).sum())
        self.selected |= selected.any(0).cpu()
        self.tokens += x.shape[0]

    def fvu(self) -> float:
        variance = self.shifted_squares - float((self.shifted_sum ** 2).sum()) / self.tokens
        return self.squared_error / variance if variance > 0 else float("nan")

    def l0(self) -> float:
        return self.active / self.tokens

    def dead(self) -> int:
        return int((~self.selected).sum())
