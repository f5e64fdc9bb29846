"""The experiment's summary: per family (k, β, selection) the mean and half-range over seeds, plots, a Markdown table.

Half-range = (max − min) / 2 over the seeds of a family (0 with one seed; n says how many).
"""

from __future__ import annotations

import os

EVAL_KEYS = ("spliced_ce", "ce_increase", "loss_recovered", "kl", "fvu", "l0", "dead_fraction")
STEER_KEYS = ("delta_logprob", "delta_mass", "fraction_moved")
LATENT_KEYS = ("overlap_with_without_g", "grad_cos_selected", "grad_cos_all")


def _stat(values: list[float]) -> dict:
    return {"mean": sum(values) / len(values), "half_range": (max(values) - min(values)) / 2, "n": len(values),
            "values": values}


def _run_of(by_dir: dict, sae: str) -> dict:
    """The planned run whose folder holds ``sae`` (evaluate and steer name the checkpoint inside the run folder)."""
    path = os.path.abspath(sae)
    while path not in by_dir and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return by_dir[path]


def summarize(plan_runs: list[dict], ev: dict, st: dict, lat: dict) -> dict:
    by_dir = {os.path.abspath(r["dir"]): r for r in plan_runs}
    rows: dict[tuple, dict] = {}
    for s in ev["saes"]:
        r = _run_of(by_dir, s["sae"])
        for mode, n in s["selections"].items():
            row = rows.setdefault((r["k"], r["beta"], mode), {"k": r["k"], "beta": r["beta"], "selection": mode,
                                                              "seeds": [], **{k: [] for k in EVAL_KEYS}})
            row["seeds"].append(r["seed"])
            for k in EVAL_KEYS:
                row[k].append(n[k])
    steer_rows: dict[tuple, dict] = {}
    for s in st["saes"]:
        r = _run_of(by_dir, s["sae"])
        row = steer_rows.setdefault((r["k"], r["beta"]), {"k": r["k"], "beta": r["beta"], "seeds": [], "per_alpha": {}})
        row["seeds"].append(r["seed"])
        for a in s["per_alpha"]:
            slot = row["per_alpha"].setdefault(a["alpha"], {k: [] for k in STEER_KEYS})
            for k in STEER_KEYS:
                slot[k].append(a[k])
    lat_rows: dict[tuple, dict] = {}
    for path, n in lat.items():
        r = _run_of(by_dir, path)
        row = lat_rows.setdefault((r["k"], r["beta"]), {"k": r["k"], "beta": r["beta"], "seeds": [], **{k: [] for k in LATENT_KEYS}})
        row["seeds"].append(r["seed"])
        for k in LATENT_KEYS:
            row[k].append(n[k])
    families = []
    for key in sorted(rows):
        row = rows[key]
        families.append({**{k: row[k] for k in ("k", "beta", "selection", "seeds")},
                         **{k: _stat(row[k]) for k in EVAL_KEYS}})
    steering = []
    for key in sorted(steer_rows):
        row = steer_rows[key]
        steering.append({"k": row["k"], "beta": row["beta"], "seeds": row["seeds"],
                         "per_alpha": [{"alpha": a, **{k: _stat(v[k]) for k in STEER_KEYS}}
                                       for a, v in sorted(row["per_alpha"].items())]})
    return {"clean_ce": ev["clean_ce"], "zero_ablation_ce": ev["zero_ablation_ce"],
            "mean_ablation_ce": ev["mean_ablation_ce"], "heldout_tokens": ev["tokens"],
            "families": families, "steering": steering,
            "latent_stats": [{**{k: v for k, v in row.items() if k not in LATENT_KEYS}, **{k: _stat(row[k]) for k in LATENT_KEYS}}
                        for _, row in sorted(lat_rows.items())]}


def _label(beta: float, selection: str | None) -> str:
    """Legend text; selection None for steering, which uses the decoder directions only."""
    if beta == 0:
        return "TopK (β=0)"
    return f"g-SAE β={beta:g}" + {"with_gradient": " with g", "without_gradient": " without g", None: ""}[selection]


def plots(summary: dict, out: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    lines: dict[str, list] = {}
    for f in summary["families"]:
        lines.setdefault(_label(f["beta"], f["selection"]), []).append(f)
    for label, fs in sorted(lines.items()):
        fs = sorted(fs, key=lambda f: f["l0"]["mean"])
        style = "--" if "with g" in label else "-"
        for ax, key in zip(axes, ("kl", "loss_recovered")):
            ax.errorbar([f["l0"]["mean"] for f in fs], [f[key]["mean"] for f in fs],
                        yerr=[f[key]["half_range"] for f in fs], marker="o", linestyle=style, label=label, capsize=3)
    for ax, title in zip(axes, ("KL(clean ‖ spliced), nats/token", "loss recovered")):
        ax.set_xlabel("L0 (held-out)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{summary['model']} at {summary['hook']}: KL and loss recovered vs L0 (mean ± half-range over seeds)",
                 fontsize=9)
    fig.tight_layout()
    path = os.path.join(out, "kl_loss_recovered_vs_l0.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    written.append(path)

    ks = sorted({s["k"] for s in summary["steering"]})
    fig, axes = plt.subplots(1, len(ks), figsize=(5.5 * len(ks), 4.2), squeeze=False)
    for ax, k in zip(axes[0], ks):
        for s in (s for s in summary["steering"] if s["k"] == k):
            pa = s["per_alpha"]
            ax.errorbar([a["alpha"] for a in pa], [a["delta_logprob"]["mean"] for a in pa],
                        yerr=[a["delta_logprob"]["half_range"] for a in pa], marker="o", capsize=3,
                        label=_label(s["beta"], None) + f" ({len(s['seeds'])} seed{'s' if len(s['seeds']) > 1 else ''})")
        ax.set_xlabel("α (× mean ‖x‖)")
        ax.set_ylabel("Δ log p(targets), nats")
        ax.set_title(f"steering, k = {k}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(out, "steering_vs_alpha.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    written.append(path)
    return written


def _pm(s: dict, fmt: str) -> str:
    return (fmt.format(s["mean"]) + (" ± " + fmt.format(s["half_range"]) if s["n"] > 1 else "")) + f" ({s['n']})"


def markdown(summary: dict) -> str:
    lines = [f"Model `{summary['model']}`, hook `{summary['hook']}`, M = {summary['latents']}, "
             f"{summary['heldout_tokens']} held-out tokens. Clean CE {summary['clean_ce']:.4f}, zero-ablation CE "
             f"{summary['zero_ablation_ce']:.4f}, mean-ablation CE {summary['mean_ablation_ce']:.4f} (nats/token).",
             "", f"Machine: {summary.get('machine', {}).get('cpu', 'not recorded')}.",
             "", "Each cell: mean ± half-range over seeds (number of seeds).", "",
             "| k | β | selection | spliced CE | CE increase | loss recovered | KL | FVU | L0 | dead |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for f in summary["families"]:
        lines.append(f"| {f['k']} | {f['beta']:g} | {f['selection'].replace('_', ' ')} | {_pm(f['spliced_ce'], '{:.4f}')} | "
                     f"{_pm(f['ce_increase'], '{:.4f}')} | {_pm(f['loss_recovered'], '{:.4f}')} | {_pm(f['kl'], '{:.4f}')} | "
                     f"{_pm(f['fvu'], '{:.4f}')} | {_pm(f['l0'], '{:.2f}')} | {_pm(f['dead_fraction'], '{:.4f}')} |")
    lines += ["", "Steering (mean over the sampled latents of each SAE; then mean ± half-range over seeds):", "",
              "| k | β | α | Δ log p | Δ mass | fraction moved |", "|---|---|---|---|---|---|"]
    for s in summary["steering"]:
        for a in s["per_alpha"]:
            lines.append(f"| {s['k']} | {s['beta']:g} | {a['alpha']:g} | {_pm(a['delta_logprob'], '{:.4f}')} | "
                         f"{_pm(a['delta_mass'], '{:.4f}')} | {_pm(a['fraction_moved'], '{:.3f}')} |")
    lines += ["", "Which latents g changes (held-out rows; see experiment_latents.py):", "",
              "| k | β | top-k overlap with / without g | mean abs cos(g, w_i), selected | same, all latents |", "|---|---|---|---|---|"]
    for r in summary["latent_stats"]:
        lines.append(f"| {r['k']} | {r['beta']:g} | {_pm(r['overlap_with_without_g'], '{:.3f}')} | "
                     f"{_pm(r['grad_cos_selected'], '{:.4f}')} | {_pm(r['grad_cos_all'], '{:.4f}')} |")
    t = summary["timing"]
    lines += ["", "Wall time (s): " + ", ".join(f"{k} {v}" for k, v in t.items())]
    return "\n".join(lines) + "\n"
