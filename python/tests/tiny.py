"""Tiny GPT-2-family models with random weights and a byte-level BPE tokenizer trained offline, for tests."""

from __future__ import annotations

import os
import random

import torch

WORDS = ("the a one two cat dog sat ran on under over mat log red blue big small and then it was is "
         "quick slow fox bird sang loud soft while near far home tree river stone light dark").split()


def corpus(n_words: int, seed: int) -> str:
    """Deterministic pseudo-English: sentences of random words, a paragraph break now and then."""
    rng = random.Random(seed)
    out = []
    for i in range(n_words):
        w = rng.choice(WORDS)
        out.append(w + (". " if rng.random() < 0.12 else " "))
        if rng.random() < 0.01:
            out.append("\n\n")
    return "".join(out)


def tokenizer(folder: str, vocab_size: int = 300):
    """Trains a byte-level BPE on corpus text and saves it as a GPT-2 style tokenizer in ``folder``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([corpus(4000, 99)], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   unk_token="<|endoftext|>")
    fast.save_pretrained(folder)
    return fast


def gpt2(folder: str, *, n_layer: int = 2, n_embd: int = 32, n_head: int = 4, n_positions: int = 64,
         vocab_size: int = 300, seed: int = 0):
    """Saves a randomly initialised GPT2LMHeadModel (seeded) with its tokenizer in ``folder``; returns the folder."""
    from transformers import GPT2Config, GPT2LMHeadModel

    os.makedirs(folder, exist_ok=True)
    tok = tokenizer(folder, vocab_size)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=n_positions, n_embd=n_embd, n_layer=n_layer, n_head=n_head,
                     bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(cfg)
    # Larger than default weights, so that activations and gradients are not all tiny and nearly equal.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.2)
    model.save_pretrained(folder)
    return folder
