"""FP32 ONNX → FP16 or INT8 ONNX, each proven against PyTorch FP32 before it is written."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx

from gnet.atomic import atomic_output, ensure_writable_dir
from gnet.errors import GnetError
from gnet.export import metadata
from gnet.export.calibration import Calibration, calibrate
from gnet.export.hashing import sha256_file
from gnet.export.fp16 import body_casts, convert_fp16, converter_version
from gnet.export.images import ImageSet, load_images
from gnet.export.parity import ParityError, ParityReport, check_onnx
from gnet.export.qdq_rules import check_trt_qdq
from gnet.export.quantize import onnxruntime_version, quantize
from gnet.export.weights import LoadedModel

PRECISIONS = ("fp32", "fp16", "int8")
DEFAULT_CALIB_COUNT = 200
# Measured on the fixture (README, "Choosing the calibration method"): the highest worst-case cosine,
# with top-1 agreement and accuracy equal to min-max and better than entropy.
DEFAULT_CALIB_METHOD = "percentile"


@dataclass
class CalibrationSettings:
    """Where calibration images come from and how ranges are computed."""

    images: str | None = None  # folder, digits:SPLIT, skimage:faces; None = the weights' default
    count: int | None = None  # None = DEFAULT_CALIB_COUNT or all available, whichever is smaller
    method: str = DEFAULT_CALIB_METHOD
    cache: str | None = None  # explicit cache file; None = named by key under cache_dir
    cache_dir: str = "artifacts/calibration"


@dataclass
class PrecisionResult:
    """What ``write_precision`` wrote and proved."""

    path: Path
    parity: ParityReport
    metadata: dict[str, Any]
    calibration: Calibration | None = None
    notes: list[str] = field(default_factory=list)


def default_calibration_source(loaded: LoadedModel) -> str:
    """Training digits for the fixture; scikit-image's face photos otherwise (never the parity photos)."""
    return "digits:train" if loaded.dataset == "digits" else "skimage:faces"


def calibration_images(loaded: LoadedModel, settings: CalibrationSettings, image_size: int, evaluation: ImageSet) -> ImageSet:
    """Load the calibration set, refusing too few images or any overlap with the evaluation set."""
    source = settings.images or default_calibration_source(loaded)
    available = load_images(source, image_size)
    wanted = settings.count or min(DEFAULT_CALIB_COUNT, len(available))
    if wanted > len(available):
        raise GnetError(f"asked for {wanted} calibration images but {source} has only {len(available)}")
    images = available.take(wanted)
    overlap = images.identities() & evaluation.identities()
    if overlap:
        raise GnetError(
            f"{len(overlap)} calibration images are also evaluation images (e.g. {sorted(overlap)[0]}); "
            "pass disjoint --calib-images and --images"
        )
    return images


def _stamp_file(model_path: Path, meta: dict[str, Any]) -> None:
    model = onnx.load(str(model_path))
    metadata.stamp(model, meta)
    onnx.save(model, str(model_path))


def write_precision(
    loaded: LoadedModel,
    fp32_onnx: Path,
    output: Path,
    precision: str,
    evaluation: ImageSet,
    reference,
    io_dtype: str = "fp32",
    int8_target: str = "tensorrt",
    calib: CalibrationSettings | None = None,
    keep_fp: Sequence[str] = (),
    batches: Sequence[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PrecisionResult:
    """Convert ``fp32_onnx`` to ``precision``, check it against ``reference`` logits, then write it atomically."""
    if precision not in ("fp16", "int8"):
        raise GnetError(f"unknown precision {precision!r}; use fp16 or int8")
    ensure_writable_dir(output)
    meta = dict(metadata.read(onnx.load(str(fp32_onnx), load_external_data=False)))
    meta["precision"] = precision
    meta["source_onnx_sha256"] = sha256_file(fp32_onnx)
    calibration = None
    notes: list[str] = []
    with atomic_output(output) as tmp:
        if precision == "fp16":
            model = convert_fp16(onnx.load(str(fp32_onnx)), io_dtype)
            stray = body_casts(model)
            if stray:
                raise GnetError(f"FP16 conversion left Cast nodes inside the graph: {', '.join(stray[:3])}")
            onnx.save(model, str(tmp))
            meta.update(io_dtype=io_dtype, converter=converter_version())
        else:
            settings = calib or CalibrationSettings()
            size = int(meta.get("image_size") or evaluation.data.shape[-1])
            images = calibration_images(loaded, settings, size, evaluation)
            calibration = calibrate(fp32_onnx, images, settings.method, settings.cache, settings.cache_dir, progress)
            notes.append(("reused" if calibration.reused else "wrote") + f" calibration cache {calibration.cache_path}")
            with tempfile.TemporaryDirectory(prefix="gnet-int8-") as work:
                raw = Path(work) / "qdq.onnx"
                recipe = quantize(fp32_onnx, raw, calibration, int8_target, keep_fp)
                model = onnx.load(str(raw))
            if int8_target == "tensorrt":
                violations = check_trt_qdq(model, excluded=keep_fp)
                if violations:
                    raise GnetError(f"the Q/DQ graph breaks TensorRT's placement rules: {violations[0]}")
            onnx.save(model, str(tmp))
            meta.update(
                int8_target=int8_target,
                quantizer=f"onnxruntime {onnxruntime_version()}",
                quant_recipe=recipe.to_dict(),
                keep_fp=list(keep_fp),
                calibration={
                    "method": calibration.key.method, "count": calibration.key.count,
                    "source": images.source, "images_sha256": calibration.key.images_sha256,
                },
                calibration_sha256=calibration.key.images_sha256,
            )
        _stamp_file(tmp, meta)
        report = check_onnx(tmp, reference, evaluation, precision, loaded.weights, batches, trained=loaded.trained)
        report.artifact = output.name
        if not report.passed:
            raise ParityError(report, "; nothing was written")
    return PrecisionResult(path=output, parity=report, metadata=meta, calibration=calibration, notes=notes)
