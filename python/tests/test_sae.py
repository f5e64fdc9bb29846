"""SPEC §2 selection in torch against a hand computation, the tie rule, scales, and the export layouts."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from gsae_torch import GsaeError, Sae, load_sae
from gsae_torch.sae import top_k_mask


def _random_sae(d=6, m=20, k=4, beta=1.5, seed=0, dtype=torch.float64, **scales):
    g = torch.Generator().manual_seed(seed)
    w_dec = torch.randn(m, d, generator=g, dtype=dtype)
    w_dec /= w_dec.norm(dim=1, keepdim=True)
    return Sae(torch.randn(m, d, generator=g, dtype=dtype), torch.randn(m, generator=g, dtype=dtype) * 0.1, w_dec,
               torch.randn(d, generator=g, dtype=dtype) * 0.1, k, beta, **scales)


def _by_hand(s: Sae, x: np.ndarray, g: np.ndarray):
    """Row by row, with loops: the selected set and x̂ in raw units."""
    W_enc, b_enc, W_dec, b_dec = (t.numpy() for t in (s.W_enc, s.b_enc, s.W_dec, s.b_dec))
    sets, xhats = [], []
    for xn, gn in zip(x, g):
        xs, gs = xn * s.act_scale, gn * s.grad_scale
        z = [(xs - b_dec) @ W_enc[i] + b_enc[i] for i in range(s.latents)]
        score = [z[i] + s.beta * z[i] * abs(gs @ W_dec[i]) for i in range(s.latents)]
        order = sorted(range(s.latents), key=lambda i: (-score[i], i))[: s.k]
        xhat = b_dec + sum(max(z[i], 0.0) * W_dec[i] for i in order)
        sets.append(set(order))
        xhats.append(xhat / s.act_scale)
    return sets, np.array(xhats)


def test_selection_and_reconstruction_match_a_hand_computation():
    s = _random_sae(grad_scale=3.0, act_scale=0.5)
    g = torch.Generator().manual_seed(1)
    x, grad = torch.randn(12, 6, generator=g, dtype=torch.float64), torch.randn(12, 6, generator=g, dtype=torch.float64)
    sets, xhat = _by_hand(s, x.numpy(), grad.numpy())
    xs, gs = s.scaled(x, grad)
    _, selected = s.encode(xs, gs)
    assert [set(torch.nonzero(r).flatten().tolist()) for r in selected] == sets
    assert np.allclose(s.reconstruct(x, grad).numpy(), xhat, rtol=1e-12, atol=1e-12)


def test_without_gradient_beta_falls_back_to_zero():
    s = _random_sae()
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    plain = Sae(s.W_enc, s.b_enc, s.W_dec, s.b_dec, s.k, 0.0)
    assert torch.equal(s.reconstruct(x, None), plain.reconstruct(x, torch.ones_like(x)))


def test_ties_prefer_the_larger_score_then_the_lower_index():
    score = torch.tensor([[1.0, 3.0, 2.0, 3.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    mask = top_k_mask(score, 3)
    assert mask[0].nonzero().flatten().tolist() == [1, 2, 3]
    assert mask[1].nonzero().flatten().tolist() == [0, 1, 2]



@pytest.mark.parametrize("layout", ["sparsify", "saelens"])
@pytest.mark.parametrize("folded", [False, True])
def test_exports_reconstruct_like_the_checkpoint(tmp_path, layout, folded):
    s = _random_sae(dtype=torch.float32, grad_scale=2.0, act_scale=4.0)
    b_enc, b_dec = (s.b_enc / 4.0, s.b_dec / 4.0) if folded else (s.b_enc, s.b_dec)
    cfg = {"k": s.k, "beta": s.beta, "grad_scale": 2.0, "act_scale": 4.0}
    if folded:
        cfg["act_scale_folded"] = True
    folder = tmp_path / layout
    folder.mkdir()
    if layout == "sparsify":
        save_file({"encoder.weight": s.W_enc, "encoder.bias": b_enc, "W_dec": s.W_dec, "b_dec": b_dec}, str(folder / "sae.safetensors"))
        cfg.update(d_in=s.d, num_latents=s.latents)
    else:
        save_file({"W_enc": s.W_enc.T.contiguous(), "b_enc": b_enc, "W_dec": s.W_dec, "b_dec": b_dec},
                  str(folder / "sae_weights.safetensors"))
        cfg.update(d_in=s.d, d_sae=s.latents)
    (folder / "cfg.json").write_text(json.dumps(cfg))
    loaded = load_sae(str(folder))
    g = torch.Generator().manual_seed(3)
    x, grad = torch.randn(50, 6, generator=g), torch.randn(50, 6, generator=g)
    for gg in (grad, None):
        a, sel_a = s.encode(*s.scaled(x, gg))
        b, sel_b = loaded.encode(*loaded.scaled(x, gg))
        assert torch.equal(sel_a, sel_b)
        assert torch.allclose(loaded.reconstruct(x, gg), s.reconstruct(x, gg), rtol=1e-5, atol=1e-6)


def test_a_latent_sharded_checkpoint_loads_like_one_file(tmp_path):
    s = _random_sae(m=7, dtype=torch.float32, grad_scale=2.0, act_scale=1.5)
    meta = {"sae": {"k": s.k, "beta": s.beta}, "scales": {"grad_scale": 2.0, "act_scale": 1.5}}
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    whole.mkdir()
    sharded.mkdir()
    save_file({"encoder.weight": s.W_enc, "encoder.bias": s.b_enc, "W_dec": s.W_dec, "b_dec": s.b_dec}, str(whole / "model.safetensors"))
    (whole / "checkpoint.json").write_text(json.dumps(meta))
    for r, (lo, hi) in enumerate([(0, 2), (2, 4), (4, 7)]):  # 7 latents on 3 ranks, as gsae cuts them
        save_file({"encoder.weight": s.W_enc[lo:hi].contiguous(), "encoder.bias": s.b_enc[lo:hi].contiguous(),
                   "W_dec": s.W_dec[lo:hi].contiguous(), "b_dec": s.b_dec}, str(sharded / f"shard-{r:05d}-of-00003.safetensors"))
    (sharded / "checkpoint.json").write_text(json.dumps(dict(meta, shards=3)))
    a, b = load_sae(str(whole)), load_sae(str(sharded))
    for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    (sharded / "shard-00001-of-00003.safetensors").unlink()
    with pytest.raises(GsaeError, match="shard-00001-of-00003.safetensors: no such file"):
        load_sae(str(sharded))


def test_load_names_what_is_missing(tmp_path):
    with pytest.raises(GsaeError, match="no such folder"):
        load_sae(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(GsaeError, match="neither a gsae run"):
        load_sae(str(tmp_path / "empty"))
