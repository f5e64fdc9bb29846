"""Harvest speed of gsae_torch on a GPT-2-shaped model with random weights (no download needed).

Builds the model from a config (seeded), a byte-level BPE tokenizer trained on generated text (the
model's vocabulary is the config's, so the unembedding costs what GPT-2's does), then times
gsae_torch.harvest end to end after the model is loaded: tokenization, forward, backward, shard
writing. Prints one JSON object per run. Usage:

    .venv/bin/python bench/harvest/harvest_speed.py --preset gpt2-small --tokens 4064 --device cpu
"""

import argparse
import json
import os
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python", "tests"))
import tiny  # noqa: E402

from gsae_torch import harvest, model as models  # noqa: E402

PRESETS = {
    "gpt2-small": dict(n_layer=12, n_embd=768, n_head=12, n_positions=1024, vocab_size=50257),
    "tiny": dict(n_layer=2, n_embd=32, n_head=4, n_positions=64, vocab_size=300),
}


def build(folder: str, preset: dict) -> str:
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = tiny.tokenizer(folder, 300)
    cfg = GPT2Config(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **preset)
    torch.manual_seed(0)
    GPT2LMHeadModel(cfg).save_pretrained(folder)
    return folder


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--preset", choices=PRESETS, default="gpt2-small")
    p.add_argument("--tokens", type=int, default=4064)
    p.add_argument("--context-size", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--hook", default="transformer.h.7")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="F32")
    p.add_argument("--model-dtype", default=None)
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = build(os.path.join(tmp, "model"), PRESETS[a.preset])
        text = os.path.join(tmp, "text.txt")
        with open(text, "w") as fh:
            fh.write(tiny.corpus(max(20000, a.tokens * 3), 1))
        lm = models.load(folder, device=a.device, dtype=a.model_dtype)
        for r in range(a.repeats):
            out = os.path.join(tmp, f"out{r}")
            if a.device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            res = harvest(lm.model, out, tokenizer=lm.tokenizer, text_path=text, hook=a.hook, context_size=a.context_size,
                          tokens=a.tokens, batch_size=a.batch_size, dtype=a.dtype, device=a.device)
            seconds = time.perf_counter() - t0
            print(json.dumps({"preset": a.preset, "repeat": r, "hook": a.hook, "context_size": a.context_size,
                              "batch_size": a.batch_size, "device": a.device, "model_dtype": a.model_dtype or "float32",
                              "store_dtype": a.dtype, "tokens": res.tokens, "d": res.d, "seconds": round(seconds, 3),
                              "tokens_per_s": round(res.tokens / seconds, 1), "torch": torch.__version__,
                              "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
