"""The export stage's Python API: PyTorch → the FP32 ONNX → the precision graphs, each proven as it is written and
reused when the folder already holds it (``gnet export``, the pipeline and the bench call these)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gnet import defaults
from gnet.checks.images import ImageSet, parity_images
from gnet.defaults import ARTIFACT_NAMES, artifact_kind, artifact_name, kind_precision
from gnet.errors import UsageError
from gnet.export import metadata
from gnet.export.onnx_export import ExportResult, export_fp32
from gnet.export.weights import LoadedModel, torch_logits
from gnet.export.weights_choice import choose_weights
from gnet.precision.calibration import CalibrationSettings
from gnet.precision.convert import PrecisionResult, write_precision
from gnet.precision.frame_input import write_frame_input


class _Reference:
    """PyTorch FP32 logits of the parity images, computed the first time something needs them (or given, when the
    caller already has them for the same images)."""

    def __init__(self, loaded: LoadedModel, images: ImageSet, logits: np.ndarray | None = None) -> None:
        self._loaded, self._images, self._logits = loaded, images, logits

    def __call__(self):
        if self._logits is None:
            self._logits = torch_logits(self._loaded.model, self._images.data)
        return self._logits


def _ensure_fp32(loaded: LoadedModel, path: Path, evaluation: ImageSet, size: int, reference: _Reference,
                 opset: int | None = None, exporter: str = defaults.EXPORTERS[0],
                 batches: Sequence[int] | None = None) -> None:
    """Reuse the FP32 ONNX at ``path`` when it was exported from these weights and size (and ``opset``,
    when given), else export it there: every other precision is made from it."""
    if not _matches(path, loaded, size, opset, "fp32"):
        export_fp32(loaded, path, evaluation, size, opset or defaults.DEFAULT_OPSET, exporter, batches, reference())


def export_model(
    weights: str = defaults.WEIGHTS,  # "auto" (see gnet.export.weights_choice), "imagenet", "random", a path
    output: str | Path | None = None,
    seed: int = 0,
    image_size: int | None = None,
    opset: int = defaults.DEFAULT_OPSET,
    images: str | Path | None = None,
    exporter: str = defaults.EXPORTERS[0],
    transform_input: bool | None = None,
    batches: Sequence[int] | None = None,
    precision: str = "fp32",
    io_dtype: str = "fp32",
    int8_target: str = "tensorrt",
    calib: CalibrationSettings | None = None,
    keep_fp: Sequence[str] = (),
    progress=None,
    input_type: str = defaults.FLOAT_INPUT,
) -> ExportResult | PrecisionResult:
    """Export torchvision GoogLeNet with the given weights to a parity-proven ONNX file of ``precision``.

    FP16 and INT8 start from the FP32 ONNX in the same folder (``googlenet_fp32.onnx``),
    reused when it was exported from the same weights, size and opset, else written first. ``input_type``
    ``uint8-nhwc``: a graph that takes camera frames, made from the float graph of that precision beside it
    (reused or written first, :mod:`gnet.precision.frame_input`).
    """
    if input_type not in defaults.INPUT_TYPES:
        raise UsageError(f"unknown input type {input_type!r}", remedy=f"use one of {', '.join(defaults.INPUT_TYPES)}")
    chosen = choose_weights(weights, seed=seed, transform_input=transform_input, image_size=image_size)
    loaded = chosen.loaded
    size = image_size or loaded.image_size or defaults.DEFAULT_IMAGE_SIZE
    evaluation = parity_images(loaded, images, size)
    reference = _Reference(loaded, evaluation)
    kind = artifact_kind(precision, int8_target)
    dest = Path(output) if output else defaults.ARTIFACTS_DIR / artifact_name(kind, input_type)
    if input_type == defaults.FRAME_INPUT and dest.name in ARTIFACT_NAMES.values():
        raise UsageError(f"{dest.name} is a float graph's name, and frame-input graphs are made from the float "
                         "graphs beside them",
                         remedy=f"write it to {artifact_name(kind, defaults.FRAME_INPUT)} (or leave -o out)")
    if input_type == defaults.FRAME_INPUT:
        result: ExportResult | PrecisionResult = _export_frames(
            loaded, dest, kind, evaluation, reference, size, opset, exporter, batches, io_dtype, calib, keep_fp,
            progress)
    elif precision == "fp32":
        result = export_fp32(loaded, dest, evaluation, size, opset, exporter, batches, reference())
    else:
        fp32_path = dest.parent / artifact_name("fp32")
        _ensure_fp32(loaded, fp32_path, evaluation, size, reference, opset, exporter, batches)
        result = write_precision(
            loaded, fp32_path, dest, precision, evaluation, reference(), io_dtype=io_dtype, int8_target=int8_target,
            calib=calib, keep_fp=keep_fp, batches=batches, progress=progress,
        )
    if weights == defaults.WEIGHTS:
        result.notes.insert(0, chosen.reason)
    return result


def _export_frames(loaded: LoadedModel, dest: Path, kind: str, evaluation: ImageSet, reference: _Reference,
                   size: int, opset: int, exporter: str, batches: Sequence[int] | None, io_dtype: str,
                   calib: CalibrationSettings | None, keep_fp: Sequence[str], progress) -> PrecisionResult:
    """The frame-input graph of ``kind`` at ``dest``, made from its float graph beside it (reused when it matches)."""
    precision, target = kind_precision(kind)
    fp32_path = dest.parent / artifact_name("fp32")
    notes = [] if _matches(fp32_path, loaded, size, opset, "fp32") else [
        f"wrote the FP32 graph every precision is made from, {fp32_path}, first (parity proven)"]
    _ensure_fp32(loaded, fp32_path, evaluation, size, reference, opset, exporter, batches)
    float_path = dest.parent / artifact_name(kind)
    fresh = not _matches(float_path, loaded, size, opset, precision, target if precision == "int8" else None,
                         io_dtype if precision == "fp16" else None)
    if precision != "fp32" and (fresh or keep_fp):
        write_precision(loaded, fp32_path, float_path, precision, evaluation, reference(), io_dtype=io_dtype,
                        int8_target=target, calib=calib, keep_fp=keep_fp, batches=batches, progress=progress)
        notes.append(f"wrote the float graph it is made from, {float_path}, first (parity proven)")
    result = write_frame_input(loaded, float_path, dest, evaluation, reference(), batches)
    result.notes[:0] = notes
    return result


def _matches(path: Path, loaded: LoadedModel, image_size: int, opset: int | None, precision: str,
             int8_target: str | None = None, io_dtype: str | None = None) -> bool:
    """True when ``path`` is a gnet ONNX of these weights, size, opset and precision."""
    if not path.is_file():
        return False
    try:
        import onnx

        model = onnx.load(str(path), load_external_data=False)
        meta = metadata.read(model)
    except Exception:  # noqa: BLE001 - an unreadable file is simply not a match; it will be rewritten
        return False
    return (
        meta.get(metadata.GRAPH_DIGEST) == metadata.graph_digest(model)  # an edited graph is rewritten, never reused
        and meta.get("weights_sha256") == loaded.weights_sha256
        and meta.get("image_size") == image_size
        and (opset is None or meta.get("opset") == opset)
        and meta.get("precision") == precision
        and (int8_target is None or meta.get("int8_target") == int8_target)
        and (io_dtype is None or meta.get("io_dtype", defaults.IO_DTYPES[0]) == io_dtype)
        and meta.get("input_type", defaults.FLOAT_INPUT) == defaults.FLOAT_INPUT  # the float graphs are reused
    )


def prepare_artifacts(
    loaded: LoadedModel,
    out_dir: str | Path,
    image_size: int,
    kinds: Sequence[str] = tuple(ARTIFACT_NAMES),
    calib: CalibrationSettings | None = None,
    progress=None,
    evaluation: ImageSet | None = None,
    reference: np.ndarray | None = None,
) -> dict[str, Path]:
    """The ONNX file of each artifact kind (``fp32``, ``fp16``, ``int8``, ``int8-cpu``) for these weights.

    Files in ``out_dir`` made from the same weights and image size are reused;
    missing or stale ones are exported (each parity-checked as it is written). ``evaluation`` and ``reference``:
    the parity images and PyTorch FP32's logits on them when the caller has them already (the bench), so that a
    run that makes four artifacts computes the reference once; by default the weights' own parity images.
    """
    folder = Path(out_dir)
    unknown = [v for v in kinds if v not in ARTIFACT_NAMES]
    if unknown:
        raise UsageError(f"unknown artifact kind {unknown[0]!r}", remedy=f"use {', '.join(ARTIFACT_NAMES)}")
    if evaluation is None:
        evaluation, reference = parity_images(loaded, None, image_size), None
    lazy = _Reference(loaded, evaluation, reference)
    fp32_path = folder / artifact_name("fp32")
    _ensure_fp32(loaded, fp32_path, evaluation, image_size, lazy)
    paths = {"fp32": fp32_path}
    for kind in kinds:
        if kind == "fp32":
            continue
        precision, target = kind_precision(kind)
        path = folder / artifact_name(kind)
        if not _matches(path, loaded, image_size, None, precision, target if precision == "int8" else None):
            write_precision(loaded, fp32_path, path, precision, evaluation, lazy(),
                            int8_target=target, calib=calib, progress=progress)
        paths[kind] = path
    return paths


