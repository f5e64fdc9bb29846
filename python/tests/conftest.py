import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import tiny  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A 2-layer GPT-2 (d = 32, 64 positions, ~300 tokens) with random weights, saved as a HF folder."""
    return tiny.gpt2(str(tmp_path_factory.mktemp("tiny-gpt2")))


@pytest.fixture(scope="session")
def train_text(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "train.txt"
    path.write_text(tiny.corpus(6000, 1))
    return str(path)


@pytest.fixture(scope="session")
def heldout_text(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "heldout.txt"
    path.write_text(tiny.corpus(3000, 2))
    return str(path)


def gsae(*args, check=True):
    """Runs the repository's ./gsae launcher (needs the built jar: make build)."""
    launcher = os.path.join(ROOT, "gsae")
    jar = os.path.join(ROOT, "java", "cli", "target", "gsae-0.1.0.jar")
    assert os.path.isfile(jar), f"{jar} is missing: run make build (make test builds it before pytest)"
    return subprocess.run([launcher, *map(str, args)], capture_output=True, text=True, check=check,
                          env={**os.environ, "GSAE_JAVA_OPTS": "-Xmx1g"})


def run_cli(*args):
    """python -m gsae_torch ARGS, returning the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "gsae_torch", *map(str, args)], capture_output=True, text=True)
