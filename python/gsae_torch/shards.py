"""Shard files and the harvest manifest, each written atomically (temporary name, fsync, rename).

A shard ``shard-NNNNN.safetensors`` holds ``activations [N, d]`` and ``gradients [N, d]`` (F32,
F16 or BF16), ``token_ids [N]`` and ``positions [N]`` (I64). ``manifest.json`` beside the shards
lists the shards completed so far; it is rewritten after each one, so a crash loses at most the
shard being written.
"""

from __future__ import annotations

import hashlib
import json
import os

import torch
from safetensors.torch import save

from .errors import GsaeError

MANIFEST = "manifest.json"
FORMAT = "gsae-harvest"
FORMAT_VERSION = 1
STORAGE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.safetensors"


def write_atomic(path: str, data: bytes) -> None:
    """Writes ``data`` to ``path`` so that ``path`` holds either its old content or all of ``data``."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def shard_bytes(activations: torch.Tensor, gradients: torch.Tensor, token_ids: torch.Tensor, positions: torch.Tensor,
                dtype: str) -> bytes:
    """The safetensors bytes of one shard; activations, gradients: [N, d]; token_ids, positions: [N]."""
    store = STORAGE[dtype]
    tensors = {
        "activations": activations.detach().to("cpu", store).contiguous(),
        "gradients": gradients.detach().to("cpu", store).contiguous(),
        "token_ids": token_ids.to("cpu", torch.int64).contiguous(),
        "positions": positions.to("cpu", torch.int64).contiguous(),
    }
    return save(tensors, metadata={"format": FORMAT})


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(folder: str) -> dict | None:
    """The manifest in ``folder``, or None when there is none."""
    path = os.path.join(folder, MANIFEST)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        raise GsaeError(f"{path}: not readable JSON ({e})") from e
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise GsaeError(f"{path}: not a {FORMAT} manifest of format_version {FORMAT_VERSION}")
    return manifest


def write_manifest(folder: str, manifest: dict) -> None:
    write_atomic(os.path.join(folder, MANIFEST), (json.dumps(manifest, indent=2) + "\n").encode())
