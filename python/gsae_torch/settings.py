"""Dataclass settings from command-line options, shared by the tinylm and experiment commands."""

from __future__ import annotations

from dataclasses import asdict


def from_args(cls, quick: dict, args):
    """A `cls` from its defaults, then `quick`'s values under --quick, then every option the user gave."""
    values = asdict(cls())
    if args.quick:
        values.update(quick)
    for name in values:
        given = getattr(args, name)
        if given is not None:
            values[name] = given
    return cls(**values)
