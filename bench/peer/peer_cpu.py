#!/usr/bin/env python3
"""One g-SAE training step in PyTorch on the CPU, written the way EleutherAI's sparsify writes a
TopK SAE, as the peer the gsae CPU benchmarks are compared with (issue #3).

Per step, on one batch of N tokens (SPEC.md §2-5):
  encode   z = (x - b_dec) W_enc^T + b_enc, one dense [N, M] product, without autograd;
           g-SAE score z * (1 + beta |g W_dec^T|) (a second [N, M] product when beta > 0); top-k
  forward  recompute z on the selected (token, latent) pairs only, with autograd: a = ReLU(z_S);
           x_hat = embedding_bag(S, W_dec, per_sample_weights=a) + b_dec
  loss     FVU = sum ||x - x_hat||^2 / sum ||x - mean x||^2; backward only touches the selected rows
  update   remove from each W_dec gradient row its component along W_dec's row, Adam
           (betas 0.9, 0.999, eps 6.25e-10, bias-corrected), renormalise W_dec's rows

No latent is dead within a benchmark, so AuxK is not exercised (as in StepBench). Prints one JSON
object; when torch is not importable prints one line saying so and exits 0.
"""
import argparse
import json
import statistics
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--latents", type=int, default=8192)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=2048, help="N, tokens per batch")
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--repeats", type=int, default=10, help="timed steps")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if not (a.d >= 1 and a.latents >= a.k >= 1 and a.tokens >= 2 and a.beta >= 0 and a.threads >= 1 and a.repeats >= 1):
        ap.error("need d >= 1, latents >= k >= 1, tokens >= 2, beta >= 0, threads >= 1, repeats >= 1")
    return a


def main():
    args = parse_args()
    try:
        import torch
    except ImportError:
        print("peer_cpu.py: skipped, torch is not importable (pip install torch)")
        return 0
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    d, m, k, n = args.d, args.latents, args.k, args.tokens

    offset = torch.randn(d, generator=gen)
    x = offset + torch.randn(n, d, generator=gen)
    g = torch.randn(n, d, generator=gen) / d ** 0.5
    w_dec = torch.randn(m, d, generator=gen)
    w_dec /= w_dec.norm(dim=1, keepdim=True)
    params = {
        "W_enc": torch.nn.Parameter(w_dec.clone()),
        "b_enc": torch.nn.Parameter(torch.zeros(m)),
        "W_dec": torch.nn.Parameter(w_dec),
        "b_dec": torch.nn.Parameter(x.mean(0)),
    }
    lr = 2e-4 / (m / 2 ** 14) ** 0.5
    opt = torch.optim.Adam(params.values(), lr=lr, betas=(0.9, 0.999), eps=6.25e-10)
    total_variance = (x - x.mean(0)).pow(2).sum()

    def step():
        p = params
        with torch.no_grad():
            z = torch.addmm(p["b_enc"], x - p["b_dec"], p["W_enc"].T)
            score = z * (1 + args.beta * (g @ p["W_dec"].T).abs()) if args.beta > 0 else z
            idx = score.topk(k, dim=1, sorted=False).indices
        z_sel = torch.einsum("nd,nkd->nk", x - p["b_dec"], p["W_enc"][idx]) + p["b_enc"][idx]
        a = torch.relu(z_sel)
        x_hat = torch.nn.functional.embedding_bag(idx, p["W_dec"], per_sample_weights=a, mode="sum") + p["b_dec"]
        fvu = (x - x_hat).pow(2).sum() / total_variance
        opt.zero_grad(set_to_none=False)
        fvu.backward()
        with torch.no_grad():
            wd, gd = p["W_dec"], p["W_dec"].grad
            gd -= (gd * wd).sum(dim=1, keepdim=True) * wd
            opt.step()
            wd /= wd.norm(dim=1, keepdim=True)
        return fvu.item()

    for _ in range(args.warmup):
        step()
    times, fvu = [], None
    for _ in range(args.repeats):
        start = time.perf_counter()
        fvu = step()
        times.append(time.perf_counter() - start)
    step_s = statistics.median(times)
    print(json.dumps({
        "impl": "pytorch (sparsify-style TopK, sparse backward)",
        "torch": torch.__version__,
        "threads": args.threads,
        "d": d, "latents": m, "k": k, "tokens": n, "beta": args.beta,
        "repeats": args.repeats,
        "step_s": step_s,
        "step_s_min": min(times),
        "step_s_mean": statistics.fmean(times),
        "tokens_per_s": n / step_s,
        "fvu_last": fvu,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
