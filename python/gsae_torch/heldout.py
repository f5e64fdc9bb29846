"""Held-out contexts for evaluate and steer: from a harvest's manifest, or from explicit settings.

Given a harvest folder (``data``), the model, hook, text, context length, BOS and skipped positions
come from its manifest, the contexts are rebuilt exactly as the harvest built them, and their tokens
are checked against the shards' ``token_ids``; the scored rows are then the shards' rows, in order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from safetensors import safe_open
from torch import nn

from . import hooks, model as models, shards, text
from .errors import GsaeError


@dataclass
class HeldOut:
    """Contexts ids [n, C] and which of their positions are scored, scored [n, C] bool.

    Scored positions are skip … C−2 of each context (those a harvest writes), the first ``tokens`` of
    them in context-major order. x̂ is spliced at every position ≥ skip: later positions cannot change
    the scored predictions, so this equals splicing at the scored rows alone.
    """

    lm: models.LoadedModel
    module: nn.Module
    hook: str
    text_path: str
    ids: torch.Tensor
    scored: torch.Tensor
    skip: int

    @property
    def tokens(self) -> int:
        return int(self.scored.sum())

    def batches(self, batch_size: int):
        """(ids [b, C] on the model's device, scored [b, C]) for consecutive batches of contexts."""
        for lo in range(0, self.ids.shape[0], batch_size):
            yield self.ids[lo:lo + batch_size].to(self.lm.device), self.scored[lo:lo + batch_size].to(self.lm.device)

    def spliced_positions(self, width: int) -> torch.Tensor:
        """[1, C, 1] bool: positions ≥ skip, where activations are replaced."""
        return (torch.arange(width, device=self.lm.device) >= self.skip).view(1, -1, 1)


def build(model=None, *, data: str | None = None, text_path: str | None = None, hook: str | None = None,
          tokenizer=None, context_size: int | None = None, prepend_bos: bool | None = None,
          skip_positions: int | None = None, tokens: int | None = None, device: str = "cpu",
          model_dtype: str | None = None, text_column: str = "text") -> HeldOut:
    """Held-out contexts from a harvest folder ``data`` (settings from its manifest, explicit ones override
    model and tokens only) or from ``model``, ``text_path``, ``hook`` and ``context_size``."""
    manifest = None
    if data is not None:
        manifest = shards.read_manifest(data)
        if manifest is None:
            raise GsaeError(f"--data: {data} has no {shards.MANIFEST}: pass a folder written by harvest")
        given = {"--text": text_path, "--hook": hook, "--context-size": context_size, "--prepend-bos": prepend_bos,
                 "--skip-positions": skip_positions}
        for option, value in given.items():
            if value is not None:
                raise GsaeError(f"{option}: comes from the manifest of --data {data}; leave it out")
        model = model if model is not None else manifest["model"]
        text_path, hook = manifest["dataset_path"], manifest["hook"]
        context_size, prepend_bos = manifest["context_size"], manifest["prepend_bos"]
        skip_positions, text_column = manifest["skip_positions"], manifest.get("text_column", "text")
        tokens = manifest["tokens"] if tokens is None else min(tokens, manifest["tokens"])
    for option, value in (("--model", model), ("--text", text_path), ("--hook", hook)):
        if value is None:
            raise GsaeError(f"{option}: required (or pass --data with a harvest folder)")
    context_size = context_size or 128
    lm = models.load(model, tokenizer, device, model_dtype)
    module = hooks.resolve(lm.model, hook)
    lay = text.layout(lm.tokenizer, lm.max_context(), context_size, prepend_bos, skip_positions)
    per_context, skip = lay.rows_per_context, lay.skip
    wanted = None if tokens is None else -(-tokens // per_context)
    ids = text.contexts(lm.tokenizer, text_path, context_size, lay.prepend_bos, wanted, text_column)
    scored = torch.zeros(ids.shape, dtype=torch.bool)
    scored[:, skip:context_size - 1] = True
    if tokens is not None:
        flat = scored.view(-1)
        flat[flat.cumsum(0) > tokens] = False
    held = HeldOut(lm, module, hook, text_path, ids, scored, skip)
    if manifest is not None:
        _check_tokens(data, manifest, held)
    return held


def _check_tokens(folder: str, manifest: dict, held: HeldOut) -> None:
    """The rebuilt contexts' scored tokens must be the shards' token_ids, else the text changed."""
    want = held.ids[held.scored]
    at = 0
    for entry in manifest["shards"]:
        if at >= want.numel():
            break
        path = os.path.join(folder, entry["file"])
        with safe_open(path, "pt") as f:
            got = f.get_tensor("token_ids")
        n = min(got.numel(), want.numel() - at)
        if not torch.equal(got[:n], want[at:at + n]):
            raise GsaeError(f"--data: {path}: its token_ids differ from the text {held.text_path} as tokenized now; "
                            f"the text or the tokenizer changed since the harvest")
        at += n
