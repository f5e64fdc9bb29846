"""gsae train under a real mpirun, 2 ranks on the CPU backend (issue #15).

Each mode equals one process on the same data: parameters within a tolerance a hundred times
smaller than one Adam step (so a missing or doubled reduction, which moves parameters by whole
steps, fails), and identical selections (the dead-latent counters record every latent's last
firing). β = 1 with AuxK active (dead latents within a few steps), M = 1,031 not divisible by 2.
A 2-rank run of either mode killed mid-way and resumed equals the uninterrupted one bit for bit; a failing
rank ends the whole job with one line naming it; a sharded checkpoint exports to the files one
process's does (names, cfg.json, tensors within the tolerance).
Skips where no Open MPI mpirun is installed (make test installs it).
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import time

import numpy as np
import pytest

from conftest import ROOT

LAUNCHER = os.path.join(ROOT, "gsae")
ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "GSAE_JAVA_OPTS": "-Xmx512m"}
STEPS = 16
M = 1031
DEAD = 256
# The teacher stream (d = 64); 128 × 4 selections a step leave most of the 1,031 latents unselected,
# and dead-tokens 256 makes those unselected for 2 steps dead, so AuxK runs.
RUN = ["--latents", M, "--k", 4, "--batch", 128, "--steps", STEPS, "--threads", 1, "--beta", 1, "--seed", 3,
       "--dead-tokens", DEAD, "--checkpoint-every", 6, "--quiet"]
# SPEC §5's default peak rate at this M; Adam moves a parameter by at most about lr per step.
LR = 2e-4 / (M / 2 ** 14) ** 0.5
TOLERANCE = LR / 100


def mpirun():
    for name in ("mpirun.openmpi", "mpirun"):
        path = shutil.which(name)
        if path and "Open MPI" in subprocess.run([path, "--version"], capture_output=True, text=True).stdout:
            return [path, "-q", "--oversubscribe", "--allow-run-as-root"]
    pytest.skip("no Open MPI mpirun here (make test installs it: apt-get install openmpi-bin)")


def gsae_ranks(ranks, *args, timeout=300):
    jar = os.path.join(ROOT, "java", "cli", "target", "gsae-0.1.0.jar")
    assert os.path.isfile(jar), f"{jar} is missing: run make build (make test builds it before pytest)"
    return subprocess.run([*mpirun(), "-np", str(ranks), LAUNCHER, *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


def train(out, *extra, ranks=1, parallel=None):
    args = ["train", *RUN, "--out", out, *extra]
    if ranks == 1:
        p = subprocess.run([LAUNCHER, *map(str, args)], capture_output=True, text=True, env=ENV, timeout=300)
    else:
        p = gsae_ranks(ranks, *args[:1], "--parallel", parallel, *args[1:])
    assert p.returncode == 0, p.stderr
    return out


def tensors(path):
    """A safetensors file's tensors as numpy arrays (numpy only: the format is a JSON header and raw bytes)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    types = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64}
    return {k: np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], dtype=types[v["dtype"]]).reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__"}


def export(run, out):
    p = subprocess.run([LAUNCHER, "export", "--checkpoint", run, "--format", "sparsify", "--out", out],
                       capture_output=True, text=True, env=ENV, timeout=120)
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    mpirun()
    return tmp_path_factory.mktemp("mpirun")


@pytest.fixture(scope="module")
def one(base):
    return train(str(base / "one"))


@pytest.fixture(scope="module")
def data2(base):
    return train(str(base / "data2"), ranks=2, parallel="data")


@pytest.fixture(scope="module")
def latents2(base):
    return train(str(base / "latents2"), ranks=2, parallel="latents")


@pytest.fixture(scope="module")
def one_export(one):
    return export(one, one + "-export")


def assert_same_training(single, single_export, ranks):
    """The export (the same files: names, cfg.json, tensors) within TOLERANCE; the dead counters equal."""
    ranks_export = export(ranks, ranks + "-export")
    assert sorted(os.listdir(single_export)) == sorted(os.listdir(ranks_export))
    assert json.load(open(os.path.join(single_export, "cfg.json"))) == json.load(open(os.path.join(ranks_export, "cfg.json")))
    a = tensors(os.path.join(single_export, "sae.safetensors"))
    b = tensors(os.path.join(ranks_export, "sae.safetensors"))
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].shape == b[name].shape, name
        diff = float(np.max(np.abs(a[name].astype(np.float64) - b[name]))) if a[name].size else 0.0
        assert diff <= TOLERANCE, f"{name}: |one process − 2 ranks| = {diff:.3g} > {TOLERANCE:.3g}"
    fired_one = read_since_fired(single)
    assert np.array_equal(fired_one, read_since_fired(ranks)), "the ranks selected other latents than one process"
    assert np.count_nonzero(fired_one >= DEAD) > 0, "no latent was dead: AuxK was not exercised"


def read_since_fired(run):
    """The dead-latent counters: one process's state.safetensors, or the shards' (shard-RRRRR-of-PPPPP, rank order) joined."""
    folder = os.path.join(run, "checkpoint")
    parts = [tensors(os.path.join(folder, f)) for f in sorted(os.listdir(folder)) if f.endswith(".safetensors")]
    return np.concatenate([p["since_fired"] for p in parts if "since_fired" in p])


def test_data_parallel_equals_one_process(one, one_export, data2):
    assert_same_training(one, one_export, data2)
    assert json.load(open(os.path.join(data2, "checkpoint", "checkpoint.json")))["parallel"] == {"mode": "data", "ranks": 2}


def test_latent_sharded_equals_one_process_and_exports_like_it(one, one_export, latents2):
    assert_same_training(one, one_export, latents2)
    assert json.load(open(os.path.join(latents2, "checkpoint", "checkpoint.json")))["parallel"] == {"mode": "latents", "ranks": 2}


@pytest.mark.parametrize("mode", ["data", "latents"])
def test_a_stopped_run_resumed_equals_the_uninterrupted_one(mode, request, base):
    uninterrupted = request.getfixturevalue(mode + "2")
    out = str(base / ("stopped-" + mode))
    cmd = [*mpirun(), "-np", "2", LAUNCHER, "train", "--parallel", mode, *map(str, RUN), "--out", out]
    job = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV, start_new_session=True)
    saved = os.path.join(out, "checkpoint", "checkpoint.json")
    deadline = time.monotonic() + 240
    while not os.path.exists(saved) and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        os.killpg(job.pid, signal.SIGKILL)  # the whole job at once, as a crash or a scheduler would
    except ProcessLookupError:
        pass  # it had ended: the assertion below says so
    job.wait(timeout=60)
    step = json.load(open(saved))["step"]
    assert step < STEPS, f"the run ended (step {step}) before it could be stopped"

    p = gsae_ranks(2, "train", "--parallel", mode, *RUN, "--out", out, "--resume")
    assert p.returncode == 0, p.stderr
    files = sorted(f for f in os.listdir(os.path.join(uninterrupted, "checkpoint")) if f.endswith(".safetensors"))
    assert files == sorted(f for f in os.listdir(os.path.join(out, "checkpoint")) if f.endswith(".safetensors"))
    for f in files:
        a, b = tensors(os.path.join(uninterrupted, "checkpoint", f)), tensors(os.path.join(out, "checkpoint", f))
        for name in a:
            assert np.array_equal(a[name], b[name]), f"{f} {name} differs after resuming from step {step}"


def test_a_failing_rank_ends_the_job_in_one_line(base):
    run = ["train", "--parallel", "data", *map(str, RUN), "--force", "--out", str(base / "failing")]
    cmd = [*mpirun(), "-np", "1", LAUNCHER, *run, ":", "-np", "1", LAUNCHER, *run, "--data", str(base / "missing.npy")]
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=120)
    assert p.returncode != 0
    errors = [line for line in p.stderr.splitlines() if line.startswith("gsae: ")]
    assert errors == [f"gsae: rank 1 of 2: {base / 'missing.npy'}: no such file or directory"], p.stderr
