"""INT8 calibration: activation ranges measured with ONNX Runtime, cached by model and image list.

The cache is a JSON file holding the tensor ranges together with the key they
were measured under: the SHA-256 of the FP32 ONNX, the SHA-256 of the image
list, the method and the image count. A rebuild with the same key skips
calibration; a cache whose key differs is never reused.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod
from onnxruntime.quantization.calibrate import TensorData, TensorsData, create_calibrator

from gnet import defaults
from gnet.atomic import scratch_dir, write_text_atomic
from gnet.errors import GnetError, UsageError
from gnet.export.hashing import sha256_file, sha256_strings
from gnet.export.images import ImageSet

CALIBRATION_METHODS = {
    "minmax": CalibrationMethod.MinMax,
    "entropy": CalibrationMethod.Entropy,
    "percentile": CalibrationMethod.Percentile,
}
CALIBRATION_BATCH = 16
# Histogram settings as TensorRT's own entropy calibrator uses them (2048 bins folded into 128 levels);
# ORT's default of 128 bins leaves entropy calibration nothing to choose, so it would equal min-max.
CALIBRATOR_OPTIONS = {
    "minmax": {},
    "entropy": {"num_bins": 2048, "num_quantized_bins": 128},
    "percentile": {"num_bins": 2048, "percentile": 99.999},
}
CACHE_FORMAT = 1


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


class _ImageReader(CalibrationDataReader):
    """Feeds preprocessed images to the calibrator, a batch at a time, advancing a progress callback."""

    def __init__(self, input_name: str, images: ImageSet, on_batch) -> None:
        # Equal batches: ORT's histogram calibrators stack per-batch outputs and fail on a short last batch.
        size = max(d for d in range(1, CALIBRATION_BATCH + 1) if len(images) % d == 0)
        self._batches: Iterator[np.ndarray] = (images.data[i:i + size] for i in range(0, len(images), size))
        self._input_name = input_name
        self._on_batch = on_batch

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        if batch is None:
            return None
        self._on_batch(len(batch))
        return {self._input_name: np.ascontiguousarray(batch)}


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


def _read_cache(path: Path, key: CalibrationKey, explicit: bool) -> dict[str, tuple[float, float]] | None:
    """Ranges from ``path`` if its key matches; a mismatching file the user named is an error."""
    try:
        payload = json.loads(path.read_text())
        stored = CalibrationKey(**payload["key"])
        ranges = {name: (float(lo), float(hi)) for name, (lo, hi) in payload["ranges"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        if explicit:
            raise GnetError(f"calibration cache {path} is unreadable or not a gnet calibration cache") from None
        return None
    if stored == key:
        return ranges
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
    progress=None,
) -> Calibration:
    """Measure (or reuse) activation ranges of ``fp32_onnx`` on ``images``.

    ``cache``: an explicit cache file (reused only if its key matches, else an
    error); without it the file is named by the key under ``cache_dir``.
    ``progress``: an optional callable ``progress(images_done, images_total)``.
    """
    model_path = Path(fp32_onnx)
    key = calibration_key(model_path, images, method)
    path = Path(cache) if cache else Path(cache_dir) / key.file_name()
    if path.is_file():
        ranges = _read_cache(path, key, explicit=cache is not None)
        if ranges is not None:
            return Calibration(key=key, ranges=ranges, cache_path=path, reused=True)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(images))

    import onnx

    input_name = onnx.load(str(model_path), load_external_data=False).graph.input[0].name
    with scratch_dir("calib") as tmp, contextlib.redirect_stdout(io.StringIO()):
        calibrator = create_calibrator(
            model_path, None, augmented_model_path=str(Path(tmp) / "augmented.onnx"),
            calibrate_method=CALIBRATION_METHODS[method],
            extra_options=dict(CALIBRATOR_OPTIONS[method]),
        )
        calibrator.collect_data(_ImageReader(input_name, images, advance))
        computed = calibrator.compute_data()
        del calibrator
    ranges = {name: (float(np.asarray(d.range_value[0]).ravel()[0]), float(np.asarray(d.range_value[1]).ravel()[0]))
              for name, d in computed.data.items()}
    payload = {"format": CACHE_FORMAT, "key": asdict(key), "images": images.names, "ranges": ranges}
    write_text_atomic(path, json.dumps(payload, indent=1))
    return Calibration(key=key, ranges=ranges, cache_path=path, reused=False)
