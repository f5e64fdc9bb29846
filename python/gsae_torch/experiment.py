"""experiment: TopK against g-SAEs on one language model, end to end (issue #9).

From a causal LM folder (e.g. one written by ``tinylm``, whose data/ holds its train and held-out
splits): harvest (x, g) at one hook on training text and, separately, on held-out text; train with
``gsae train --scale-acts`` one SAE per (k, β, seed), all with the same data, dictionary size, steps and batch;
evaluate them all with ``python -m gsae_torch evaluate`` and ``steer`` on the held-out harvest;
write raw JSON, a summary (mean and half-range over seeds), plots and a Markdown table into ``out``.
Finished pieces are kept: rerunning with the same settings skips harvests and trainings already done.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

from .errors import GsaeError
from .settings import from_args


@dataclass
class Plan:
    hook: str | None = None
    train_tokens: int = 1_048_576
    heldout_tokens: int = 24_576
    ks: list = field(default_factory=lambda: [16, 32])
    betas: list = field(default_factory=lambda: [0.0, 1.0, 4.0, 16.0])
    headline_beta: float = 4.0
    seeds: list = field(default_factory=lambda: [1, 2, 3])
    expansion: int = 8
    steps: int = 1024
    batch: int = 1024
    threads: int | None = None
    alphas: list = field(default_factory=lambda: [0.25, 0.5, 1.0, 2.0])
    steer_latents: int = 24
    steer_contexts: int = 4
    eval_batch: int = 16


QUICK = dict(train_tokens=4096, heldout_tokens=1024, ks=[4], betas=[0.0, 4.0], seeds=[1, 2], expansion=4, steps=20,
             batch=256, alphas=[0.5, 2.0], steer_latents=4, steer_contexts=2)


def runs(plan: Plan) -> list[dict]:
    """Every (k, β, seed) trained: all β with the first seed, TopK and the headline β with every seed."""
    out = []
    for k in plan.ks:
        for beta in plan.betas:
            for seed in plan.seeds if beta in (0.0, plan.headline_beta) else plan.seeds[:1]:
                out.append({"k": k, "beta": beta, "seed": seed, "name": f"k{k}-b{beta:g}-s{seed}"})
    return out


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _sh(cmd: list[str], log_path: str | None = None) -> str:
    _log("$ " + shlex.join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if log_path:
        with open(log_path, "w") as f:
            f.write(p.stdout + p.stderr)
    if p.returncode != 0:
        raise GsaeError(f"{cmd[0]} {cmd[1] if len(cmd) > 1 else ''} failed with exit {p.returncode}: {p.stderr.strip()[-2000:]}")
    return p.stdout


def _trained_steps(run_dir: str) -> int:
    path = os.path.join(run_dir, "checkpoint", "checkpoint.json")
    if not os.path.isfile(path):
        return -1
    with open(path) as f:
        return int(json.load(f).get("step", -1))


def run_experiment(model: str, out: str, plan: Plan, gsae: str = "./gsae") -> dict:
    from transformers import AutoConfig

    from .harvest import harvest

    if not os.path.isfile(os.path.join(model, "config.json")):
        raise GsaeError(f"--model: {model} is not a Hugging Face model folder (no config.json)")
    cfg = AutoConfig.from_pretrained(model)
    hook = plan.hook or f"transformer.h.{max(0, cfg.n_layer // 2 - 1)}"
    texts = {s: os.path.join(model, "data", f"{s}.txt") for s in ("train", "heldout")}
    for s, p in texts.items():
        if not os.path.isfile(p):
            raise GsaeError(f"--model: {p} not found (the experiment reads the {s} split that tinylm writes there)")
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    timing = {}
    shards = {}
    for split, n in (("train", plan.train_tokens), ("heldout", plan.heldout_tokens)):
        shards[split] = os.path.join(out, "shards", split)
        t = time.time()
        r = harvest(model, shards[split], text_path=texts[split], hook=hook, tokens=n, batch_size=plan.eval_batch,
                    context_size=cfg.n_positions)
        timing[f"harvest_{split}_s"] = round(time.time() - t, 1)
        _log(f"harvest {split}: {r.tokens} tokens at {hook} in {timing[f'harvest_{split}_s']} s")
    latents = plan.expansion * cfg.n_embd
    plan_runs = runs(plan)
    t = time.time()
    for r in plan_runs:
        r["dir"] = os.path.join(out, "sae", r["name"])
        if _trained_steps(r["dir"]) == plan.steps:
            _log(f"{r['name']}: already trained")
            continue
        cmd = [gsae, "train", "--data", shards["train"], "--latents", str(latents), "--k", str(r["k"]),
               "--beta", f"{r['beta']:g}", "--steps", str(plan.steps), "--batch", str(plan.batch),
               "--seed", str(r["seed"]), "--out", r["dir"], "--checkpoint-every", "0", "--scale-acts", "--quiet", "--backend", "cpu"]
        if plan.threads:
            cmd += ["--threads", str(plan.threads)]
        if os.path.isdir(r["dir"]):  # an interrupted run: it checkpoints only at the end, so start it again
            shutil.rmtree(r["dir"])
        ts = time.time()
        os.makedirs(os.path.dirname(r["dir"]), exist_ok=True)
        _sh(cmd, r["dir"] + ".train.log")
        r["train_s"] = round(time.time() - ts, 1)
    timing["train_saes_s"] = round(time.time() - t, 1)
    sae_dirs = [r["dir"] for r in plan_runs]
    py = [sys.executable, "-m", "gsae_torch"]
    t = time.time()
    ev = json.loads(_sh(py + ["evaluate", "--sae", *sae_dirs, "--data", shards["heldout"], "--json",
                              "--batch-size", str(plan.eval_batch)]))
    timing["evaluate_s"] = round(time.time() - t, 1)
    t = time.time()
    st = json.loads(_sh(py + ["steer", "--sae", *sae_dirs, "--data", shards["heldout"], "--json",
                              "--alphas", *[f"{a:g}" for a in plan.alphas], "--latents", str(plan.steer_latents),
                              "--contexts", str(plan.steer_contexts), "--batch-size", str(plan.eval_batch)]))
    timing["steer_s"] = round(time.time() - t, 1)
    from . import experiment_latents

    t = time.time()
    lat = experiment_latents.latent_stats(sae_dirs, shards["heldout"])
    timing["latent_stats_s"] = round(time.time() - t, 1)
    timing["total_s"] = round(time.time() - t0, 1)
    for name, obj in (("evaluate.json", ev), ("steer.json", st), ("latents.json", lat)):
        with open(os.path.join(out, name), "w") as f:
            json.dump(obj, f, indent=2)
    from . import experiment_report

    summary = experiment_report.summarize(plan_runs, ev, st, lat)
    summary.update({"model": model, "hook": hook, "latents": latents, "plan": asdict(plan), "timing": timing,
                    "runs": plan_runs,
                    "machine": {"python": platform.python_version(), "processor": platform.processor(),
                                "cpu": _cpu(), "cpus": os.cpu_count()}})
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    experiment_report.plots(summary, out)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(experiment_report.markdown(summary))
    _log(f"done in {timing['total_s']} s: {out}/summary.md, summary.json, evaluate.json, steer.json, *.png")
    return summary


def add_parser(sub) -> None:
    """Adds the experiment command to the gsae_torch command line."""
    p = sub.add_parser("experiment", help="TopK vs g-SAEs on one LM: harvest, gsae train, evaluate, steer, report")
    p.add_argument("--model", required=True, help="causal LM folder with data/train.txt and data/heldout.txt (tinylm writes them)")
    p.add_argument("--out", required=True, help="output folder (rerun to continue)")
    p.add_argument("--gsae", default="./gsae", help="the gsae launcher (default: ./gsae)")
    p.add_argument("--quick", action="store_true", help="a few-minute version for tests")
    for f, v in asdict(Plan()).items():
        opt = "--" + f.replace("_", "-")
        if isinstance(v, list):
            p.add_argument(opt, type=float if f in ("betas", "alphas") else int, nargs="+", default=None, help=f"(default: {v})")
        else:
            kind = float if f == "headline_beta" else str if f == "hook" else int
            p.add_argument(opt, type=kind, default=None, help=f"(default: {v})")
    p.set_defaults(run=run)


def run(args) -> int:
    plan = from_args(Plan, QUICK, args)
    if plan.headline_beta not in plan.betas or 0.0 not in plan.betas:
        raise GsaeError("--betas must include 0 (TopK) and --headline-beta")
    run_experiment(args.model, args.out, plan, args.gsae)
    return 0


def _cpu() -> str:
    """The CPU's model name, family and model from /proc/cpuinfo (Zen 4 and Zen 5 differ 2.5× in matrix speed)."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or "unknown"
    return f"{fields.get('model name', 'unknown')}, CPU family {fields.get('cpu family', '?')}, model {fields.get('model', '?')}"
