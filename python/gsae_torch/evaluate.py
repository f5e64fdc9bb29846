"""evaluate: splice an SAE's x̂ in place of x at the hook on held-out contexts and measure the damage.

For each SAE and each selection (without the gradient, as at inference, and for β > 0 also with it,
after a clean backward pass), over the scored positions (see heldout.HeldOut):

    clean / spliced / zero-ablation / mean-ablation CE   mean next-token cross entropy (nats)
    loss recovered   (CE_zero − CE_spliced) / (CE_zero − CE_clean)
    KL               mean KL(softmax(clean logits) ‖ softmax(spliced logits))
    FVU, L0, dead    as gsae eval computes them, on the same rows
"""

from __future__ import annotations

import torch

from . import forward, heldout, metrics, sae as saes

LEAK_NOTE = ("with-gradient selections see the true next token through g (the gradient of the very loss being "
             "scored), so their downstream numbers are an upper bound; the without-gradient numbers are the fair "
             "comparison with TopK")


def evaluate(model=None, sae=(), *, data: str | None = None, text_path: str | None = None, hook: str | None = None,
             tokenizer=None, context_size: int | None = None, prepend_bos: bool | None = None,
             skip_positions: int | None = None, tokens: int | None = None, batch_size: int = 8, device: str = "cpu",
             model_dtype: str | None = None, text_column: str = "text") -> dict:
    """Evaluates each SAE in ``sae`` (paths or Sae objects) spliced into the model; returns a JSON-ready dict.

    Held-out contexts come from ``data`` (a harvest folder) or from the explicit settings (heldout.build).
    """
    held = heldout.build(model, data=data, text_path=text_path, hook=hook, tokenizer=tokenizer, context_size=context_size,
                         prepend_bos=prepend_bos, skip_positions=skip_positions, tokens=tokens, device=device,
                         model_dtype=model_dtype, text_column=text_column)
    models = [s if isinstance(s, saes.Sae) else saes.load(s) for s in ([sae] if isinstance(sae, (str, saes.Sae)) else sae)]
    models = [m.to(held.lm.device) for m in models]
    mean = _mean_activation(held, batch_size)
    runs = [(m, mode) for m in models for mode in _modes(m)]
    sums = {"clean": 0.0, "zero": 0.0, "mean": 0.0}
    per_run = [{"ce": 0.0, "kl": 0.0, "rec": metrics.Reconstruction(m.d, m.latents)} for m, _ in runs]
    need_g = any(mode == "with_gradient" for _, mode in runs)
    for ids, scored in held.batches(batch_size):
        if need_g:
            x, g, clean = forward.with_gradient(held.lm.model, held.module, ids)
        else:
            (x, clean), g = forward.activations(held.lm.model, held.module, ids), None
        where = held.spliced_positions(ids.shape[1])
        sums["clean"] += metrics.ce_sum(clean, ids, scored)
        for key, value in (("zero", torch.zeros_like(mean)), ("mean", mean)):
            logits = forward.replaced(held.lm.model, held.module, ids, lambda h, v=value: torch.where(where, v.to(h.dtype), h))
            sums[key] += metrics.ce_sum(logits, ids, scored)
        for (m, mode), acc in zip(runs, per_run):
            xhat = _splice_one(m, x, g if mode == "with_gradient" else None, scored, acc["rec"])
            logits = forward.replaced(held.lm.model, held.module, ids, lambda h, r=xhat: torch.where(where, r, h))
            acc["ce"] += metrics.ce_sum(logits, ids, scored)
            acc["kl"] += metrics.kl_sum(clean, logits, scored)
    n = held.tokens
    clean, zero, mean_ce = sums["clean"] / n, sums["zero"] / n, sums["mean"] / n
    report = {"model": held.lm.name, "hook": held.hook, "text": held.text_path, "contexts": int(held.ids.shape[0]),
              "context_size": int(held.ids.shape[1]), "skip_positions": held.skip, "tokens": n,
              "clean_ce": clean, "zero_ablation_ce": zero, "mean_ablation_ce": mean_ce, "saes": []}
    for m in models:
        entry = {"sae": m.source, "latents": m.latents, "k": m.k, "beta": m.beta, "selections": {}}
        for (mm, mode), acc in zip(runs, per_run):
            if mm is m:
                entry["selections"][mode] = _numbers(acc, n, clean, zero, mean_ce, m.latents)
        report["saes"].append(entry)
    if any(m.beta != 0.0 for m in models):
        report["note"] = LEAK_NOTE
    return report


def _modes(m: saes.Sae) -> list[str]:
    return ["without_gradient", "with_gradient"] if m.beta != 0.0 else ["without_gradient"]


def _mean_activation(held: heldout.HeldOut, batch_size: int) -> torch.Tensor:
    """Mean of x over the scored rows, [d] in the model's dtype: what mean ablation puts in place of x."""
    total, count = None, 0
    for ids, scored in held.batches(batch_size):
        x, _ = forward.activations(held.lm.model, held.module, ids)
        rows = x[scored].double()
        total = rows.sum(0) if total is None else total + rows.sum(0)
        count += rows.shape[0]
    return (total / count).to(x.dtype)


def _splice_one(m: saes.Sae, x: torch.Tensor, g: torch.Tensor | None, scored: torch.Tensor, rec) -> torch.Tensor:
    """x̂ [B, C, d] in the model's units for every position, with the scored rows added to ``rec``."""
    B, C, d = x.shape
    xs, gs = m.scaled(x.reshape(-1, d), None if g is None else g.reshape(-1, d))
    a, selected = m.encode(xs, gs)
    xhat_s = m.decode(a)
    flat = scored.reshape(-1)
    rec.add(xs[flat], xhat_s[flat], a[flat], selected[flat])
    return (xhat_s / m.input_scale).to(x.dtype).view(B, C, d)


def _numbers(acc: dict, n: int, clean: float, zero: float, mean_ce: float, latents: int) -> dict:
    spliced = acc["ce"] / n
    rec = acc["rec"]
    return {"spliced_ce": spliced, "ce_increase": spliced - clean,
            "loss_recovered": (zero - spliced) / (zero - clean),
            "loss_recovered_vs_mean_ablation": (mean_ce - spliced) / (mean_ce - clean),
            "kl": acc["kl"] / n, "fvu": rec.fvu(), "l0": rec.l0(), "dead_latents": rec.dead(),
            "dead_fraction": rec.dead() / latents}
