"""The calibration cache file: its payload, a checksum over key + ranges, and validation of every range.

* ``CACHE_FORMAT = 2``: the payload gains ``"ranges_sha256"``, the SHA-256 of a canonical JSON of
  the key *and* the ranges (so neither an edited range nor a key copied onto other ranges passes).
  A format-1 cache (no checksum) is stale: not reused when found by name, an error when named.
* ``validate_ranges``: every range finite with low ≤ high, and exactly the tensors the calibrator
  measures for this model (what the quantizer looks up). Run on fresh ranges before writing them and
  on cached ranges before reusing them, so ``quantize_static`` never sees what it mishandles:
  NaN → ``AssertionError: scale issue``; missing → ``ValueError: Quantization parameters are not
  specified``; +Inf → scale inf written silently; low > high → scale 1.0 written silently
  (measured with ONNX Runtime 1.32).

The checksum is not a signature: anyone can recompute it. It stops hand edits, partial writes,
and tools that rewrite floats; it does not stop a deliberate forger (nothing local could).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import onnx
from onnx import TensorProto

from gnet.errors import GnetError

CACHE_FORMAT = 2
Ranges = dict[str, tuple[float, float]]


class CacheError(GnetError):
    """A calibration cache that must not be used; ``path`` names it and ``tensor`` the bad entry, if any."""

    def __init__(self, path: Path, why: str, tensor: str | None = None) -> None:
        super().__init__(f"calibration cache {path} cannot be used", why,
                         "delete it (gnet measures the ranges again) or pass another --calib-cache")
        self.path = path
        self.tensor = tensor


def ranges_sha256(key: Mapping[str, Any], ranges: Mapping[str, tuple[float, float]]) -> str:
    """SHA-256 of the canonical JSON of key and ranges (sorted names, floats as Python's round-trip repr)."""
    canonical = json.dumps(
        {"key": dict(key), "ranges": {n: [float(lo), float(hi)] for n, (lo, hi) in sorted(ranges.items())}},
        sort_keys=True, separators=(",", ":"), allow_nan=True,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def calibrated_tensors(model: onnx.ModelProto) -> set[str]:
    """The tensors ORT's calibrators measure (``CalibraterBase.select_tensors_to_calibrate`` with no op filter):
    float/float16 inputs and outputs of every node, initializers excluded, after shape inference."""
    inferred = onnx.shape_inference.infer_shapes(model)
    infos = {vi.name: vi for vi in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]}
    initializers = {t.name for t in inferred.graph.initializer}
    float_types = {TensorProto.FLOAT, TensorProto.FLOAT16}
    names = set()
    for node in inferred.graph.node:
        for name in [*node.input, *node.output]:
            info = infos.get(name)
            if (info is not None and info.type.HasField("tensor_type")
                    and info.type.tensor_type.elem_type in float_types and name not in initializers):
                names.add(name)
    return names


def range_problem(low: float, high: float) -> str | None:
    """Why (low, high) is not a usable activation range, or None."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"its range ({low}, {high}) is not finite"
    if low > high:
        return f"its low {low} is above its high {high}"
    return None


def validate_ranges(path: Path, ranges: Mapping[str, tuple[float, float]], required: set[str]) -> None:
    """Refuse (CacheError) a non-finite or inverted range, a missing tensor, or a tensor the model lacks."""
    for name in sorted(ranges):
        problem = range_problem(*ranges[name])
        if problem:
            raise CacheError(path, f"tensor {name!r}: {problem}", tensor=name)
    missing = sorted(required - set(ranges))
    if missing:
        raise CacheError(path, f"it has no range for {len(missing)} tensors of the model (e.g. {missing[0]!r})",
                         tensor=missing[0])
    extra = sorted(set(ranges) - required)
    if extra:
        raise CacheError(path, f"it has ranges for {len(extra)} tensors the model lacks (e.g. {extra[0]!r})",
                         tensor=extra[0])


def make_payload(key, names: list[str], ranges: Ranges) -> dict[str, Any]:
    """What ``calibrate`` writes (validate ``ranges`` first: the writer refuses NaN via allow_nan=False)."""
    return {"format": CACHE_FORMAT, "key": asdict(key), "images": names, "ranges": ranges,
            "ranges_sha256": ranges_sha256(asdict(key), ranges)}


def dump_payload(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, indent=1, allow_nan=False)


def parse_payload(path: Path, text: str) -> tuple[dict[str, Any], Ranges]:
    """(key dict, ranges) of a format-2 cache whose checksum holds; CacheError otherwise."""
    try:
        payload = json.loads(text)
        fmt = payload.get("format")
        key = dict(payload["key"])
        ranges = {str(n): (float(lo), float(hi)) for n, (lo, hi) in payload["ranges"].items()}
        stored = str(payload.get("ranges_sha256", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CacheError(path, "it is not a gnet calibration cache (unreadable JSON or missing fields)") from None
    if fmt != CACHE_FORMAT:
        raise CacheError(path, f"it was written by another gnet (cache format {fmt!r}, this gnet reads {CACHE_FORMAT})")
    if stored != ranges_sha256(key, ranges):
        raise CacheError(path, "its ranges do not match their checksum (the file was edited or damaged)")
    return key, ranges
