"""tinylm: a small GPT-2 trained from a fixed seed on GCIDE (see corpus.py), saved as a Hugging Face folder.

Steps: write the seeded train / held-out split of the corpus; train a byte-level BPE tokenizer
(`tokenizers`) on the training split; cut both splits into contexts exactly as `harvest` does (the
split file is one document, BOS first in each context); train GPT2LMHeadModel with AdamW (linear
warm-up, cosine decay) on contexts drawn by a seeded generator; report held-out cross entropy per
predicted token beside a unigram and an interpolated bigram baseline fitted on the training tokens.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass

from . import corpus
from .errors import GsaeError
from .settings import from_args

EOT = "<|endoftext|>"


@dataclass
class Config:
    layers: int = 4
    d_model: int = 256
    heads: int = 4
    context: int = 128
    vocab: int = 4096
    steps: int = 1000
    batch: int = 16
    lr: float = 2e-3
    warmup: int = 50
    weight_decay: float = 0.1
    seed: int = 0
    heldout_fraction: float = 0.05
    heldout_tokens: int = 200_000
    limit_chars: int | None = None
    time_limit_s: float | None = None
    threads: int | None = None


QUICK = dict(layers=2, d_model=64, heads=2, context=64, vocab=512, steps=40, batch=16, lr=3e-3, warmup=5,
             heldout_tokens=8000, limit_chars=400_000)


def _tokenizer(train_path: str, vocab: int, context: int):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train([train_path], vocab_size=vocab, min_frequency=2, special_tokens=[EOT], show_progress=False)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=EOT, eos_token=EOT, unk_token=EOT,
                                   model_max_length=context)


def _baselines(train_ids, held_ids, vocab: int) -> dict:
    """Unigram (add-one) and bigram (Dirichlet-smoothed toward the unigram, weight 100) CE in nats on held-out targets."""
    import numpy as np

    tr = train_ids[:, 1:].numpy()  # predicted positions only (BOS is never a target)
    counts = np.bincount(tr.ravel(), minlength=vocab).astype(np.float64) + 1.0
    uni = counts / counts.sum()
    prev, nxt = train_ids[:, :-1].numpy().ravel(), train_ids[:, 1:].numpy().ravel()
    pair = np.bincount(prev.astype(np.int64) * vocab + nxt, minlength=vocab * vocab).reshape(vocab, vocab)
    row = pair.sum(axis=1)
    hp, hn = held_ids[:, :-1].numpy().ravel(), held_ids[:, 1:].numpy().ravel()
    k = 100.0
    p_bi = (pair[hp, hn] + k * uni[hn]) / (row[hp] + k)
    return {"unigram_ce": float(-np.log(uni[hn]).mean()), "bigram_ce": float(-np.log(p_bi).mean()),
            "bigram_smoothing": "Dirichlet toward the add-one unigram, weight 100"}


def heldout_ce(model, ids, batch: int, device: str) -> float:
    import torch

    with torch.no_grad():
        return _ce(model, ids, batch, device)


def _ce(model, ids, batch: int, device: str) -> float:
    import torch

    model.eval()
    total, n = 0.0, 0
    for i in range(0, ids.shape[0], batch):
        x = ids[i:i + batch].to(device)
        logits = model(x).logits[:, :-1].float()
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum")
        total += float(ce)
        n += x[:, 1:].numel()
    model.train()
    return total / n


def train(out: str, cfg: Config, device: str = "cpu", log=print, gcide_dir: str = corpus.GCIDE_DIR) -> dict:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from . import text

    if cfg.d_model % cfg.heads:
        raise GsaeError(f"--heads: {cfg.heads} does not divide --d-model {cfg.d_model}")
    t0 = time.time()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    data_dir = os.path.join(out, "data")
    split = corpus.write_splits(data_dir, cfg.heldout_fraction, cfg.seed, gcide_dir, cfg.limit_chars)
    log(f"corpus: {split['train']['entries']} train / {split['heldout']['entries']} held-out entries "
        f"({split['train']['chars']:,} / {split['heldout']['chars']:,} chars)")
    tok = _tokenizer(split["train"]["path"], cfg.vocab, cfg.context)
    t_tok = time.time()
    train_ids = text.contexts(tok, split["train"]["path"], cfg.context, prepend_bos=True)
    held_ids = text.contexts(tok, split["heldout"]["path"], cfg.context, prepend_bos=True,
                             max_contexts=max(1, cfg.heldout_tokens // (cfg.context - 1)))
    log(f"tokens: {train_ids.numel():,} train in {train_ids.shape[0]} contexts, {held_ids[:, 1:].numel():,} held-out "
        f"predictions; vocab {len(tok)} (tokenizer + cut {time.time() - t0:.0f} s)")
    mcfg = GPT2Config(vocab_size=len(tok), n_positions=cfg.context, n_embd=cfg.d_model, n_layer=cfg.layers,
                      n_head=cfg.heads, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(mcfg).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(cfg.seed)
    history = []
    t_train = time.time()
    steps_done = 0
    for step in range(cfg.steps):
        lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup) * 0.5 * (1 + math.cos(math.pi * step / cfg.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = torch.randint(train_ids.shape[0], (cfg.batch,), generator=gen)
        x = train_ids[idx].to(device)
        loss = model(x, labels=x).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps_done = step + 1
        if step % 100 == 0 or steps_done == cfg.steps:
            el = time.time() - t_train
            history.append({"step": steps_done, "train_loss": loss.item(), "lr": lr, "elapsed_s": round(el, 1)})
            log(f"step {steps_done}/{cfg.steps} loss {loss.item():.3f} lr {lr:.2e} "
                f"{steps_done * cfg.batch * (cfg.context - 1) / max(el, 1e-9):.0f} tok/s")
        if cfg.time_limit_s is not None and time.time() - t_train > cfg.time_limit_s:
            log(f"time limit {cfg.time_limit_s:.0f} s reached after {steps_done} steps")
            break
    train_s = time.time() - t_train
    ce = heldout_ce(model, held_ids, 32, device)
    train_ce = heldout_ce(model, train_ids[: held_ids.shape[0]], 32, device)
    base = _baselines(train_ids, held_ids, len(tok))
    model.save_pretrained(out)
    tok.save_pretrained(out)
    result = {
        "model": out, "config": asdict(cfg), "device": device, "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps_done": steps_done, "train_tokens_seen": steps_done * cfg.batch * (cfg.context - 1),
        "train_contexts": int(train_ids.shape[0]), "heldout_predictions": int(held_ids[:, 1:].numel()),
        "heldout_ce": ce, "heldout_ppl": math.exp(ce), "train_sample_ce": train_ce, **base,
        "train_seconds": round(train_s, 1), "total_seconds": round(time.time() - t0, 1),
        "tokenize_seconds": round(t_tok - t0, 1), "corpus": split, "history": history,
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
    }
    with open(os.path.join(out, "tinylm.json"), "w") as f:
        json.dump(result, f, indent=2)
    log(f"held-out CE {ce:.3f} nats/token (ppl {math.exp(ce):.1f}); unigram {base['unigram_ce']:.3f}, "
        f"bigram {base['bigram_ce']:.3f}; train-sample CE {train_ce:.3f}; {steps_done} steps in {train_s:.0f} s")
    return result


def add_parser(sub) -> None:
    """Adds the tinylm command to the gsae_torch command line."""
    p = sub.add_parser("tinylm", help="train a small GPT-2 on GCIDE (Debian dict-gcide) and save it as a HF folder")
    p.add_argument("--out", required=True, help="output folder (model, tokenizer, data/, tinylm.json)")
    p.add_argument("--quick", action="store_true", help="a toy in seconds (for tests): 2 layers, d 64, 400 kB of text")
    p.add_argument("--device", default="cpu", help="cpu, cuda, … (default: cpu)")
    p.add_argument("--gcide-dir", default=corpus.GCIDE_DIR, help=f"folder of gcide.index and gcide.dict.dz (default: {corpus.GCIDE_DIR})")
    for f, v in asdict(Config()).items():
        kind = float if f in ("lr", "weight_decay", "heldout_fraction", "time_limit_s") else int
        p.add_argument("--" + f.replace("_", "-"), type=kind, default=None, help=f"(default: {v}; --quick: {QUICK.get(f, v)})")
    p.set_defaults(run=run)


def run(args) -> int:
    config = from_args(Config, QUICK, args)
    train(args.out, config, args.device, gcide_dir=args.gcide_dir)
    return 0
