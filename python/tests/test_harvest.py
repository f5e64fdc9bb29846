"""harvest: manifest, shard layout, budget, storage dtypes, sources, and resuming after a crash."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from gsae_torch import GsaeError, harvest, model as models, text

import tiny

C = 16


def _files(folder):
    return {f: open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))}


def test_manifest_holds_what_gsae_and_a_user_need(model_dir, train_text, tmp_path):
    out = tmp_path / "h"
    result = harvest(model_dir, str(out), text_path=train_text, hook="transformer.h.1", context_size=C, tokens=500,
                     shard_tokens=200, batch_size=3)
    m = json.loads((out / "manifest.json").read_text())
    assert (m["format"], m["format_version"], m["model"], m["hook"]) == ("gsae-harvest", 1, model_dir, "transformer.h.1")
    assert (m["context_size"], m["prepend_bos"], m["dataset_path"], m["skip_positions"]) == (C, True, train_text, 1)
    assert (m["tokens"], m["d"], m["dtype"], m["complete"]) == (500, 32, "F32", True)
    assert m["source_sha256"] == text.source_sha256(train_text)
    assert "sum" in m["gradient"] and "d x_t" in m["gradient"]
    assert set(m["versions"]) >= {"torch", "transformers", "gsae_torch", "python"}
    assert [s["tokens"] for s in m["shards"]] == [200, 200, 100] and result.tokens == 500
    for entry in m["shards"]:
        t = load_file(str(out / entry["file"]))
        assert t["activations"].shape == t["gradients"].shape == (entry["tokens"], 32)
        assert t["token_ids"].dtype == t["positions"].dtype == torch.int64
    rows = torch.cat([load_file(str(out / s["file"]))["token_ids"] for s in m["shards"]])
    ids = text.contexts(models.load(model_dir).tokenizer, train_text, C, True, 500 // (C - 2) + 1)
    assert torch.equal(rows, ids[:, 1:C - 1].reshape(-1)[:500])


@pytest.mark.parametrize("dtype,torch_dtype", [("F16", torch.float16), ("BF16", torch.bfloat16)])
def test_storage_dtype(model_dir, train_text, tmp_path, dtype, torch_dtype):
    harvest(model_dir, str(tmp_path / dtype), text_path=train_text, hook="transformer.h.0", context_size=C, tokens=100,
            dtype=dtype)
    full = harvest(model_dir, str(tmp_path / "f32"), text_path=train_text, hook="transformer.h.0", context_size=C, tokens=100)
    t = load_file(str(tmp_path / dtype / "shard-00000.safetensors"))
    f = load_file(os.path.join(full.out, "shard-00000.safetensors"))
    assert t["activations"].dtype == t["gradients"].dtype == torch_dtype
    assert torch.equal(t["activations"], f["activations"].to(torch_dtype))
    assert torch.equal(t["gradients"], f["gradients"].to(torch_dtype))


def test_no_bos_and_skipped_positions(model_dir, train_text, tmp_path):
    r = harvest(model_dir, str(tmp_path / "h"), text_path=train_text, hook="transformer.h.0", context_size=C,
                prepend_bos=False, skip_positions=3, tokens=2 * (C - 4))
    t = load_file(os.path.join(r.out, r.shards[0]))
    assert torch.equal(t["positions"], torch.arange(3, C - 1).repeat(2))
    ids = text.contexts(models.load(model_dir).tokenizer, train_text, C, False, 2)
    assert torch.equal(t["token_ids"], ids[:, 3:C - 1].reshape(-1))


def test_text_folder_and_datasets_folder_give_the_same_contexts_as_their_documents(model_dir, tmp_path):
    datasets = pytest.importorskip("datasets")
    docs = [tiny.corpus(400, s) for s in (5, 6, 7)]
    folder = tmp_path / "txt"
    folder.mkdir()
    for i, doc in enumerate(docs):
        (folder / f"doc{i}.txt").write_text(doc)
    datasets.Dataset.from_dict({"text": docs}).save_to_disk(str(tmp_path / "ds"))
    tok = models.load(model_dir).tokenizer
    a = text.contexts(tok, str(folder), C, True)
    b = text.contexts(tok, str(tmp_path / "ds"), C, True)
    stream = []
    for doc in docs:
        stream += tok(doc, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    n = len(stream) // (C - 1)
    want = torch.cat([torch.full((n, 1), tok.bos_token_id), torch.tensor(stream[:n * (C - 1)]).view(n, C - 1)], 1)
    assert torch.equal(a, want) and torch.equal(b, want)


def test_interrupted_harvest_resumes_to_identical_bytes(model_dir, train_text, tmp_path):
    settings = dict(text_path=train_text, hook="transformer.h.0", context_size=C, tokens=1000, shard_tokens=130, batch_size=3)
    whole = harvest(model_dir, str(tmp_path / "whole"), **settings)
    assert len(whole.shards) == 8

    class Crash(Exception):
        pass

    def crash_midway(done, total):
        if done >= 450:
            raise Crash()

    out = str(tmp_path / "resumed")
    with pytest.raises(Crash):
        harvest(model_dir, out, progress=crash_midway, **settings)
    written = json.loads(open(os.path.join(out, "manifest.json")).read())["shards"]
    assert 0 < len(written) < 8
    # What a crash while writing the next shard leaves behind: a half-written temporary file.
    with open(os.path.join(out, f"shard-{len(written):05d}.safetensors.tmp"), "wb") as fh:
        fh.write(b"half a shard")
    again = harvest(model_dir, out, **settings)
    assert again.resumed_at_shard == len(written)
    got, want = _files(out), _files(whole.out)
    assert got.keys() == want.keys(), "the rerun rewrites the half-written shard under its own name"
    for name in want:
        assert got[name] == want[name], name


def test_harvest_killed_by_sigkill_resumes_to_identical_bytes(model_dir, train_text, tmp_path):
    args = ["--model", model_dir, "--hook", "transformer.h.1", "--text", train_text, "--context-size", str(C),
            "--tokens", "3000", "--shard-tokens", "300", "--batch-size", "16", "--no-progress"]
    out = str(tmp_path / "killed")
    proc = subprocess.Popen([sys.executable, "-m", "gsae_torch", "harvest", *args, "--out", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = os.path.join(out, "manifest.json")
    try:
        while proc.poll() is None and not (os.path.exists(manifest) and json.load(open(manifest))["shards"]):
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = json.load(open(manifest))
    assert not done["complete"] and 0 < len(done["shards"]) < 10, "killed after its first shard, before its last"
    again = harvest(model_dir, out, text_path=train_text, hook="transformer.h.1", context_size=C, tokens=3000,
                    shard_tokens=300, batch_size=16)
    whole = harvest(model_dir, str(tmp_path / "whole"), text_path=train_text, hook="transformer.h.1", context_size=C,
                    tokens=3000, shard_tokens=300, batch_size=16)
    assert again.resumed_at_shard >= 1
    assert _files(out) == _files(whole.out)


def test_crash_before_the_first_shard_resumes(model_dir, train_text, tmp_path):
    settings = dict(text_path=train_text, hook="transformer.h.0", context_size=C, tokens=100, shard_tokens=60)

    def crash(done, total):
        raise KeyboardInterrupt

    out = str(tmp_path / "h")
    with pytest.raises(KeyboardInterrupt):
        harvest(model_dir, out, batch_size=1, progress=crash, **settings)
    assert json.load(open(os.path.join(out, "manifest.json")))["shards"] == []
    open(os.path.join(out, "shard-00000.safetensors.tmp"), "wb").close()
    assert harvest(model_dir, out, batch_size=1, **settings).tokens == 100
    assert _files(out) == _files(harvest(model_dir, str(tmp_path / "whole"), batch_size=1, **settings).out)


def test_resume_refuses_other_settings(model_dir, train_text, tmp_path):
    out = str(tmp_path / "h")
    harvest(model_dir, out, text_path=train_text, hook="transformer.h.0", context_size=C, tokens=50)
    with pytest.raises(GsaeError, match="hook"):
        harvest(model_dir, out, text_path=train_text, hook="transformer.h.1", context_size=C, tokens=50)
