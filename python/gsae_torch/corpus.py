"""English text from GCIDE (Debian package dict-gcide), one document per dictionary entry.

The dictd files are /usr/share/dictd/gcide.index (headword, base64 offset, base64 length) and
gcide.dict.dz (gzip-compatible dictzip). Every distinct (offset, length) block is one entry; the
cleaning keeps the prose of definitions and quotations: it drops the source tags such as
"[1913 Webster]" and "[PJC]", the braces of cross references and the pronunciation backslashes,
and joins each paragraph's lines with single spaces. Entries shorter than `min_chars` after cleaning
and the 00-database-* header entries are left out. The split is by entry: a seeded permutation puts
`heldout_fraction` of them in the held-out split.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import re

from .errors import GsaeError

GCIDE_DIR = "/usr/share/dictd"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_SOURCE_TAG = re.compile(r"^\s*\[[^\]]*(Webster|PJC|WordNet|Century|Suppl|RDH|Chambers|Note)[^\]]*\]\s*$")
_SPACES = re.compile(r"[ \t]+")


def _b64(s: str) -> int:
    n = 0
    for c in s:
        n = n * 64 + _B64.index(c)
    return n


def _clean(block: str) -> str:
    paragraphs, current = [], []
    for line in block.splitlines():
        if _SOURCE_TAG.match(line):
            continue
        if not line.strip():
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        current.append(line.strip())
    if current:
        paragraphs.append(" ".join(current))
    text = "\n".join(paragraphs)
    text = text.replace("{", "").replace("}", "").replace("\\", "").replace("*", "")
    return _SPACES.sub(" ", text).strip()


def gcide_entries(folder: str = GCIDE_DIR, min_chars: int = 40) -> list[str]:
    index, data = os.path.join(folder, "gcide.index"), os.path.join(folder, "gcide.dict.dz")
    for f in (index, data):
        if not os.path.isfile(f):
            raise GsaeError(f"{f}: not found (install the Debian package dict-gcide: apt-get install dict-gcide)")
    with gzip.open(data) as f:
        raw = f.read()
    blocks = set()
    with open(index, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0].startswith("00-database"):
                continue
            blocks.add((_b64(parts[1]), _b64(parts[2])))
    entries = []
    for off, n in sorted(blocks):
        text = _clean(raw[off:off + n].decode("utf-8", "replace"))
        if len(text) >= min_chars:
            entries.append(text)
    return entries


def write_splits(out: str, heldout_fraction: float = 0.05, seed: int = 0, folder: str = GCIDE_DIR,
                 limit_chars: int | None = None) -> dict:
    """Write out/train.txt and out/heldout.txt (entries separated by blank lines); return their description.

    limit_chars, when given, keeps only the first entries of the seeded order up to that many characters
    (the quick variant)."""
    entries = gcide_entries(folder)
    order = list(range(len(entries)))
    random.Random(seed).shuffle(order)
    if limit_chars is not None:
        kept, total = [], 0
        for i in order:
            if total >= limit_chars:
                break
            kept.append(i)
            total += len(entries[i])
        order = kept
    n_held = max(1, int(round(len(order) * heldout_fraction)))
    splits = {"heldout": sorted(order[:n_held]), "train": sorted(order[n_held:])}
    os.makedirs(out, exist_ok=True)
    info = {"source": "GCIDE via Debian dict-gcide (" + os.path.join(folder, "gcide.dict.dz") + ")",
            "entries": len(entries), "seed": seed, "heldout_fraction": heldout_fraction}
    for name, idx in splits.items():
        path = os.path.join(out, f"{name}.txt")
        text = "\n\n".join(entries[i] for i in idx) + "\n"
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        info[name] = {"path": path, "entries": len(idx), "chars": len(text),
                      "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
    return info
