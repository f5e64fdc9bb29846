"""One forward (and backward) pass of a causal LM over a batch of contexts, with the hook's activation exposed."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import hooks
from .errors import GsaeError

GRADIENT_DEFINITION = (
    "g_t = d(sum_{t'=0}^{C-2} CE_t')/d x_t, where x_t is the hook's activation at position t of a context of C tokens, "
    "CE_t' = -log softmax(logits_t')[token_{t'+1}] is the next-token cross entropy at position t' (logits upcast to at least float32), "
    "and the sum (not the mean) runs over every predicted position of the same context; by causality x_t affects only "
    "CE_t' with t' >= t, so g_t carries x_t's effect on its own and every later prediction of its context"
)


def token_losses(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Next-token cross entropy per predicted position, in float32 or wider.  logits: [B, C, V]; ids: [B, C]; returns [B, C-1]."""
    lg = at_least_float32(logits[:, :-1])
    return F.cross_entropy(lg.reshape(-1, lg.shape[-1]), ids[:, 1:].reshape(-1), reduction="none").view(ids.shape[0], -1)


def at_least_float32(t: torch.Tensor) -> torch.Tensor:
    """t upcast to float32 when narrower (a float64 model keeps float64)."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def logits_of(model: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """The model's logits for token ids [B, C]: [B, C, V]."""
    return model(input_ids=ids, use_cache=False).logits


def with_gradient(model: nn.Module, module: nn.Module, ids: torch.Tensor):
    """Clean forward and backward: (x [B, C, d], g [B, C, d], logits [B, C, V]), g as in GRADIENT_DEFINITION."""
    store: list[torch.Tensor] = []
    with torch.enable_grad(), hooks.leaf(module, store):
        logits = logits_of(model, ids)
        x = _single(store, ids)
        loss = token_losses(logits, ids).sum()
        try:
            (g,) = torch.autograd.grad(loss, x)
        except RuntimeError as e:
            raise GsaeError(f"--hook: the loss does not depend on the hook's output ({str(e).splitlines()[0]})") from e
    return x.detach(), g.detach(), logits.detach()


def activations(model: nn.Module, module: nn.Module, ids: torch.Tensor):
    """Clean forward without gradients: (x [B, C, d], logits [B, C, V])."""
    store: list[torch.Tensor] = []

    def keep(x):
        store.append(x)
        return x

    with torch.no_grad(), hooks.rewrite(module, keep):
        logits = logits_of(model, ids)
    return _single(store, ids), logits


def replaced(model: nn.Module, module: nn.Module, ids: torch.Tensor, fn) -> torch.Tensor:
    """Logits [B, C, V] of a forward pass whose hook activation x is replaced by fn(x), without gradients."""
    with torch.no_grad(), hooks.rewrite(module, fn):
        return logits_of(model, ids)


def _single(store: list, ids: torch.Tensor) -> torch.Tensor:
    if len(store) != 1:
        raise GsaeError(f"--hook: the module ran {len(store)} times in one forward pass; pick a module that runs once")
    x = store[0]
    if x.dim() != 3 or tuple(x.shape[:2]) != tuple(ids.shape):
        raise GsaeError(f"--hook: the module's output has shape {tuple(x.shape)}, expected [batch, context, d] = "
                        f"[{ids.shape[0]}, {ids.shape[1]}, d]")
    return x
