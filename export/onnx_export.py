"""PyTorch GoogLeNet → a checked, simplified, parity-proven FP32 ONNX file."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxslim
import torch
import torchvision

import gnet
from gnet.atomic import atomic_output, ensure_writable_dir, scratch_dir
from gnet.checks.images import ImageSet, Preprocessing
from gnet.checks.parity import ParityError, ParityReport, check_onnx
from gnet.defaults import (
    BATCH_DIM,
    DEFAULT_IMAGE_SIZE,
    DEFAULT_OPSET,
    EXPORTERS,
    FLOAT_INPUT,
    INPUT_NAME,
    OUTPUT_NAME,
    image_dims,
)
from gnet.errors import GnetError, UsageError
from gnet.export import metadata
from gnet.export.folding import deployable
from gnet.export.weights import LoadedModel, torch_logits

DYNAMO_MIN_OPSET = 18


@dataclass
class ExportResult:
    """What ``export_fp32`` wrote and proved."""

    path: Path
    parity: ParityReport
    metadata: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _torch_export(model: torch.nn.Module, image_size: int, opset: int, exporter: str, dest: Path) -> None:
    example = torch.zeros(2, 3, image_size, image_size)
    kwargs: dict[str, Any] = dict(input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], opset_version=opset)
    if exporter == "dynamo":
        if opset < DYNAMO_MIN_OPSET:
            raise UsageError(f"the dynamo exporter writes opset {DYNAMO_MIN_OPSET} or newer",
                             remedy=f"pass --opset {DYNAMO_MIN_OPSET} or use --exporter torchscript")
        kwargs.update(dynamo=True, external_data=False, dynamic_shapes=({0: torch.export.Dim(BATCH_DIM)},))
    else:
        kwargs.update(dynamo=False, do_constant_folding=True,
                      dynamic_axes={INPUT_NAME: {0: BATCH_DIM}, OUTPUT_NAME: {0: BATCH_DIM}})
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(dest), **kwargs)


def _check_and_simplify(path: Path) -> onnx.ModelProto:
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    with contextlib.redirect_stdout(io.StringIO()):
        model = onnxslim.slim(model)
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    onnx.checker.check_model(model, full_check=True)
    return model


def check_interface(model: onnx.ModelProto, num_classes: int, image_size: int | None = None) -> None:
    """Assert the graph's contract: one input ``input`` (float NCHW, or uint8 NHWC where its metadata's input type
    says so), one output ``logits [batch, classes]``, no aux heads."""
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    outputs = list(model.graph.output)
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
        raise GnetError(f"the graph must have one input named {INPUT_NAME!r}", f"it has {[i.name for i in inputs]}")
    if len(outputs) != 1 or outputs[0].name != OUTPUT_NAME:
        raise GnetError(f"the graph must have one output named {OUTPUT_NAME!r}", f"it has {[o.name for o in outputs]}")
    out_dims = outputs[0].type.tensor_type.shape.dim
    if len(out_dims) != 2 or out_dims[1].dim_value != num_classes:
        raise GnetError(f"the output {OUTPUT_NAME!r} must be [batch, {num_classes}]")
    in_dims = inputs[0].type.tensor_type.shape.dim
    wanted = image_dims(image_size, metadata.read(model).get("input_type", FLOAT_INPUT)) if image_size else None
    if wanted is not None and [d.dim_value for d in in_dims[1:]] != wanted:
        raise GnetError(f"the input {INPUT_NAME!r} must be [batch, {', '.join(map(str, wanted))}]")
    aux = [n.name for n in model.graph.node if "aux1" in n.name or "aux2" in n.name]
    if aux:
        raise GnetError(f"the exported graph still holds auxiliary-head nodes, e.g. {aux[0]}")


def export_metadata(loaded: LoadedModel, image_size: int, opset: int, precision: str = "fp32") -> dict[str, Any]:
    """The ``gnet.*`` metadata an FP32 export records."""
    return {
        "version": gnet.__version__,
        "precision": precision,
        "weights": loaded.weights,
        "weights_spec": loaded.spec,
        "weights_sha256": loaded.weights_sha256,
        "num_classes": loaded.num_classes,
        "image_size": image_size,
        "opset": opset,
        "transform_input_folded": loaded.transform_input,
        "batchnorm_folded": True,
        "preprocessing": Preprocessing.for_size(image_size).to_dict(),
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "class_names": loaded.class_names or [],
        **({"dataset": loaded.dataset} if loaded.dataset else {}),
    }


def export_fp32(
    loaded: LoadedModel,
    output: str | Path,
    images: ImageSet,
    image_size: int = DEFAULT_IMAGE_SIZE,
    opset: int = DEFAULT_OPSET,
    exporter: str = "torchscript",
    batches: Sequence[int] | None = None,
    reference: np.ndarray | None = None,
) -> ExportResult:
    """Export, check, simplify, stamp and prove one FP32 ONNX; nothing is written unless parity holds.

    ``reference``: PyTorch FP32 logits of ``images`` when the caller already has them.
    """
    if exporter not in EXPORTERS:
        raise UsageError(f"unknown exporter {exporter!r}", remedy=f"use one of {', '.join(EXPORTERS)}")
    if images.data.shape[-1] != image_size:
        raise UsageError(f"the parity images are {images.data.shape[-1]} px but the export is {image_size} px")
    dest = Path(output)
    ensure_writable_dir(dest)
    folded = deployable(loaded.model, image_size, loaded.weights)
    with scratch_dir("export") as tmp:
        raw = Path(tmp) / "raw.onnx"
        _torch_export(folded, image_size, opset, exporter, raw)
        model = _check_and_simplify(raw)
    check_interface(model, loaded.num_classes, image_size)
    meta = export_metadata(loaded, image_size, opset)
    meta = metadata.stamp(model, meta)
    if reference is None:
        reference = torch_logits(loaded.model, images.data)
    with atomic_output(dest) as tmp_path:
        onnx.save(model, str(tmp_path))
        report = check_onnx(tmp_path, reference, images, "fp32", loaded.weights, batches,
                            trained_image_size=loaded.image_size)
        report.artifact = dest.name
        if not report.passed:
            raise ParityError(report, "nothing was written")
    return ExportResult(path=dest, parity=report, metadata=meta)
