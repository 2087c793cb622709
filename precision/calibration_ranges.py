"""INT8 calibration ranges measured a chunk of images at a time, so memory does not grow with the image count.

ONNX Runtime's histogram calibrators (percentile, entropy) keep every intermediate output of every
image until ``collect_data`` returns (tens of MiB per image at 224 px, docs/precisions.md), so handing
them all images at once does not fit in memory. Feeding ORT's own ``collect_data`` one chunk at a time frees
the outputs, but its ``HistogramCollector`` then sizes the bins from the *first* chunk and widens
them as later chunks exceed it (percentile also drops values below the first chunk's smallest |x|),
so the ranges move (up to 75 bin widths for entropy on 200 images).

What this module does for ``percentile`` and ``entropy``: two passes over the images in chunks of
:data:`CHUNK_IMAGES`. Pass 1 takes each tensor's min and max (and min/max of |x|); pass 2 adds
per-chunk ``np.histogram`` counts over exactly the range ORT's one-shot call would have chosen, so
the summed histogram equals ORT's one-shot histogram bit for bit; the thresholds are then computed
by ORT's own ``HistogramCollector`` (its percentile and KL code, not a copy). ``minmax``: ORT's
MinMaxCalibrater fed per chunk (its per-call merge is an exact min/max). The histogram methods run
inference twice; memory is one chunk of intermediate outputs whatever the image count.
``tests/precision/test_calibration_ranges.py`` proves the ranges equal ORT's one-shot ones.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod
from onnxruntime.quantization.calibrate import HistogramCollector, create_calibrator

from gnet.atomic import scratch_dir
from gnet.checks.images import ImageSet
from gnet.errors import GnetError

CALIBRATION_METHODS = {
    "minmax": CalibrationMethod.MinMax,
    "entropy": CalibrationMethod.Entropy,
    "percentile": CalibrationMethod.Percentile,
}
# Histogram settings as TensorRT's own entropy calibrator uses them (2048 bins folded into 128 levels);
# ORT's default of 128 bins leaves entropy calibration nothing to choose, so it would equal min-max.
CALIBRATOR_OPTIONS: dict[str, dict] = {
    "minmax": {},
    "entropy": {"num_bins": 2048, "num_quantized_bins": 128},
    "percentile": {"num_bins": 2048, "percentile": 99.999},
}
CHUNK_IMAGES = 16
Progress = Callable[[int, int], None]
Ranges = dict[str, tuple[float, float]]

class NonFiniteActivation(GnetError):
    """A calibration image drove a tensor to NaN or Inf (bad weights or a bad image)."""

    def __init__(self, tensor: str) -> None:
        super().__init__(f"calibration found NaN or Inf in tensor {tensor!r}",
                         "the weights or a calibration image hold non-finite values",
                         "check the checkpoint (gnet refuses NaN weights at load) and the images")
        self.tensor = tensor


def chunks(images: ImageSet, size: int = CHUNK_IMAGES) -> Iterator[np.ndarray]:
    """Contiguous float32 NCHW chunks of at most ``size`` images (the last may be shorter)."""
    for start in range(0, len(images), size):
        yield np.ascontiguousarray(images.data[start:start + size])


class _ChunkReader(CalibrationDataReader):
    """One chunk for ORT's MinMaxCalibrater; a fresh reader per chunk."""

    def __init__(self, input_name: str, batch: np.ndarray) -> None:
        self._feeds = iter([{input_name: batch}])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


class _Tally:
    """Progress over ``passes`` passes reported as images done of ``total`` (monotonic, ends at total)."""

    def __init__(self, total: int, passes: int, progress: Progress | None) -> None:
        self.total, self.passes, self.progress, self.seen = total, passes, progress, 0

    def advance(self, n: int) -> None:
        self.seen += n
        if self.progress:
            self.progress(self.seen // self.passes, self.total)


def _scalar(value) -> float:
    return float(np.asarray(value).ravel()[0])


def _minmax(calibrator, input_name: str, images: ImageSet, tally: _Tally) -> Ranges:
    """ORT's MinMaxCalibrater, one ``collect_data`` per chunk: it keeps only per-batch scalars and merges exactly."""
    for batch in chunks(images):
        calibrator.collect_data(_ChunkReader(input_name, batch))
        tally.advance(len(batch))
    data = calibrator.compute_data()
    return {name: (_scalar(d.range_value[0]), _scalar(d.range_value[1])) for name, d in data.items()}


def _run_chunks(calibrator, input_name: str, images: ImageSet, tally: _Tally) -> Iterator[dict[str, np.ndarray]]:
    """Each chunk's calibrated tensors, flattened (tensor name → 1-D float array)."""
    session = calibrator.infer_session
    names = [o.name for o in session.get_outputs()]
    wanted = calibrator.tensors_to_calibrate
    for batch in chunks(images):
        outputs = session.run(None, {input_name: batch})
        flat = {n: np.asarray(v).reshape(-1) for n, v in zip(names, outputs, strict=True) if n in wanted}
        del outputs
        yield flat
        # The caller's loop variable still holds this dict while the next chunk runs: empty it, or two
        # chunks of intermediate outputs would be alive at once.
        flat.clear()
        tally.advance(len(batch))


def _extremes(calibrator, input_name: str, images: ImageSet, tally: _Tally) -> dict[str, np.ndarray]:
    """Pass 1: per tensor [min, max, min|x|, max|x|] over all images; NaN/Inf anywhere is refused."""
    found: dict[str, np.ndarray] = {}
    for outputs in _run_chunks(calibrator, input_name, images, tally):
        for name, flat in outputs.items():
            if flat.size == 0:
                continue
            low, high = flat.min(), flat.max()
            if low >= 0:  # ReLU/MaxPool/Concat outputs, most tensors: |x| = x, no copy needed
                abs_low, abs_high = low, high
            elif high <= 0:
                abs_low, abs_high = -high, -low
            else:
                abs_low, abs_high = np.abs(flat).min(), max(-low, high)
            now = np.array([low, high, abs_low, abs_high], dtype=flat.dtype)
            if not np.isfinite(now).all():  # plain min/max propagate NaN, unlike ORT's nanmin
                raise NonFiniteActivation(name)
            old = found.get(name)
            found[name] = now if old is None else np.array(
                [min(old[0], now[0]), max(old[1], now[1]), min(old[2], now[2]), max(old[3], now[3])], dtype=flat.dtype)
    return found


def _hist_range(method: str, symmetric: bool, ext: np.ndarray) -> tuple[np.generic, np.generic, bool]:
    """The range ORT's first ``collect`` call uses: (low, high, on |x|?). See calibrate.py collect_*."""
    if method == "percentile" and symmetric:  # collect_absolute_value: np.histogram(|x|, bins) → auto range
        return ext[2], ext[3], True
    threshold = np.array(max(abs(ext[0]), abs(ext[1])), dtype=ext.dtype)  # collect_value
    return -threshold, threshold, False


def _histograms(calibrator, input_name: str, images: ImageSet, tally: _Tally,
                extremes: dict[str, np.ndarray], method: str) -> dict[str, tuple]:
    """Pass 2: summed per-chunk histograms over the global range, in HistogramCollector's dict layout."""
    bins = calibrator.num_bins
    plan = {n: _hist_range(method, calibrator.symmetric, e) for n, e in extremes.items()}
    counts: dict[str, np.ndarray] = {}
    edges: dict[str, np.ndarray] = {}
    for outputs in _run_chunks(calibrator, input_name, images, tally):
        for name, flat in outputs.items():
            if name not in plan:
                continue
            low, high, absolute = plan[name]
            signed = absolute and extremes[name][0] < 0  # |x| needs a copy only where x goes negative
            hist, edge = np.histogram(np.abs(flat) if signed else flat, bins, range=(low, high))
            counts[name] = hist if name not in counts else counts[name] + hist
            edges.setdefault(name, edge)
    result = {}
    for name, (low, high, absolute) in plan.items():
        ext = extremes[name]
        if absolute:  # ORT stores edges cast to the data's dtype and (hist, edges, min, max)
            result[name] = (counts[name], edges[name].astype(ext.dtype), ext[0], ext[1])
        else:  # (hist, edges, min, max, threshold)
            result[name] = (counts[name], edges[name], ext[0], ext[1], high)
    return result


def _histogram_ranges(calibrator, input_name: str, images: ImageSet, method: str, tally: _Tally) -> Ranges:
    extremes = _extremes(calibrator, input_name, images, tally)
    collector = HistogramCollector(
        method=method, symmetric=calibrator.symmetric, num_bins=calibrator.num_bins,
        num_quantized_bins=calibrator.num_quantized_bins, percentile=calibrator.percentile,
        scenario=calibrator.scenario,
    )
    collector.histogram_dict = _histograms(calibrator, input_name, images, tally, extremes, method)
    thresholds = collector.compute_collection_result()
    return {name: (_scalar(t[0]), _scalar(t[1])) for name, t in thresholds.items()}


def measure_ranges(model_path: str | Path, input_name: str, images: ImageSet, method: str,
                   options: dict, progress: Progress | None = None) -> Ranges:
    """Activation ranges of ``model_path`` on ``images`` with ``method`` in memory bounded by one chunk.

    ``options``: the calibrator's extra options (``CALIBRATOR_OPTIONS[method]``).
    ``progress(images_done, images_total)`` is called after every chunk, ending at (total, total).
    """
    if len(images) == 0:
        raise GnetError("no calibration images")
    passes = 1 if method == "minmax" else 2
    tally = _Tally(len(images), passes, progress)
    with scratch_dir("calib") as tmp, contextlib.redirect_stdout(io.StringIO()):
        calibrator = create_calibrator(
            Path(model_path), None, augmented_model_path=str(Path(tmp) / "augmented.onnx"),
            calibrate_method=CALIBRATION_METHODS[method], extra_options=dict(options),
        )
        try:
            if method == "minmax":
                ranges = _minmax(calibrator, input_name, images, tally)
            else:
                ranges = _histogram_ranges(calibrator, input_name, images, method, tally)
        finally:
            del calibrator
    bad = next((n for n, (lo, hi) in ranges.items() if not (np.isfinite(lo) and np.isfinite(hi))), None)  # order: validate_ranges
    if bad is not None:
        raise NonFiniteActivation(bad)
    return ranges
