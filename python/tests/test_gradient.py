"""The harvested gradient is ∂(Σ_t' CE_t')/∂x_t: checked against a hand-written forward and finite differences."""

import torch
from safetensors.torch import load_file

from gsae_torch import forward, harvest, hooks, model as models, text

import reference

C = 16


def _harvest(model_dir, train_text, tmp_path, hook):
    out = tmp_path / "h"
    harvest(model_dir, str(out), text_path=train_text, hook=hook, context_size=C, tokens=6 * (C - 2),
            batch_size=4, model_dtype="float64")
    shard = load_file(str(out / "shard-00000.safetensors"))
    lm = models.load(model_dir, dtype="float64")
    ids = text.contexts(lm.tokenizer, train_text, C, True, 6)
    return shard, lm, ids


def test_gradient_equals_autograd_of_a_second_forward(model_dir, train_text, tmp_path):
    shard, lm, ids = _harvest(model_dir, train_text, tmp_path, "transformer.h.0")
    x, hf_logits = forward.activations(lm.model, hooks.resolve(lm.model, "transformer.h.0"), ids)
    leaf = x.clone().requires_grad_(True)
    logits = reference.logits_after(lm.model, leaf, first_block=1)
    assert torch.allclose(logits, hf_logits, rtol=0, atol=1e-9), "the hand-written forward must reproduce the model"
    (g,) = torch.autograd.grad(reference.summed_ce(logits, ids).sum(), leaf)
    want_x, want_g = x[:, 1:C - 1].reshape(-1, x.shape[-1]), g[:, 1:C - 1].reshape(-1, x.shape[-1])
    assert shard["gradients"].dtype == torch.float32
    # Stored as float32: each entry is the float64 value rounded once (relative error ≤ 2^-24).
    assert torch.allclose(shard["activations"].double(), want_x, rtol=2 ** -23, atol=0)
    assert torch.allclose(shard["gradients"].double(), want_g, rtol=2 ** -23, atol=1e-30)
    assert want_g.abs().max() > 1e-3, "gradients must not be trivially zero"
    assert torch.equal(shard["token_ids"], ids[:, 1:C - 1].reshape(-1))
    assert torch.equal(shard["positions"], torch.arange(1, C - 1).repeat(6))


def test_gradient_matches_central_differences_in_float64(model_dir, train_text, tmp_path):
    shard, lm, ids = _harvest(model_dir, train_text, tmp_path, "transformer.h.0")
    module = hooks.resolve(lm.model, "transformer.h.0")
    h = 1e-5
    r = C - 2
    for context, position, coord in [(0, 1, 0), (2, 7, 5), (5, C - 2, 31), (3, 4, 17)]:
        one = ids[context:context + 1]

        def loss(eps):
            def nudge(x):
                x = x.clone()
                x[0, position, coord] += eps
                return x

            return float(forward.token_losses(forward.replaced(lm.model, module, one, nudge), one).sum())

        fd = (loss(h) - loss(-h)) / (2 * h)
        got = float(shard["gradients"][context * r + position - 1, coord])
        assert abs(got - fd) <= 1e-6 * max(abs(fd), 1e-2), (context, position, coord, got, fd)
