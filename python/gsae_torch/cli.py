"""Command line: python -m gsae_torch harvest|evaluate|steer. Errors end in one line and exit status 2."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .errors import GsaeError


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise GsaeError(f"{self.prog}: {message}")


def _common(p: argparse.ArgumentParser, model_required: bool) -> None:
    p.add_argument("--model", required=model_required, help="Hugging Face model folder (causal LM)")
    p.add_argument("--hook", required=model_required, help="module path whose output is x, e.g. transformer.h.7")
    p.add_argument("--text", required=model_required, help="text file, folder of .txt files, or a datasets folder (save_to_disk)")
    p.add_argument("--text-column", default="text", help="column of a datasets folder (default: text)")
    p.add_argument("--context-size", type=int, default=None if not model_required else 128,
                   help="tokens per context (default: 128)")
    p.add_argument("--prepend-bos", action=argparse.BooleanOptionalAction, default=None,
                   help="start each context with BOS (default: when the tokenizer has one)")
    p.add_argument("--skip-positions", type=int, default=None,
                   help="leading positions of each context left out (default: 1 with BOS, else 0)")
    p.add_argument("--tokens", type=int, default=None, help="at most this many tokens (rows)")
    p.add_argument("--batch-size", type=int, default=8, help="contexts per forward pass (default: 8)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, … (default: cpu)")
    p.add_argument("--model-dtype", default=None, choices=["float32", "bfloat16", "float16", "float64"],
                   help="dtype the model runs in (default: float32)")


def _parser() -> argparse.ArgumentParser:
    top = _Parser(prog="gsae_torch", description="Harvest (x, dL/dx) from a causal LM for gsae; evaluate and steer with gsae SAEs.")
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)

    h = sub.add_parser("harvest", help="write activation/gradient shards for gsae train --data")
    _common(h, True)
    h.add_argument("--out", required=True, help="output folder (rerun with the same settings to resume)")
    h.add_argument("--dtype", default="F32", type=str.upper, choices=["F32", "F16", "BF16"],
                   help="stored dtype of activations and gradients (default: F32)")
    h.add_argument("--shard-tokens", type=int, default=65536, help="rows per shard (default: 65536)")
    h.add_argument("--no-progress", action="store_true", help="no progress bar")

    for name, what in (("evaluate", "splice SAEs into the model: CE, loss recovered, KL, FVU, L0, dead latents"),
                       ("steer", "steering strength of SAE latents (see README)")):
        p = sub.add_parser(name, help=what)
        p.add_argument("--sae", nargs="+", required=True, help="gsae run folders, checkpoint folders or exports")
        p.add_argument("--data", help="a harvest folder: model, hook, text and contexts from its manifest")
        _common(p, False)
        p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    s = sub.choices["steer"]
    s.add_argument("--alphas", type=float, nargs="+", default=[0.25, 0.5, 1.0],
                   help="steering strengths, in units of the mean ‖x‖ at the hook (default: 0.25 0.5 1)")
    s.add_argument("--latents", type=int, default=32, help="live latents sampled per SAE (default: 32)")
    s.add_argument("--targets", type=int, default=5, help="target tokens per latent (default: 5)")
    s.add_argument("--contexts", type=int, default=8, help="held-out contexts steered (default: 8)")
    s.add_argument("--moved-threshold", type=float, default=1e-3, help="Δ log p (nats) above which a latent moved its targets (default: 1e-3)")
    s.add_argument("--seed", type=int, default=0, help="seeds the choice of contexts and latents (default: 0)")
    s.add_argument("--final-norm", default=None, help="module path of the final norm (default: found by name)")
    from . import experiment, tinylm  # commands that carry their own run(args) (issue #9)

    tinylm.add_parser(sub)
    experiment.add_parser(sub)
    return top


def main(argv=None) -> int:
    try:
        args = _parser().parse_args(argv)
        _quiet_transformers()
        return _run(args)
    except GsaeError as e:
        if os.environ.get("GSAE_DEBUG") == "1":
            raise
        print(f"gsae_torch: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gsae_torch: interrupted (a harvest resumes when rerun with the same settings)", file=sys.stderr)
        return 130


def _quiet_transformers() -> None:
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


def _run(args) -> int:
    if hasattr(args, "run"):
        return args.run(args)
    common = dict(tokens=args.tokens, batch_size=args.batch_size, device=args.device, model_dtype=args.model_dtype,
                  context_size=args.context_size, prepend_bos=args.prepend_bos, skip_positions=args.skip_positions,
                  text_column=args.text_column)
    if args.command == "harvest":
        from .harvest import harvest

        bar = None if args.no_progress else _bar()
        result = harvest(args.model, args.out, text_path=args.text, hook=args.hook, dtype=args.dtype,
                         shard_tokens=args.shard_tokens, progress=bar, **common)
        if bar is not None:
            bar.close()
        print(f"{result.tokens} tokens, d = {result.d}, in {len(result.shards)} shards in {result.out}"
              + (f" (resumed at shard {result.resumed_at_shard})" if result.resumed_at_shard else ""))
        return 0
    from . import report

    where = dict(data=args.data, text_path=args.text, hook=args.hook, **common)
    if args.command == "evaluate":
        from .evaluate import evaluate

        r = evaluate(args.model, args.sae, **where)
        print(json.dumps(r, indent=2) if args.json else report.evaluate_table(r), end="\n" if args.json else "")
        if "note" in r and args.json:
            print(f"note: {r['note']}", file=sys.stderr)
        return 0
    from .steer import steer

    r = steer(args.model, args.sae, alphas=args.alphas, latents=args.latents, targets=args.targets, contexts=args.contexts,
              moved_threshold=args.moved_threshold, seed=args.seed, final_norm=args.final_norm, **where)
    print(json.dumps(r, indent=2) if args.json else report.steer_table(r), end="\n" if args.json else "")
    return 0


class _bar:
    """progress(done, total) drawing a tqdm bar on stderr."""

    def __init__(self):
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=0, unit="tok", file=sys.stderr, dynamic_ncols=True)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
