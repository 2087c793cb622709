"""INT8 calibration: activation ranges measured with ONNX Runtime, cached by model and image list.

The cache is a JSON file holding the tensor ranges together with the key they were measured
under (the SHA-256 of the FP32 ONNX, the SHA-256 of the image list, the method, the image count
and the calibrator's settings) and a checksum over both (``calibration_cache``). A rebuild with
the same key skips calibration; a cache whose key differs, whose checksum does not hold, or whose
ranges are not usable (NaN, infinite, inverted, missing a tensor) is never reused. Ranges are
measured in memory bounded by one chunk of images (``calibration_ranges``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization.calibrate import TensorData, TensorsData

from gnet import defaults
from gnet.atomic import write_text_atomic
from gnet.checks.images import ImageSet
from gnet.errors import GnetError, UsageError
from gnet.export.hashing import sha256_file, sha256_strings
from gnet.precision.calibration_cache import (
    CacheError,
    calibrated_tensors,
    dump_payload,
    make_payload,
    parse_payload,
    validate_ranges,
)
from gnet.precision.calibration_ranges import CALIBRATION_METHODS, CALIBRATOR_OPTIONS, Progress, measure_ranges

__all__ = ["CALIBRATION_METHODS", "Calibration", "CalibrationKey", "CalibrationSettings", "calibrate"]


@dataclass
class CalibrationSettings:
    """Where calibration images come from and how ranges are computed (``gnet export --calib-*``)."""

    images: str | None = None  # folder, digits:SPLIT, skimage:faces; None = the weights' default
    count: int | None = None  # None = defaults.CALIB_COUNT or all available, whichever is smaller
    method: str = defaults.CALIB_METHOD
    cache: str | None = None  # explicit cache file; None = named by key under cache_dir
    cache_dir: str = str(defaults.CALIBRATION_CACHE_DIR)


@dataclass(frozen=True)
class CalibrationKey:
    """What a set of ranges depends on."""

    onnx_sha256: str
    images_sha256: str
    method: str
    count: int
    options: str = ""  # the calibrator's histogram settings, JSON

    def file_name(self) -> str:
        digest = sha256_strings([self.method, self.options])[:8]
        return f"calib_{self.onnx_sha256[:12]}_{self.images_sha256[:12]}_{self.method}{self.count}_{digest}.json"


@dataclass
class Calibration:
    """Activation ranges (tensor name → (low, high)) and where they came from."""

    key: CalibrationKey
    ranges: dict[str, tuple[float, float]]
    cache_path: Path
    reused: bool

    def tensors_data(self) -> TensorsData:
        """The ranges in the form ONNX Runtime's quantizer takes."""
        return TensorsData(
            CALIBRATION_METHODS[self.key.method],
            {name: TensorData(lowest=np.float32(lo), highest=np.float32(hi)) for name, (lo, hi) in self.ranges.items()},
        )


def calibration_key(fp32_onnx: Path, images: ImageSet, method: str) -> CalibrationKey:
    if method not in CALIBRATION_METHODS:
        raise UsageError(f"unknown calibration method {method!r}", remedy=f"use one of {', '.join(CALIBRATION_METHODS)}")
    return CalibrationKey(
        onnx_sha256=sha256_file(fp32_onnx),
        images_sha256=sha256_strings([images.source, *images.names]),
        method=method,
        count=len(images),
        options=json.dumps(CALIBRATOR_OPTIONS[method], sort_keys=True),
    )


def _read_cache(path: Path, key: CalibrationKey, explicit: bool,
                required: set[str]) -> dict[str, tuple[float, float]] | None:
    """Ranges from ``path`` if its key matches and its contents hold; a file the user named must, or it is an error.

    A cache found by name under the cache folder that fails any check is simply measured again
    (and overwritten); one named with ``--calib-cache`` is refused in one sentence.
    """
    try:
        stored_key, ranges = parse_payload(path, path.read_text(encoding="utf-8"))
        stored = CalibrationKey(**stored_key)
        if stored == key:
            validate_ranges(path, ranges, required)
            return ranges
    except (OSError, UnicodeDecodeError, TypeError) as exc:
        if explicit:
            raise CacheError(path, f"it is unreadable ({exc.__class__.__name__})") from None
        return None
    except CacheError:
        if explicit:
            raise
        return None
    if explicit:
        what = [f for f in ("onnx_sha256", "images_sha256", "method", "count", "options") if getattr(stored, f) != getattr(key, f)]
        raise GnetError(
            f"calibration cache {path} was made for a different {', '.join(what).replace('_sha256', '')}",
            f"cache {getattr(stored, what[0])!s:.12}, now {getattr(key, what[0])!s:.12}",
            "delete it or pass another --calib-cache",
        )
    return None


def calibrate(
    fp32_onnx: str | Path,
    images: ImageSet,
    method: str = defaults.CALIB_METHOD,
    cache: str | Path | None = None,
    cache_dir: str | Path = defaults.CALIBRATION_CACHE_DIR,
    progress: Progress | None = None,
) -> Calibration:
    """Measure (or reuse) activation ranges of ``fp32_onnx`` on ``images``.

    ``cache``: an explicit cache file (reused only if its key, checksum and ranges hold, else an
    error); without it the file is named by the key under ``cache_dir``.
    ``progress``: an optional callable ``progress(images_done, images_total)``.
    """
    model_path = Path(fp32_onnx)
    key = calibration_key(model_path, images, method)
    path = Path(cache) if cache else Path(cache_dir) / key.file_name()
    model = onnx.load(str(model_path), load_external_data=False)
    required = calibrated_tensors(model)
    if path.is_file():
        ranges = _read_cache(path, key, cache is not None, required)
        if ranges is not None:
            return Calibration(key=key, ranges=ranges, cache_path=path, reused=True)
    ranges = measure_ranges(model_path, model.graph.input[0].name, images, method, CALIBRATOR_OPTIONS[method], progress)
    validate_ranges(path, ranges, required)
    write_text_atomic(path, dump_payload(make_payload(key, images.names, ranges)))
    return Calibration(key=key, ranges=ranges, cache_path=path, reused=False)
