"""SHA-256 helpers shared by metadata, manifests and caches."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import torch


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (what ``sha256sum`` prints)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_state_dict(state: Mapping[str, torch.Tensor]) -> str:
    """Hex SHA-256 over names, dtypes, shapes and values, in sorted key order.

    Used where the weights have no file (seeded random weights), so that two
    runs with the same seed record the same hash.
    """
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def sha256_strings(items: list[str]) -> str:
    """Hex SHA-256 of a list of strings (one per line)."""
    return hashlib.sha256("\n".join(items).encode("utf-8")).hexdigest()


def record_path(derived: Path) -> Path:
    """Where the digests of a derived file (a cache made from another file) are recorded: beside it."""
    return derived.with_name(derived.name + ".sha256.json")


def write_record(derived: Path, source: Path | None = None) -> None:
    """Record the SHA-256 of ``derived`` and, when given, of the ``source`` it was made from (atomically)."""
    from gnet.atomic import write_text_atomic

    record = {"sha256": sha256_file(derived)}
    if source is not None:
        record.update(source=source.name, source_sha256=sha256_file(source))
    write_text_atomic(record_path(derived), json.dumps(record, indent=2) + "\n")


def record_matches(derived: Path, source: Path | None = None) -> bool:
    """True when ``derived`` (and ``source``, when given) are still the files :func:`write_record` recorded (an
    edited, truncated or replaced file on either side is not reused)."""

    try:
        record = json.loads(record_path(derived).read_text())
        return record["sha256"] == sha256_file(derived) and (
            source is None or record["source_sha256"] == sha256_file(source))
    except (OSError, ValueError, KeyError, TypeError):
        return False
