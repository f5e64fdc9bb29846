"""evaluate: an identity SAE changes nothing; zero and mean ablation agree with a hand computation."""

import math

import torch

from gsae_torch import Sae, evaluate, forward, hooks, model as models, text

C = 16
TOKENS = 20 * (C - 2)


def _identity(d: int, beta: float) -> Sae:
    """x = ReLU(x) − ReLU(−x): latents ±e_j, k = d keeps exactly the non-negative half, x̂ = x bit for bit."""
    eye = torch.eye(d)
    w = torch.cat([eye, -eye])
    return Sae(w, torch.zeros(2 * d), w.clone(), torch.zeros(d), d, beta, grad_scale=1.0, act_scale=2.0, source="identity")


def test_identity_splice_leaves_loss_and_output_unchanged(model_dir, heldout_text):
    r = evaluate(model_dir, [_identity(32, 0.0), _identity(32, 3.0)], text_path=heldout_text, hook="transformer.h.0",
                 context_size=C, tokens=TOKENS)
    assert r["tokens"] == TOKENS
    for s in r["saes"]:
        for mode, n in s["selections"].items():
            assert n["spliced_ce"] == r["clean_ce"], mode
            assert n["kl"] == 0.0 and n["fvu"] == 0.0 and n["loss_recovered"] == 1.0
    assert set(r["saes"][1]["selections"]) == {"with_gradient", "without_gradient"} and "note" in r


def test_zero_and_mean_ablation_match_a_hand_computation(model_dir, heldout_text):
    lm = models.load(model_dir)
    ln_f = lm.model.transformer.ln_f
    with torch.no_grad():  # a non-zero final-norm bias, so that the zero-ablated logits are not all equal
        ln_f.bias.copy_(torch.randn(32, generator=torch.Generator().manual_seed(4)))
    r = evaluate(lm.model, [_identity(32, 0.0)], tokenizer=lm.tokenizer, text_path=heldout_text, hook="transformer.h.1",
                 context_size=C, tokens=TOKENS)
    ids = text.contexts(lm.tokenizer, heldout_text, C, True, 20)
    targets = ids[:, 2:].reshape(-1).tolist()  # predictions at positions 1 … C−2
    W_U, b = lm.model.lm_head.weight.double().numpy(), ln_f.bias.double().numpy()

    def ce_of_constant(logits):
        lse = math.log(sum(math.exp(v) for v in logits))
        return sum(lse - logits[t] for t in targets) / len(targets)

    # Hooked at the last block, zero ablation leaves ln_f(0) = its bias, so every logit row is W_U · bias.
    assert math.isclose(r["zero_ablation_ce"], ce_of_constant(W_U @ b), rel_tol=1e-6)
    x, logits = forward.activations(lm.model, hooks.resolve(lm.model, "transformer.h.1"), ids)
    mu = x[:, 1:C - 1].double().reshape(-1, 32).mean(0)
    normed = (mu - mu.mean()) / torch.sqrt(mu.var(unbiased=False) + ln_f.eps) * ln_f.weight.double() + ln_f.bias.double()
    assert math.isclose(r["mean_ablation_ce"], ce_of_constant(W_U @ normed.numpy()), rel_tol=1e-5)
    lp = logits.double().log_softmax(-1)
    clean = -lp[:, 1:C - 1].gather(-1, ids[:, 2:, None]).mean()
    assert math.isclose(r["clean_ce"], float(clean), rel_tol=1e-6)
