#!/usr/bin/env python3
"""One g-SAE training step in PyTorch on a GPU, written the way EleutherAI's sparsify trains a TopK
SAE, as the peer of gsae's CUDA benchmarks (issue #5); plus the two floors the issue compares with.

The step is peer_cpu.py's (SPEC.md §2-5), with sparsify's precision: float32 master weights, Adam
state and loss, and the matrix products under torch.autocast(bfloat16) (f32 accumulation inside
cuBLAS):
  encode   z = (x - b_dec) W_enc^T + b_enc, one dense [N, M] bf16 product, without autograd;
           g-SAE score z * (1 + beta |g W_dec^T|) (a second [N, M] product when beta > 0); top-k
  forward  z recomputed on the selected (token, latent) pairs only, with autograd: a = ReLU(z_S);
           x_hat = embedding_bag(S, W_dec, per_sample_weights=a) + b_dec, in f32 like sparsify's
           decoder (embedding_bag is a gather-sum, not a product, so autocast leaves it in f32)
  loss     FVU in f32; backward touches only the selected rows
  update   W_dec's gradient rows projected off W_dec's rows, Adam (0.9, 0.999, eps 6.25e-10,
           bias-corrected), W_dec's rows renormalised

Timing: each step between two torch.cuda.Event records on the stream, read after a synchronize;
warm-up steps untimed; median of the timed steps; batches cycle through --batches pre-generated
ones (4 at N = 8192 is 200 MB of x and g, four times an H200's L2) so no step finds its input
cached. With --device cpu (for checking the script without a GPU) the same code runs under CPU
autocast in bf16 and is timed with perf_counter; its numbers mean nothing for the GPU.

The floors, same device, same rotation:
  encoder products  the bf16 matmuls of encode alone, (x - b_dec)[N, d] x W_enc^T[d, M], plus
                    g[N, d] x W_dec^T[d, M] when beta > 0, bf16 output; TFLOP/s = 2 N d M (x2) / s
  copy              device-to-device copy of --copy-mib MiB; GB/s counts bytes read + written

No latent is dead within a benchmark, so AuxK is not part of the step (as in CudaStepBench).
Prints one JSON object; when torch is not importable or --device cuda has no GPU, prints one line
saying so and exits 0.
"""
import argparse
import json
import statistics
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--d", type=int, default=768)
    ap.add_argument("--latents", type=int, default=24576)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=8192, help="N, tokens per batch")
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--batches", type=int, default=4, help="pre-generated batches the steps cycle through")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    ap.add_argument("--repeats", type=int, default=30, help="timed steps (and timed repeats of each floor)")
    ap.add_argument("--copy-mib", type=int, default=1024, help="size of the copy floor's tensor")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if not (a.d >= 1 and a.latents >= a.k >= 1 and a.tokens >= 2 and a.beta >= 0 and a.batches >= 1
            and a.warmup >= 0 and a.repeats >= 1 and a.copy_mib >= 1):
        ap.error("need d >= 1, latents >= k >= 1, tokens >= 2, beta >= 0, batches >= 1, warmup >= 0, repeats >= 1, copy-mib >= 1")
    return a


class Timer:
    """Seconds of a callable on the device: CUDA events on a GPU, perf_counter on the CPU."""

    def __init__(self, torch, device):
        self.torch, self.cuda = torch, device.type == "cuda"

    def __call__(self, fn):
        if not self.cuda:
            start = time.perf_counter()
            out = fn()
            return time.perf_counter() - start, out
        begin, end = self.torch.cuda.Event(enable_timing=True), self.torch.cuda.Event(enable_timing=True)
        begin.record()
        out = fn()
        end.record()
        end.synchronize()
        return begin.elapsed_time(end) / 1e3, out


def repeat(timer, fn, warmup, repeats):
    """Times {repeats} calls of fn(i) after {warmup} untimed ones; returns the seconds and the last result."""
    out = None
    for i in range(warmup):
        out = fn(i)
    times = []
    for i in range(warmup, warmup + repeats):
        seconds, out = timer(lambda: fn(i))
        times.append(seconds)
    return times, out


def make_batches(torch, args, device, gen):
    d, n = args.d, args.tokens
    offset = torch.randn(d, generator=gen, device=device)
    xs = [offset + torch.randn(n, d, generator=gen, device=device) for _ in range(args.batches)]
    gs = [torch.randn(n, d, generator=gen, device=device) / d ** 0.5 for _ in range(args.batches)]
    return xs, gs


def make_step(torch, args, device, xs, gs, gen):
    d, m, k = args.d, args.latents, args.k
    w_dec = torch.randn(m, d, generator=gen, device=device)
    w_dec /= w_dec.norm(dim=1, keepdim=True)
    p = {
        "W_enc": torch.nn.Parameter(w_dec.clone()),
        "b_enc": torch.nn.Parameter(torch.zeros(m, device=device)),
        "W_dec": torch.nn.Parameter(w_dec),
        "b_dec": torch.nn.Parameter(xs[0].mean(0)),
    }
    lr = 2e-4 / (m / 2 ** 14) ** 0.5
    opt = torch.optim.Adam(p.values(), lr=lr, betas=(0.9, 0.999), eps=6.25e-10)
    variances = [(x - x.mean(0)).pow(2).sum() for x in xs]
    amp = torch.autocast(device_type=device.type, dtype=torch.bfloat16)

    def step(i):
        x, g, total_variance = xs[i % len(xs)], gs[i % len(gs)], variances[i % len(xs)]
        with amp:
            with torch.no_grad():
                z = torch.addmm(p["b_enc"], x - p["b_dec"], p["W_enc"].T)
                score = z * (1 + args.beta * (g @ p["W_dec"].T).abs()) if args.beta > 0 else z
                idx = score.topk(k, dim=1, sorted=False).indices
            z_sel = torch.einsum("nd,nkd->nk", x - p["b_dec"], p["W_enc"][idx]) + p["b_enc"][idx]
        a = torch.relu(z_sel).float()
        x_hat = torch.nn.functional.embedding_bag(idx, p["W_dec"], per_sample_weights=a, mode="sum") + p["b_dec"]
        fvu = (x - x_hat).pow(2).sum() / total_variance
        opt.zero_grad(set_to_none=False)
        fvu.backward()
        with torch.no_grad():
            wd, gd = p["W_dec"], p["W_dec"].grad
            gd -= (gd * wd).sum(dim=1, keepdim=True) * wd
            opt.step()
            wd /= wd.norm(dim=1, keepdim=True)
        return fvu

    return step, p


def encoder_floor(torch, args, timer, xs, gs, p):
    """Median seconds of the encoder-shaped bf16 products alone (two when beta > 0)."""
    xb = [(x - p["b_dec"].detach()).bfloat16() for x in xs]
    gb = [g.bfloat16() for g in gs]
    w_enc_t, w_dec_t = p["W_enc"].detach().bfloat16().T, p["W_dec"].detach().bfloat16().T

    def products(i):
        z = torch.matmul(xb[i % len(xb)], w_enc_t)
        return (z, torch.matmul(gb[i % len(gb)], w_dec_t)) if args.beta > 0 else (z,)

    times, _ = repeat(timer, products, 3, args.repeats)
    seconds = statistics.median(times)
    flop = 2.0 * args.tokens * args.d * args.latents * (2 if args.beta > 0 else 1)
    return {"encoder_products": 2 if args.beta > 0 else 1, "encoder_products_s": seconds,
            "encoder_products_tflops": flop / seconds / 1e12}


def copy_floor(torch, args, timer, device):
    """Median device-to-device copy bandwidth of one large tensor, bytes read + written per second."""
    count = args.copy_mib * (1 << 20) // 4
    src, dst = torch.randn(count, device=device), torch.empty(count, device=device)
    times, _ = repeat(timer, lambda i: dst.copy_(src), 3, args.repeats)
    seconds = statistics.median(times)
    return {"copy_bytes": 4 * count, "copy_s": seconds, "copy_gb_per_s": 2 * 4 * count / seconds / 1e9}


def main():
    args = parse_args()
    try:
        import torch
    except ImportError:
        print("peer_gpu.py: skipped, torch is not importable (pip install torch)")
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"peer_gpu.py: skipped, torch {torch.__version__} sees no CUDA device (use --device cpu to check the script)")
        return 0
    device = torch.device(args.device)
    gen = torch.Generator(device=device).manual_seed(args.seed)
    timer = Timer(torch, device)
    xs, gs = make_batches(torch, args, device, gen)
    step, params = make_step(torch, args, device, xs, gs, gen)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times, fvu = repeat(timer, step, args.warmup, args.repeats)
    peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else None
    step_s = statistics.median(times)
    result = {
        "impl": "pytorch (sparsify-style TopK, bf16 autocast, sparse backward)",
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "d": args.d, "latents": args.latents, "k": args.k, "tokens": args.tokens, "beta": args.beta,
        "batches": args.batches, "warmup": args.warmup, "repeats": args.repeats,
        "step_s": step_s,
        "step_s_min": min(times),
        "step_s_mean": statistics.fmean(times),
        "tokens_per_s": args.tokens / step_s,
        "fvu_last": fvu.item(),
        "peak_memory_bytes": peak,
    }
    result.update(encoder_floor(torch, args, timer, xs, gs, params))
    result.update(copy_floor(torch, args, timer, device))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
