"""Plain-text tables of evaluate's and steer's reports (the command line prints them)."""

from __future__ import annotations


def evaluate_table(r: dict) -> str:
    lines = [f"model {r['model']}  hook {r['hook']}  text {r['text']}",
             f"{r['tokens']} tokens in {r['contexts']} contexts of {r['context_size']} (positions {r['skip_positions']}…{r['context_size'] - 2})",
             f"clean CE {r['clean_ce']:.4f}   zero-ablation CE {r['zero_ablation_ce']:.4f}   mean-ablation CE {r['mean_ablation_ce']:.4f}",
             "",
             f"{'sae':<40} {'k':>4} {'beta':>6} {'selection':<17} {'spliced CE':>10} {'increase':>9} {'recovered':>9} "
             f"{'KL':>8} {'FVU':>8} {'L0':>7} {'dead':>6}"]
    for s in r["saes"]:
        for mode, n in s["selections"].items():
            lines.append(f"{_short(s['sae']):<40} {s['k']:>4} {s['beta']:>6g} {mode:<17} {n['spliced_ce']:>10.4f} "
                         f"{n['ce_increase']:>9.4f} {n['loss_recovered']:>9.2%} {n['kl']:>8.4f} {n['fvu']:>8.4f} "
                         f"{n['l0']:>7.2f} {n['dead_fraction']:>6.1%}")
    if "note" in r:
        lines += ["", "note: " + r["note"]]
    return "\n".join(lines) + "\n"


def steer_table(r: dict) -> str:
    lines = [f"model {r['model']}  hook {r['hook']}  text {r['text']}",
             f"{r['contexts']} contexts of {r['context_size']}, steered at positions ≥ {r['skip_positions']}; "
             f"mean ‖x‖ = {r['mean_activation_norm']:.4g}; step = α·mean‖x‖ along W_dec[i]; {r['targets']} target tokens per latent",
             "",
             f"{'sae':<40} {'k':>4} {'beta':>6} {'latents':>8} {'alpha':>6} {'Δ log p':>9} {'Δ mass':>9} {'moved':>7}"]
    for s in r["saes"]:
        for a in s["per_alpha"]:
            lines.append(f"{_short(s['sae']):<40} {s['k']:>4} {s['beta']:>6g} {len(s['steered_latents']):>8} {a['alpha']:>6g} "
                         f"{a['delta_logprob']:>9.4f} {a['delta_mass']:>9.4f} {a['fraction_moved']:>7.1%}")
    return "\n".join(lines) + "\n"


def _short(path: str) -> str:
    return path if len(path) <= 40 else "…" + path[-39:]
