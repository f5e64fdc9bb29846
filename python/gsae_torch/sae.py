"""A trained SAE loaded from a gsae checkpoint or export, and its forward pass in torch (SPEC §2).

    z     = (x·s_x − b_dec) · W_encᵀ + b_enc         [N, M]
    s     = |(grad_scale·g) · W_decᵀ|                [N, M]
    score = z + β · z ∘ s                            [N, M]
    S_n   = the k largest score[n, ·], ties: larger score first, then lower latent index
    a     = ReLU(z) on S_n, 0 elsewhere;  x̂ = (a · W_dec + b_dec) / s_x

s_x is the checkpoint's act_scale, or 1 for an export whose cfg.json says ``act_scale_folded``
(its biases already carry the scale). Without g, β falls back to 0 (plain TopK selection).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace

import torch
from safetensors.torch import load_file

from .errors import GsaeError


@dataclass(frozen=True)
class Sae:
    """Parameters (W_enc [M, d], b_enc [M], W_dec [M, d], b_dec [d]) and the numbers that go with them."""

    W_enc: torch.Tensor
    b_enc: torch.Tensor
    W_dec: torch.Tensor
    b_dec: torch.Tensor
    k: int
    beta: float
    grad_scale: float = 1.0
    act_scale: float = 1.0
    act_scale_folded: bool = False
    source: str = ""

    @property
    def d(self) -> int:
        return self.W_enc.shape[1]

    @property
    def latents(self) -> int:
        return self.W_enc.shape[0]

    @property
    def input_scale(self) -> float:
        """s_x: what x is multiplied by before encoding (1 when the export folded act_scale in)."""
        return 1.0 if self.act_scale_folded else self.act_scale

    def to(self, device=None, dtype=None) -> "Sae":
        move = lambda t: t.to(device=device, dtype=dtype)  # noqa: E731
        return replace(self, W_enc=move(self.W_enc), b_enc=move(self.b_enc), W_dec=move(self.W_dec), b_dec=move(self.b_dec))

    def scaled(self, x: torch.Tensor, g: torch.Tensor | None):
        """The SAE's inputs (x·s_x, g·grad_scale or None), in the SAE's dtype: float32 scales as the engine scales."""
        dt = self.W_enc.dtype

        def times(t, scale):
            t = t.to(dt)
            return t * torch.tensor(scale, dtype=dt, device=t.device) if scale != 1.0 else t

        return times(x, self.input_scale), None if g is None else times(g, self.grad_scale)

    def encode(self, xs: torch.Tensor, gs: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(a [N, M] with ReLU(z) on the selected latents and 0 elsewhere, selected [N, M] bool) for scaled inputs [N, d]."""
        dt = self.W_enc.dtype
        xs = xs.to(dt)
        z = (xs - self.b_dec) @ self.W_enc.T + self.b_enc
        if gs is not None and self.beta != 0.0:
            s = (gs.to(dt) @ self.W_dec.T).abs()
            score = z + self.beta * z * s
        else:
            score = z
        selected = top_k_mask(score, self.k)
        a = torch.where(selected, z.clamp_min(0), torch.zeros_like(z))
        return a, selected

    def decode(self, a: torch.Tensor) -> torch.Tensor:
        """x̂ in the SAE's units (a · W_dec + b_dec): [N, d]."""
        return a @ self.W_dec + self.b_dec

    def reconstruct(self, x: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """x̂ in the model's units for raw activations x [N, d] (and raw gradients g [N, d] or None): [N, d]."""
        xs, gs = self.scaled(x, g)
        a, _ = self.encode(xs, gs)
        return (self.decode(a) / self.input_scale).to(x.dtype)


def top_k_mask(score: torch.Tensor, k: int) -> torch.Tensor:
    """[N, M] bool: the k largest of each row, ties broken toward the lower index (SPEC §2)."""
    threshold = torch.topk(score, k, dim=1).values[:, -1:]
    above = score > threshold
    at = score == threshold
    room = k - above.sum(dim=1, keepdim=True)
    return above | (at & (torch.cumsum(at.int(), dim=1) <= room))


def load(path: str, dtype=torch.float32, device="cpu") -> Sae:
    """An SAE from a gsae run folder, its checkpoint/ folder, or an export (sparsify or SAELens layout)."""
    p = os.fspath(path)
    if not os.path.isdir(p):
        raise GsaeError(f"--sae: {p}: no such folder")
    for candidate in (p, os.path.join(p, "checkpoint")):
        if os.path.isfile(os.path.join(candidate, "checkpoint.json")):
            return _checkpoint(candidate).to(device, dtype)
    if os.path.isfile(os.path.join(p, "cfg.json")):
        return _export(p).to(device, dtype)
    raise GsaeError(f"--sae: {p} is neither a gsae run (checkpoint/checkpoint.json) nor an export (cfg.json)")


def _json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        raise GsaeError(f"--sae: {path}: not readable JSON ({e})") from e


def _tensors(path: str, names: tuple[str, ...]) -> dict:
    if not os.path.isfile(path):
        raise GsaeError(f"--sae: {path}: no such file")
    t = load_file(path)
    missing = [n for n in names if n not in t]
    if missing:
        raise GsaeError(f"--sae: {path} has no tensor {missing[0]}")
    return t


def _field(cfg: dict, path: str, key: str):
    if key not in cfg:
        raise GsaeError(f"--sae: {path} has no field '{key}'")
    return cfg[key]


def _checkpoint(folder: str) -> Sae:
    meta_path = os.path.join(folder, "checkpoint.json")
    meta = _json(meta_path)
    sae, scales = _field(meta, meta_path, "sae"), _field(meta, meta_path, "scales")
    t = _sharded(folder, int(meta["shards"])) if "shards" in meta else \
        _tensors(os.path.join(folder, "model.safetensors"), ("encoder.weight", "encoder.bias", "W_dec", "b_dec"))
    return _checked(Sae(t["encoder.weight"], t["encoder.bias"], t["W_dec"], t["b_dec"], int(sae["k"]), float(sae["beta"]),
                        float(scales["grad_scale"]), float(scales["act_scale"]), False, folder))


def _sharded(folder: str, ranks: int) -> dict:
    """A latent-sharded checkpoint (gsae train --parallel latents): each rank's rows, in rank order, b_dec from rank 0."""
    names = ("encoder.weight", "encoder.bias", "W_dec", "b_dec")
    parts = [_tensors(os.path.join(folder, f"shard-{r:05d}-of-{ranks:05d}.safetensors"), names) for r in range(ranks)]
    t = {n: torch.cat([p[n] for p in parts]) for n in names[:3]}
    t["b_dec"] = parts[0]["b_dec"]
    return t


def _export(folder: str) -> Sae:
    cfg_path = os.path.join(folder, "cfg.json")
    cfg = _json(cfg_path)
    folded = bool(cfg.get("act_scale_folded", False))
    common = dict(k=int(_field(cfg, cfg_path, "k")), beta=float(cfg.get("beta", 0.0)), grad_scale=float(cfg.get("grad_scale", 1.0)),
                  act_scale=float(cfg.get("act_scale", 1.0)), act_scale_folded=folded, source=folder)
    sparsify, saelens = os.path.join(folder, "sae.safetensors"), os.path.join(folder, "sae_weights.safetensors")
    if os.path.isfile(sparsify):
        t = _tensors(sparsify, ("encoder.weight", "encoder.bias", "W_dec", "b_dec"))
        return _checked(Sae(t["encoder.weight"], t["encoder.bias"], t["W_dec"], t["b_dec"], **common))
    if os.path.isfile(saelens):
        t = _tensors(saelens, ("W_enc", "b_enc", "W_dec", "b_dec"))
        return _checked(Sae(t["W_enc"].T.contiguous(), t["b_enc"], t["W_dec"], t["b_dec"], **common))
    raise GsaeError(f"--sae: {folder} has cfg.json but neither sae.safetensors (sparsify) nor sae_weights.safetensors (SAELens)")


def _checked(s: Sae) -> Sae:
    m, d = s.W_enc.shape
    shapes = {"b_enc": (s.b_enc.shape, (m,)), "W_dec": (s.W_dec.shape, (m, d)), "b_dec": (s.b_dec.shape, (d,))}
    for name, (got, want) in shapes.items():
        if tuple(got) != want:
            raise GsaeError(f"--sae: {s.source}: {name} has shape {tuple(got)}, expected {want}")
    if not 1 <= s.k <= m:
        raise GsaeError(f"--sae: {s.source}: k = {s.k} is not in 1 … {m}")
    return s
