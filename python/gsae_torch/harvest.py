"""harvest: (x, ∂L/∂x) pairs at one hook of a causal LM, written as shards gsae trains on.

Rows are the positions ``skip_positions … C−2`` of each context, context by context: the last
position is left out because no prediction of its context depends on it (its gradient is exactly 0).
Contexts are processed in batches on a fixed grid (batch b holds contexts b·B … b·B+B−1), so that a
resumed harvest recomputes exactly what an uninterrupted one computes and writes the same bytes.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from typing import Callable

import torch

from . import __version__, forward, hooks, model as models, shards, text
from .errors import GsaeError

Progress = Callable[[int, int], None]


@dataclass
class HarvestResult:
    """What a harvest left in ``out``: its shard files, rows (tokens) written, width d, and the shard it resumed at."""

    out: str
    shards: list[str]
    tokens: int
    d: int
    resumed_at_shard: int = 0
    manifest: dict = field(default_factory=dict, repr=False)


def harvest(model, out: str, *, text_path: str, hook: str, tokenizer=None, context_size: int = 128,
            prepend_bos: bool | None = None, skip_positions: int | None = None, tokens: int | None = None,
            batch_size: int = 8, shard_tokens: int = 65536, dtype: str = "F32", device: str = "cpu",
            model_dtype: str | None = None, text_column: str = "text", progress: Progress | None = None) -> HarvestResult:
    """Harvests activations and gradients at ``hook`` into shards in ``out`` (resuming a harvest already there).

    model: a Hugging Face folder or a model object (with ``tokenizer``). prepend_bos: default True when
    the tokenizer has a BOS token. skip_positions: leading positions of each context not written
    (default 1 with a BOS, which is an outlier no SAE should fit, else 0). tokens: at most this many
    rows (default: all the text gives). dtype: F32, F16 or BF16 for the stored activations and
    gradients. progress(rows_done, rows_total) is called after each batch.
    """
    if dtype not in shards.STORAGE:
        raise GsaeError(f"--dtype: '{dtype}' is not one of {', '.join(shards.STORAGE)}")
    _positive("--batch-size", batch_size)
    _positive("--shard-tokens", shard_tokens)
    if tokens is not None:
        _positive("--tokens", tokens)
    lm = models.load(model, tokenizer, device, model_dtype)
    module = hooks.resolve(lm.model, hook)
    lay = text.layout(lm.tokenizer, lm.max_context(), context_size, prepend_bos, skip_positions)
    os.makedirs(out, exist_ok=True)
    wanted_contexts = None if tokens is None else -(-tokens // lay.rows_per_context)
    ids = text.contexts(lm.tokenizer, text_path, context_size, lay.prepend_bos, wanted_contexts, text_column)
    available = ids.shape[0] * lay.rows_per_context
    total = available if tokens is None else min(tokens, available)
    manifest = _start_manifest(out, lm, hook, lay, tokens, total, batch_size, shard_tokens, dtype, model_dtype,
                               text_path, text_column)
    return _run(lm, module, ids, out, manifest, lay.rows_per_context, progress)


def _positive(option: str, value: int) -> None:
    if value < 1:
        raise GsaeError(f"{option}: must be ≥ 1, got {value}")


def _versions() -> dict:
    import safetensors
    import transformers

    return {"gsae_torch": __version__, "torch": torch.__version__, "transformers": transformers.__version__,
            "safetensors": safetensors.__version__, "python": platform.python_version()}


# Settings a resumed harvest must share with the one it continues.
_SAME = ("model", "hook", "context_size", "prepend_bos", "skip_positions", "token_budget", "tokens", "batch_size",
         "shard_tokens", "dtype", "model_dtype", "dataset_path", "text_column", "source_sha256")


def _start_manifest(out, lm, hook, lay, budget, total, batch_size, shard_tokens, dtype, model_dtype, text_path,
                    text_column) -> dict:
    context_size, bos, skip = lay.context_size, lay.prepend_bos, lay.skip
    manifest = {
        "format": shards.FORMAT, "format_version": shards.FORMAT_VERSION,
        "model": lm.name, "hook": hook, "context_size": context_size, "prepend_bos": bos,
        "dataset_path": text_path, "text_column": text_column, "source_sha256": text.source_sha256(text_path),
        "skip_positions": skip, "positions": f"{skip} .. {context_size - 2} of each context (the last has no later prediction)",
        "separator_token": text.separator(lm.tokenizer),
        "token_budget": budget, "tokens": total, "batch_size": batch_size, "shard_tokens": shard_tokens,
        "dtype": dtype, "model_dtype": model_dtype or "float32",
        "d": None, "gradient": forward.GRADIENT_DEFINITION, "versions": _versions(), "complete": False, "shards": [],
    }
    old = shards.read_manifest(out)
    if old is None:
        stray = sorted(f for f in os.listdir(out) if f.startswith("shard-") and f.endswith(".safetensors"))
        if stray:
            raise GsaeError(f"--out: {out} holds {stray[0]} but no {shards.MANIFEST}: use an empty folder")
        shards.write_manifest(out, manifest)  # from here on a rerun resumes, even before the first shard
        return manifest
    for key in _SAME:
        if old.get(key) != manifest[key]:
            raise GsaeError(f"--out: {out} holds a harvest with {key}={old.get(key)!r}, this run asks {manifest[key]!r}: "
                            f"rerun with the same settings to resume, or use another folder")
    for entry in old["shards"]:
        path = os.path.join(out, entry["file"])
        if not os.path.isfile(path) or shards.file_sha256(path) != entry["sha256"]:
            raise GsaeError(f"--out: {path} is missing or differs from its sha256 in {shards.MANIFEST}: "
                            f"delete the folder and harvest again")
    manifest["shards"], manifest["d"] = old["shards"], old["d"]
    return manifest


def _run(lm, module, ids, out, manifest, per_context, progress) -> HarvestResult:
    total, shard_tokens, batch_size = manifest["tokens"], manifest["shard_tokens"], manifest["batch_size"]
    skip, C = manifest["skip_positions"], manifest["context_size"]
    resumed_at = len(manifest["shards"])
    start = resumed_at * shard_tokens
    batch = (start // per_context) // batch_size
    drop = start - batch * batch_size * per_context  # rows of the first batch already in earlier shards
    pending: list[tuple] = []
    pending_rows = 0
    done = start
    while done < total:
        lo = batch * batch_size
        hi = min(lo + batch_size, ids.shape[0])
        chunk = ids[lo:hi].to(lm.device)
        x, g, _ = forward.with_gradient(lm.model, module, chunk)
        rows = _rows(x, g, chunk, skip, C)
        if drop:
            rows = tuple(t[drop:] for t in rows)
            drop = 0
        keep = min(rows[0].shape[0], total - done)
        rows = tuple(t[:keep] for t in rows)
        pending.append(rows)
        pending_rows += keep
        done += keep
        while pending_rows >= shard_tokens or (done == total and pending_rows > 0):
            pending, pending_rows = _write_shard(out, manifest, pending, min(shard_tokens, pending_rows))
        if progress:
            progress(done, total)
        batch += 1
    manifest["complete"] = True
    shards.write_manifest(out, manifest)
    return HarvestResult(out, [e["file"] for e in manifest["shards"]], total, manifest["d"], resumed_at, manifest)


def _rows(x, g, ids, skip, C):
    """Rows of positions skip … C−2, context-major: x, g [n, d]; token ids and positions [n]."""
    n, d = x.shape[0], x.shape[2]
    sl = slice(skip, C - 1)
    pos = torch.arange(C, device=ids.device)[sl].expand(n, -1)
    return (x[:, sl].reshape(-1, d), g[:, sl].reshape(-1, d), ids[:, sl].reshape(-1), pos.reshape(-1))


def _write_shard(out, manifest, pending, n):
    """Writes the first n pending rows as the next shard and records it; returns the rest."""
    parts = [torch.cat([p[i] for p in pending]) for i in range(4)]
    head, rest = [t[:n] for t in parts], [t[n:] for t in parts]
    data = shards.shard_bytes(*head, manifest["dtype"])
    name = shards.shard_name(len(manifest["shards"]))
    shards.write_atomic(os.path.join(out, name), data)
    manifest["d"] = int(head[0].shape[1])
    manifest["shards"].append({"file": name, "tokens": n, "sha256": shards.sha256(data)})
    shards.write_manifest(out, manifest)
    left = rest[0].shape[0]
    return ([tuple(rest)] if left else []), left
