"""SHA-256 helpers shared by metadata, manifests and caches."""

from __future__ import annotations

import hashlib
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
