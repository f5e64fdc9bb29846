"""Loading a causal LM and its tokenizer from a Hugging Face folder, and what the rest needs to know of it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .errors import GsaeError

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}


@dataclass
class LoadedModel:
    """A causal LM ready for harvesting or evaluation.

    model: in eval mode on its device, parameters frozen when gsae_torch loaded it.
    tokenizer: its tokenizer. name: the Hugging Face name_or_path recorded in manifests.
    """

    model: nn.Module
    tokenizer: Any
    name: str

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def max_context(self) -> int | None:
        """Longest context the model's position embeddings allow, or None when it states none."""
        cfg = self.model.config
        for key in ("n_positions", "max_position_embeddings", "n_ctx"):
            value = getattr(cfg, key, None)
            if isinstance(value, int) and value > 0:
                return value
        return None


def load(model, tokenizer=None, device: str = "cpu", dtype: str | None = None) -> LoadedModel:
    """A LoadedModel from a folder path or from a model object (then ``tokenizer`` is required).

    A model object is used as it is (moved to nothing, frozen not); only eval mode is set.
    """
    if isinstance(model, nn.Module):
        if tokenizer is None:
            raise GsaeError("tokenizer: a model object needs its tokenizer passed with it")
        model.eval()
        name = getattr(getattr(model, "config", None), "_name_or_path", "") or type(model).__name__
        return LoadedModel(model, tokenizer, name)
    path = os.fspath(model)
    if not os.path.isdir(path):
        raise GsaeError(f"--model: {path}: no such folder (expected a Hugging Face model folder with config.json)")
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise GsaeError(f"--model: {path} has no config.json: not a Hugging Face model folder")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = _dtype(dtype)
    try:
        lm = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch_dtype)
    except (OSError, ValueError) as e:
        raise GsaeError(f"--model: {path}: cannot load the model ({_first_line(e)})") from e
    if tokenizer is None:
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError, TypeError) as e:
            raise GsaeError(f"--model: {path}: cannot load its tokenizer ({_first_line(e)})") from e
    try:
        lm.to(torch.device(device))
    except (RuntimeError, AssertionError) as e:
        raise GsaeError(f"--device: cannot use '{device}' ({_first_line(e)})") from e
    lm.requires_grad_(False)
    lm.eval()
    return LoadedModel(lm, tokenizer, path)


def _dtype(name: str | None):
    if name is None:
        return torch.float32
    if name not in DTYPES:
        raise GsaeError(f"--model-dtype: '{name}' is not one of {', '.join(DTYPES)}")
    return DTYPES[name]


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def unembedding(lm: LoadedModel) -> nn.Module:
    """The output embedding (the linear map from the final hidden state to logits)."""
    head = lm.model.get_output_embeddings()
    if head is None:
        raise GsaeError("--model: the model has no output embedding (get_output_embeddings() is None): not a causal LM")
    return head


FINAL_NORMS = ("transformer.ln_f", "model.norm", "gpt_neox.final_layer_norm", "model.decoder.final_layer_norm", "transformer.norm_f")


def final_norm(lm: LoadedModel, path: str | None = None) -> nn.Module:
    """The model's final normalisation before the unembedding: ``path`` or the first of FINAL_NORMS present."""
    for candidate in [path] if path else FINAL_NORMS:
        try:
            return lm.model.get_submodule(candidate)
        except AttributeError:
            continue
    if path:
        raise GsaeError(f"--final-norm: the model has no module '{path}'")
    raise GsaeError(f"--final-norm: none of {', '.join(FINAL_NORMS)} exists in this model; name its final norm")
