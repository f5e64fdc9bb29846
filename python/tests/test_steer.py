"""steer: α = 0 moves nothing, targets are the logit lens's top tokens, a strong push at the last block moves them."""

import torch

from gsae_torch import Sae, model as models, steer
from gsae_torch.steer import target_tokens

C = 16


def _sae(d=32, m=24, seed=0) -> Sae:
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(m, d, generator=g)
    w /= w.norm(dim=1, keepdim=True)
    # W_enc = W_dec and b_dec = 0 as gsae initialises: every latent is live on varied inputs.
    return Sae(w.clone(), torch.zeros(m), w, torch.zeros(d), 4, 0.0, source=f"random{seed}")


def test_alpha_zero_changes_nothing_and_strong_steering_moves_every_target(model_dir, heldout_text):
    r = steer(model_dir, [_sae()], text_path=heldout_text, hook="transformer.h.1", context_size=C, tokens=40 * (C - 2),
              alphas=[0.0, 20.0], latents=6, targets=1, contexts=4)
    s = r["saes"][0]
    zero, strong = s["per_alpha"]
    assert zero["delta_logprob"] == 0.0 and zero["delta_mass"] == 0.0 and zero["fraction_moved"] == 0.0
    assert strong["fraction_moved"] == 1.0 and strong["delta_logprob"] > 1.0 and strong["delta_mass"] > 0.0
    assert len(s["steered_latents"]) == 6 and s["live_latents"] >= 6


def test_an_sae_steers_the_same_latents_whichever_saes_share_the_call(model_dir, heldout_text):
    def run(saes):
        r = steer(model_dir, saes, text_path=heldout_text, hook="transformer.h.1", context_size=C, tokens=40 * (C - 2),
                  alphas=[1.0], latents=5, targets=1, contexts=4)
        return {s["sae"]: (s["steered_latents"], s["per_alpha"]) for s in r["saes"]}

    alone = run([_sae(seed=1)])["random1"]
    shared = run([_sae(m=40, seed=2), _sae(seed=1)])["random1"]
    assert alone == shared and len(alone[0]) == 5


def test_targets_are_the_top_tokens_of_the_decoder_direction_through_norm_and_unembedding(model_dir):
    lm = models.load(model_dir)
    with torch.no_grad():
        lm.model.transformer.ln_f.weight.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(5))
    w = torch.randn(32, generator=torch.Generator().manual_seed(6))
    gamma, W_U = lm.model.transformer.ln_f.weight.double(), lm.model.lm_head.weight.double()
    scores = [float(W_U[v] @ (gamma * (w.double() - w.double().mean()))) for v in range(W_U.shape[0])]
    want = sorted(range(len(scores)), key=lambda v: -scores[v])[:5]
    assert target_tokens(lm, w, 5).tolist() == want
