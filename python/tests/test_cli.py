"""python -m gsae_torch: bad input ends in one line on stderr and exit status 2."""

import pytest

from conftest import run_cli


@pytest.mark.parametrize("case,args,words", [
    ("missing model folder", ["--model", "{tmp}/no-model", "--hook", "transformer.h.0", "--text", "{train}"], ["--model", "no such folder"]),
    ("unknown hook", ["--model", "{model}", "--hook", "transformer.h.9", "--text", "{train}"], ["--hook", "transformer.h.9"]),
    ("empty text", ["--model", "{model}", "--hook", "transformer.h.0", "--text", "{tmp}/empty.txt", "--context-size", "16"], ["--text", "no text"]),
    ("context too long", ["--model", "{model}", "--hook", "transformer.h.0", "--text", "{train}", "--context-size", "65"],
     ["--context-size", "64"]),
])
def test_bad_input_gives_one_line_and_exit_2(model_dir, train_text, tmp_path, case, args, words):
    (tmp_path / "empty.txt").write_text("")
    fill = {"tmp": str(tmp_path), "train": train_text, "model": model_dir}
    r = run_cli("harvest", *[a.format(**fill) for a in args], "--out", str(tmp_path / "out"), "--no-progress")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, case
    assert len(lines) == 1 and lines[0].startswith("gsae_torch: "), (case, r.stderr)
    for w in words:
        assert w in lines[0], (case, lines[0])
