"""FP32 ONNX → FP16 or INT8 ONNX, each proven against PyTorch FP32 before it is written."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from gnet import defaults
from gnet.atomic import atomic_output, ensure_writable_dir, scratch_dir
from gnet.checks.diagnosis import first_overflow
from gnet.checks.images import ImageSet, load_images
from gnet.checks.parity import ParityError, ParityReport, check_onnx
from gnet.errors import GnetError, UsageError
from gnet.export import metadata
from gnet.export.hashing import sha256_file
from gnet.export.weights import LoadedModel
from gnet.precision.calibration import Calibration, CalibrationSettings, calibrate
from gnet.precision.fp16 import body_casts, convert_fp16, converter_version
from gnet.precision.qdq_rules import check_trt_qdq
from gnet.precision.quantize import onnxruntime_version, quantize

Progress = Callable[[int, int], None]


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
    wanted = settings.count or defaults.CALIB_COUNT
    images = load_images(source, image_size, limit=wanted)  # only what is used: memory is the images kept
    if settings.count and len(images) < settings.count:
        raise UsageError(f"asked for {settings.count} calibration images but {source} has only {len(images)}")
    overlap = images.identities() & evaluation.identities()
    if overlap:
        raise UsageError(f"{len(overlap)} calibration images are also evaluation images (e.g. {sorted(overlap)[0]})",
                         remedy="pass disjoint --calib-images and --images")
    return images


def stamp_file(model_path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    model = onnx.load(str(model_path))
    stamped = metadata.stamp(model, meta)
    onnx.save(model, str(model_path))
    return stamped


def _write_fp16(fp32_onnx: Path, dest: Path, io_dtype: str) -> dict[str, Any]:
    """Convert to FP16 into ``dest``; the metadata it adds."""
    model = convert_fp16(onnx.load(str(fp32_onnx)), io_dtype)
    stray = body_casts(model)
    if stray:
        raise GnetError("FP16 conversion left Cast nodes inside the graph", ", ".join(stray[:3]))
    onnx.save(model, str(dest))
    return {"io_dtype": io_dtype, "converter": converter_version()}


@dataclass
class Int8Request:
    """What an INT8 conversion needs besides the FP32 ONNX and the destination."""

    loaded: LoadedModel
    evaluation: ImageSet
    image_size: int
    int8_target: str
    settings: CalibrationSettings
    keep_fp: Sequence[str]
    progress: Progress | None


def _write_int8(fp32_onnx: Path, dest: Path, request: Int8Request, notes: list[str]) -> tuple[dict[str, Any], Calibration]:
    """Calibrate (or reuse the cache), quantize, check TensorRT's rules, write into ``dest``; metadata added."""
    settings = request.settings
    images = calibration_images(request.loaded, settings, request.image_size, request.evaluation)
    calibration = calibrate(fp32_onnx, images, settings.method, settings.cache, settings.cache_dir, request.progress)
    notes.append(("reused" if calibration.reused else "wrote") + f" calibration cache {calibration.cache_path}")
    with scratch_dir("int8") as work:
        raw = Path(work) / "qdq.onnx"
        recipe = quantize(fp32_onnx, raw, calibration, request.int8_target, request.keep_fp)
        model = onnx.load(str(raw))
    if request.int8_target == "tensorrt":
        violations = check_trt_qdq(model, excluded=request.keep_fp)
        if violations:
            raise GnetError("the Q/DQ graph breaks TensorRT's placement rules", violations[0])
    onnx.save(model, str(dest))
    meta = {
        "int8_target": request.int8_target,
        "quantizer": f"onnxruntime {onnxruntime_version()}",
        "quant_recipe": recipe.to_dict(),
        "keep_fp": list(request.keep_fp),
        "calibration": {"method": calibration.key.method, "count": calibration.key.count,
                        "source": images.source, "images_sha256": calibration.key.images_sha256},
        "calibration_sha256": calibration.key.images_sha256,
    }
    return meta, calibration


def write_precision(
    loaded: LoadedModel,
    fp32_onnx: Path,
    output: Path,
    precision: str,
    evaluation: ImageSet,
    reference: np.ndarray,
    io_dtype: str = "fp32",
    int8_target: str = "tensorrt",
    calib: CalibrationSettings | None = None,
    keep_fp: Sequence[str] = (),
    batches: Sequence[int] | None = None,
    progress: Progress | None = None,
) -> PrecisionResult:
    """Convert ``fp32_onnx`` to ``precision``, check it against ``reference`` logits, then write it atomically."""
    if precision not in ("fp16", "int8"):
        raise UsageError(f"unknown precision {precision!r}", remedy="use fp16 or int8")
    ensure_writable_dir(output)
    meta = dict(metadata.read(onnx.load(str(fp32_onnx), load_external_data=False)))
    meta.update(precision=precision, source_onnx_sha256=sha256_file(fp32_onnx))
    calibration = None
    notes: list[str] = []
    with atomic_output(output) as tmp:
        if precision == "fp16":
            meta.update(_write_fp16(fp32_onnx, tmp, io_dtype))
        else:
            size = int(meta.get("image_size") or evaluation.data.shape[-1])
            request = Int8Request(loaded, evaluation, size, int8_target, calib or CalibrationSettings(), keep_fp, progress)
            added, calibration = _write_int8(fp32_onnx, tmp, request, notes)
            meta.update(added)
        meta = stamp_file(tmp, meta)
        report = prove(tmp, output.name, precision, loaded, evaluation, reference, batches)
    return PrecisionResult(path=output, parity=report, metadata=meta, calibration=calibration, notes=notes)


def prove(graph: Path, name: str, precision: str, loaded: LoadedModel, evaluation: ImageSet, reference: np.ndarray,
          batches: Sequence[int] | None) -> ParityReport:
    """Parity of the not-yet-written ``graph`` (to be ``name``) against PyTorch's ``reference``, and for FP16 its
    range; raises (nothing is written) when either fails."""
    report = check_onnx(graph, reference, evaluation, precision, loaded.weights, batches, trained=loaded.trained,
                        trained_image_size=loaded.image_size)
    report.artifact = name
    if not report.passed:
        raise ParityError(report, "nothing was written")
    if precision == "fp16" and (overflow := first_overflow(graph, evaluation)) is not None:
        raise GnetError(f"{name} leaves FP16's range on {evaluation.source}", overflow.sentence(),
                        "nothing was written")
    return report
