"""Reading and replacing one module's output during a forward pass.

A hook is a module path such as ``transformer.h.3``; its activation is that module's output, or the
first element when the module returns a tuple (transformer blocks return the hidden states first).
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import torch
from torch import nn

from .errors import GsaeError


def resolve(model: nn.Module, hook: str) -> nn.Module:
    """The module at dotted path ``hook``; a GsaeError naming the nearest existing parent otherwise."""
    module = model
    walked = []
    for part in hook.split("."):
        children = dict(module.named_children())
        if part not in children:
            where = ".".join(walked) or "the model"
            names = ", ".join(list(children)[:12]) or "none"
            raise GsaeError(f"--hook: the model has no module '{hook}' ('{part}' is not a child of {where}; its children: {names})")
        module = children[part]
        walked.append(part)
    return module


def _first(output):
    return output[0] if isinstance(output, (tuple, list)) else output


def _with_first(output, value):
    if isinstance(output, tuple):
        return (value,) + output[1:]
    if isinstance(output, list):
        return [value] + output[1:]
    return value


@contextlib.contextmanager
def rewrite(module: nn.Module, fn: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[None]:
    """Within the block, ``module``'s activation x is replaced by ``fn(x)`` on every forward pass."""

    def hook(_module, _inputs, output):
        return _with_first(output, fn(_first(output)))

    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


@contextlib.contextmanager
def leaf(module: nn.Module, store: list) -> Iterator[None]:
    """Within the block, ``module``'s activation becomes a fresh leaf tensor that requires grad.

    Each forward pass appends that leaf to ``store``, so that ``torch.autograd.grad(loss, store[i])``
    gives ∂loss/∂x at the hook, and nothing upstream of the hook enters the graph.
    """

    def capture(x: torch.Tensor) -> torch.Tensor:
        x = x.detach().requires_grad_(True)
        store.append(x)
        return x

    with rewrite(module, capture):
        yield
