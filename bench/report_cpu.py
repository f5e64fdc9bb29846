#!/usr/bin/env python3
"""Builds the CPU results table of issue #3 from raw measurement files, so every number in
bench/results/cpu-<date>.md can be traced to a file.

    python3 bench/report_cpu.py JMH.json BLAS.json BLAS_LARGE.json PEER_DIR

JMH.json is bench/run.sh's output; BLAS*.json are bench/peer/blas_floor.py's at the two configs;
PEER_DIR holds peer_cpu.py outputs named peer-<ref|large>-b<beta>.json. Prints Markdown.
"""
import json
import os
import sys

CONFIGS = {"ref": "512x8192x32x2048", "large": "768x24576x32x2048"}
TO_MS = {"ms/op": 1.0, "s/op": 1e3, "us/op": 1e-3}


def ms(row):
    metric = row["primaryMetric"]
    return metric["score"] * TO_MS[metric["scoreUnit"]], float(metric["scoreError"]) * TO_MS[metric["scoreUnit"]]


def main(jmh_path, blas_path, blas_large_path, peer_dir):
    rows = json.load(open(jmh_path))
    jmh = {}
    for r in rows:
        p = r["params"]
        name = r["benchmark"].removeprefix("gsae.bench.")
        if "config" in p:
            jmh[(name, p["config"], p["impl"], float(p["beta"]))] = ms(r)
        else:
            jmh[(name,)] = (ms(r), p)
    blas = {"ref": json.load(open(blas_path)), "large": json.load(open(blas_large_path))}

    out = []
    (gemm_ms, _), gp = jmh[("GemmBench.abt",)]
    gemm_gflops = 2.0 * int(gp["n"]) * int(gp["d"]) * int(gp["m"]) / gemm_ms / 1e6
    out.append("### Matrix product, encoder shape [2048×512]·[512×8192], float32, 2 threads\n")
    out.append("| kernel | ms | GFLOP/s | vs OpenBLAS |")
    out.append("|---|---:|---:|---:|")
    out.append(f"| gsae Vector-API microkernel (Gemm.abt) | {gemm_ms:.1f} | {gemm_gflops:.0f} | {gemm_gflops / blas['ref']['gflops']:.2f}× |")
    out.append(f"| NumPy {blas['ref']['numpy']} on {blas['ref']['blas']} | {blas['ref']['seconds'] * 1e3:.1f} | {blas['ref']['gflops']:.0f} | 1.00× |\n")

    for key, config in CONFIGS.items():
        d, m, k, n = (int(v) for v in config.split("x"))
        product_s = 2.0 * n * m * d / (blas[key]["gflops"] * 1e9)
        out.append(f"### Full training step, d={d}, M={m:,}, k={k}, N={n:,} tokens, float32, 2 threads\n")
        out.append("| β | gsae fused | gsae dense baseline | PyTorch peer | floor (BLAS products only) | dense ÷ fused time | peer ÷ fused time | fused ÷ floor time |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for beta in (1.0, 0.0):
            fused, fused_err = jmh.get(("StepBench.step", config, "fused", beta), (float("nan"), 0))
            dense, _ = jmh.get(("StepBench.step", config, "dense", beta), (float("nan"), 0))
            peer_file = os.path.join(peer_dir, f"peer-{key}-b{int(beta)}.json")
            peer = json.load(open(peer_file))["step_s"] * 1e3 if os.path.exists(peer_file) else float("nan")
            floor = product_s * (2 if beta > 0 else 1) * 1e3
            tok = lambda t: f"{n / (t / 1e3):,.0f} tok/s ({t:.0f} ms)"
            out.append(f"| {beta:g} | {tok(fused)} ±{fused_err:.0f} | {tok(dense)} | {tok(peer)} | {tok(floor)} | "
                       f"{dense / fused:.2f}× | {peer / fused:.2f}× | {fused / floor:.2f} |")
        out.append("")
        out.append(f"Stages at this config (ms per call, fused / dense):\n")
        out.append("| stage | β=1 fused | β=1 dense | β=0 fused | β=0 dense |")
        out.append("|---|---:|---:|---:|---:|")
        for stage in ("encodeSelect", "decode", "backward", "update"):
            cells = []
            for beta in (1.0, 0.0):
                for impl in ("fused", "dense"):
                    v = jmh.get((f"StageBench.{stage}", config, impl, beta))
                    cells.append(f"{v[0]:.1f}" if v else "–")
            out.append(f"| {stage} | " + " | ".join(cells) + " |")
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
