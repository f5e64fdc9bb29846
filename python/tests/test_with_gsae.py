"""Harvested shards train with ./gsae train, and evaluate's FVU, L0 and dead latents agree with ./gsae eval --data."""

import json
import os

import pytest
import torch
from safetensors.torch import load_file

from gsae_torch import evaluate, harvest, load_sae

from conftest import gsae, run_cli

C = 16


@pytest.fixture(scope="module")
def runs(model_dir, train_text, heldout_text, tmp_path_factory):
    base = tmp_path_factory.mktemp("engine")
    train, held = base / "train", base / "held"
    cli = run_cli("harvest", "--model", model_dir, "--hook", "transformer.h.0", "--text", train_text, "--out", train,
                  "--context-size", C, "--tokens", 9000, "--shard-tokens", 3000, "--no-progress")
    assert cli.returncode == 0, cli.stderr
    harvest(model_dir, str(held), text_path=heldout_text, hook="transformer.h.0", context_size=C, tokens=1500)
    out = {}
    for name, extra in (("topk", ["--beta", 0]), ("gsae", ["--beta", 2, "--scale-acts"])):
        gsae("train", "--data", train, "--latents", 64, "--k", 4, "--steps", 150, "--batch", 256, "--threads", 1,
             "--quiet", "--out", base / name, *extra)
        out[name] = base / name
    return train, held, out


def _gsae_eval(run, held, *flags):
    return json.loads(gsae("eval", "--checkpoint", run / "checkpoint", "--data", held, "--json", "--threads", 1, *flags).stdout)


def test_evaluate_agrees_with_gsae_eval_on_the_same_tokens(runs):
    _, held, out = runs
    r = evaluate(sae=[str(out["topk"]), str(out["gsae"])], data=str(held))
    assert r["tokens"] == 1500
    topk, gs = r["saes"]
    cases = [(topk["selections"]["without_gradient"], _gsae_eval(out["topk"], held)),
             (gs["selections"]["with_gradient"], _gsae_eval(out["gsae"], held)),
             (gs["selections"]["without_gradient"], _gsae_eval(out["gsae"], held, "--no-gradients"))]
    for mine, java in cases:
        assert java["tokens"] == 1500
        assert mine["fvu"] == pytest.approx(java["fvu"], rel=1e-4)
        assert mine["l0"] == pytest.approx(java["l0"], abs=2e-3)
        assert mine["dead_fraction"] == pytest.approx(java["deadFraction"], abs=1.5 / 64)
    assert gs["selections"]["with_gradient"]["fvu"] != gs["selections"]["without_gradient"]["fvu"]


@pytest.mark.parametrize("layout", ["sparsify", "saelens"])
def test_exports_reconstruct_like_their_checkpoint(runs, tmp_path, layout):
    _, held, out = runs
    gsae("export", "--checkpoint", out["gsae"] / "checkpoint", "--format", layout, "--out", tmp_path / layout)
    rows = load_file(str(held / "shard-00000.safetensors"))
    x, g = rows["activations"], rows["gradients"]
    ckpt, export = load_sae(str(out["gsae"])), load_sae(str(tmp_path / layout))
    assert ckpt.act_scale != 1.0 and ckpt.beta == 2.0
    for grad in (g, None):
        assert torch.allclose(export.reconstruct(x, grad), ckpt.reconstruct(x, grad), rtol=1e-4, atol=1e-5 * float(x.abs().max()))


def test_run_folder_and_its_checkpoint_folder_load_the_same(runs):
    _, _, out = runs
    a, b = load_sae(str(out["topk"])), load_sae(os.path.join(out["topk"], "checkpoint"))
    assert torch.equal(a.W_enc, b.W_enc) and (a.k, a.beta, a.act_scale) == (b.k, b.beta, b.act_scale)


def test_command_line_evaluate_and_steer(runs):
    _, held, out = runs
    r = run_cli("evaluate", "--data", held, "--sae", out["topk"], out["gsae"], "--json", "--tokens", 700)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["tokens"] == 700 and [s["beta"] for s in report["saes"]] == [0.0, 2.0]
    assert "upper bound" in r.stderr, "the leak caveat reaches the user in JSON mode too"
    s = run_cli("steer", "--data", held, "--sae", out["topk"], out["gsae"], "--latents", 3, "--alphas", 0, 1, "--contexts", 2)
    assert s.returncode == 0, s.stderr
    rows = [line for line in s.stdout.splitlines() if "checkpoint" in line]
    assert len(rows) == 4, s.stdout
