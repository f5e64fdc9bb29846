"""Text sources and their cut into fixed-length token contexts.

A source is a plain text file (one document), a folder of ``.txt`` files (one document each, in
sorted order of their paths, subfolders included) or a folder written by ``datasets``'
``save_to_disk`` (one document per row, column ``text`` by default). Documents are tokenized
without special tokens and joined into one stream with the tokenizer's EOS token (else its BOS)
after each document. The stream is cut into consecutive pieces of ``context_size`` tokens, or of
``context_size − 1`` tokens behind a BOS token when ``prepend_bos``; a last piece too short for a
context is dropped. The same source and settings therefore always give the same contexts.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Iterator

import torch

from .errors import GsaeError


def _is_dataset(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "state.json")) or os.path.isfile(os.path.join(path, "dataset_dict.json"))


def source_files(path: str) -> list[str]:
    """Every file that makes up the source, in the order documents are read (text files) or sorted."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise GsaeError(f"--text: {path}: no such file or folder")
    found = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for f in sorted(files):
            if _is_dataset(path) or f.endswith(".txt"):
                found.append(os.path.join(root, f))
    if not found:
        raise GsaeError(f"--text: {path} holds no .txt files and is not a datasets folder (save_to_disk)")
    return found


def source_sha256(path: str) -> str:
    """SHA-256 over the source's files: for each, its path relative to the source, a NUL, its bytes."""
    h = hashlib.sha256()
    base = path if os.path.isdir(path) else os.path.dirname(path)
    for f in source_files(path):
        h.update(os.path.relpath(f, base).encode() + b"\0")
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def documents(path: str, text_column: str = "text") -> Iterator[str]:
    """The source's documents, in order."""
    if os.path.isdir(path) and _is_dataset(path):
        yield from _dataset_rows(path, text_column)
        return
    for f in source_files(path):
        try:
            with open(f, encoding="utf-8") as fh:
                yield fh.read()
        except UnicodeDecodeError as e:
            raise GsaeError(f"--text: {f} is not UTF-8 text ({e.reason} at byte {e.start})") from e


def _dataset_rows(path: str, column: str) -> Iterator[str]:
    if os.path.isfile(os.path.join(path, "dataset_dict.json")):
        raise GsaeError(f"--text: {path} is a DatasetDict: pass one split's folder (for example {os.path.join(path, 'train')})")
    try:
        import datasets
    except ImportError as e:
        raise GsaeError(f"--text: {path} is a datasets folder but the 'datasets' package is not installed (pip install datasets)") from e
    ds = datasets.load_from_disk(path)
    if column not in ds.column_names:
        raise GsaeError(f"--text-column: {path} has no column '{column}' (its columns: {', '.join(ds.column_names)})")
    for row in ds.select_columns([column]):
        yield row[column] or ""


def separator(tokenizer) -> int | None:
    """The token put after each document: EOS, else BOS, else none."""
    for tid in (tokenizer.eos_token_id, tokenizer.bos_token_id):
        if tid is not None:
            return int(tid)
    return None


def contexts(tokenizer, path: str, context_size: int, prepend_bos: bool, max_contexts: int | None = None,
             text_column: str = "text") -> torch.Tensor:
    """Up to ``max_contexts`` contexts (all the source holds when None), as token ids [n, context_size] (int64).

    Documents are tokenized only until enough contexts exist.
    """
    bos = tokenizer.bos_token_id
    if prepend_bos and bos is None:
        raise GsaeError("--prepend-bos: the tokenizer has no BOS token; pass --no-prepend-bos")
    piece = context_size - (1 if prepend_bos else 0)
    if piece < 1:
        raise GsaeError(f"--context-size: {context_size} leaves no room for text")
    sep = separator(tokenizer)
    stream: list[int] = []
    need = None if max_contexts is None else max_contexts * piece
    chars = 0
    for doc in documents(path, text_column):
        chars += len(doc)
        if not doc:
            continue
        stream.extend(tokenizer(doc, add_special_tokens=False, verbose=False)["input_ids"])
        if sep is not None:
            stream.append(sep)
        if need is not None and len(stream) >= need:
            break
    if chars == 0:
        raise GsaeError(f"--text: {path} holds no text")
    n = len(stream) // piece
    if max_contexts is not None:
        n = min(n, max_contexts)
    if n == 0:
        raise GsaeError(f"--text: {path} gives {len(stream)} tokens, fewer than one context of {context_size}")
    ids = torch.tensor(stream[: n * piece], dtype=torch.int64).view(n, piece)
    if prepend_bos:
        ids = torch.cat([torch.full((n, 1), int(bos), dtype=torch.int64), ids], dim=1)
    return ids


@dataclass(frozen=True)
class Layout:
    """Where rows come from in each context: BOS or not, and positions skip … context_size−2.

    The last position is never a row: no prediction of its context depends on it (its gradient is 0).
    """

    context_size: int
    prepend_bos: bool
    skip: int

    @property
    def rows_per_context(self) -> int:
        return self.context_size - 1 - self.skip


def layout(tokenizer, max_context: int | None, context_size: int, prepend_bos: bool | None,
           skip_positions: int | None) -> Layout:
    """The Layout for these options; BOS defaults to whether the tokenizer has one, skip to 1 with BOS (an outlier) else 0."""
    if context_size < 2:
        raise GsaeError(f"--context-size: {context_size} is too short (a context needs at least 2 tokens)")
    if max_context is not None and context_size > max_context:
        raise GsaeError(f"--context-size: {context_size} is longer than the model allows ({max_context} positions)")
    bos = tokenizer.bos_token_id is not None if prepend_bos is None else prepend_bos
    skip = (1 if bos else 0) if skip_positions is None else skip_positions
    if skip < 0 or context_size - 1 - skip < 1:
        raise GsaeError(f"--skip-positions: {skip} leaves no position in a context of {context_size} "
                        f"(rows are positions skip … context−2)")
    return Layout(context_size, bos, skip)
