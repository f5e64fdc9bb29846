"""The CPU floor of issue #3: GFLOP/s of NumPy's BLAS on the encoder's product shape.

Times C = A·Bᵀ with A [N, d] and B [M, d] in float32 (the shape of z = x·W_encᵀ), median of warm
repeats, and prints one JSON object. Thread count comes from OPENBLAS_NUM_THREADS / OMP_NUM_THREADS,
so run it as `OPENBLAS_NUM_THREADS=2 python3 bench/peer/blas_floor.py` to match bench/run.sh.
"""
import argparse
import json
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--m", type=int, default=8192)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((args.n, args.d), dtype=np.float32)
    b = rng.standard_normal((args.m, args.d), dtype=np.float32)
    for _ in range(3):
        a @ b.T
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        a @ b.T
        times.append(time.perf_counter() - t0)
    median = sorted(times)[len(times) // 2]
    flop = 2.0 * args.n * args.d * args.m
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {}).get("name", "unknown")
    print(json.dumps({"n": args.n, "d": args.d, "m": args.m, "seconds": median, "gflops": flop / median / 1e9,
                      "blas": blas, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
