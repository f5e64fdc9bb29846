"""Issue #9: the corpus reader, tinylm --quick and experiment --quick end to end (with ./gsae), on a small
dictd-format corpus written here in GCIDE's layout, so that neither dict-gcide nor a network is needed."""

import dataclasses
import gzip
import json
import math
import os
import subprocess
import sys

import pytest

import tiny
from conftest import ROOT
from gsae_torch import corpus, tinylm

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64(n: int) -> str:
    s = ""
    while True:
        s = B64[n % 64] + s
        n //= 64
        if n == 0:
            return s


@pytest.fixture(scope="module")
def dictd(tmp_path_factory):
    """gcide.index + gcide.dict.dz with one entry per paragraph of tiny.corpus, marked up as GCIDE is."""
    folder = tmp_path_factory.mktemp("dictd")
    paragraphs = [p.strip() for p in tiny.corpus(60000, 3).split("\n\n") if p.strip()]
    body, index = b"", ["00-database-info\tA\tB"]
    for i, p in enumerate(paragraphs):
        block = f"Head{i} \\Head\"{i}\\, n. {{See}}\n   {p}\n   [1913 Webster]\n\n".encode()
        index.append(f"head{i}\t{_b64(len(body))}\t{_b64(len(block))}")
        index.append(f"alias{i}\t{_b64(len(body))}\t{_b64(len(block))}")  # a second headword, same block
        body += block
    with gzip.open(folder / "gcide.dict.dz", "wb") as f:
        f.write(body)
    (folder / "gcide.index").write_text("\n".join(index) + "\n")
    return str(folder), paragraphs


def test_corpus_reads_cleans_and_splits_by_entry(dictd, tmp_path):
    folder, paragraphs = dictd
    expected = [f'Head{i} Head"{i}, n. See {" ".join(p.split())}' for i, p in enumerate(paragraphs)]
    # One entry per block (the alias headwords share it), tags, braces and backslashes gone, short ones left out.
    assert corpus.gcide_entries(folder) == [e for e in expected if len(e) >= 40]
    a = corpus.write_splits(str(tmp_path / "a"), 0.1, seed=5, folder=folder)
    b = corpus.write_splits(str(tmp_path / "b"), 0.1, seed=5, folder=folder)
    assert (a["train"]["sha256"], a["heldout"]["sha256"]) == (b["train"]["sha256"], b["heldout"]["sha256"])
    train = set((tmp_path / "a" / "train.txt").read_text().split("\n\n"))
    held = set((tmp_path / "a" / "heldout.txt").read_text().split("\n\n"))
    assert held and not held & train
    assert a["heldout"]["entries"] == round(0.1 * a["entries"])


def test_quick_tinylm_then_experiment(dictd, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, _ = dictd
    model_dir = str(tmp_path / "lm")
    cfg = dataclasses.replace(tinylm.Config(), **{**tinylm.QUICK, "limit_chars": None, "threads": 1})
    r = tinylm.train(model_dir, cfg, gcide_dir=folder, log=lambda *_: None)
    assert r["steps_done"] == cfg.steps
    assert all(math.isfinite(r[k]) for k in ("heldout_ce", "unigram_ce", "bigram_ce"))
    # The unigram baseline of the held-out targets is near log V and below it (the text is not uniform).
    assert 0 < r["unigram_ce"] < math.log(r["config"]["vocab"])
    AutoModelForCausalLM.from_pretrained(model_dir)
    assert AutoTokenizer.from_pretrained(model_dir).bos_token == tinylm.EOT

    out = tmp_path / "exp"
    p = subprocess.run([sys.executable, "-m", "gsae_torch", "experiment", "--quick", "--model", model_dir, "--out", str(out),
                        "--gsae", os.path.join(ROOT, "gsae"), "--threads", "1"], capture_output=True, text=True,
                       env={**os.environ, "GSAE_JAVA_OPTS": "-Xmx1g"})
    assert p.returncode == 0, p.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    fams = {(f["k"], f["beta"], f["selection"]): f for f in s["families"]}
    assert set(fams) == {(4, 0.0, "without_gradient"), (4, 4.0, "without_gradient"), (4, 4.0, "with_gradient")}
    for f in fams.values():
        assert f["seeds"] == [1, 2] and f["l0"]["values"] == [4.0, 4.0]  # TopK keeps exactly k
        assert f["kl"]["half_range"] == pytest.approx((max(f["kl"]["values"]) - min(f["kl"]["values"])) / 2)
    ev = json.loads((out / "evaluate.json").read_text())
    assert len(ev["saes"]) == 4 and ev["tokens"] == s["heldout_tokens"]
    assert {a["alpha"] for st in s["steering"] for a in st["per_alpha"]} == {0.5, 2.0}
    lat = {r["beta"]: r for r in s["latent_stats"]}
    assert lat[0.0]["overlap_with_without_g"]["values"] == [1.0, 1.0]  # TopK ignores g
    assert 0 <= lat[4.0]["overlap_with_without_g"]["mean"] <= 1
    for name in ("kl_loss_recovered_vs_l0.png", "steering_vs_alpha.png", "summary.md", "steer.json", "latents.json"):
        assert (out / name).stat().st_size > 0


def test_bad_input_is_one_line(tmp_path):
    from conftest import run_cli

    for args, says in ((["tinylm", "--quick", "--out", tmp_path / "lm", "--gcide-dir", tmp_path / "none"], "dict-gcide"),
                       (["experiment", "--quick", "--model", tmp_path / "none", "--out", tmp_path / "e"], "no config.json")):
        p = run_cli(*args)
        assert p.returncode == 2 and says in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
