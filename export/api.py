"""The Python API of the export stage; the ``gnet export`` and ``gnet check`` commands are thin shells over it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gnet.errors import GnetError
from gnet.export import metadata
from gnet.export.images import ImageSet, load_images
from gnet.export.onnx_export import DEFAULT_OPSET, ExportResult, check_interface, export_fp32
from gnet.export.ort import load_onnx
from gnet.export.parity import ParityReport, check_onnx
from gnet.export.reference import torch_logits
from gnet.export.weights import LoadedModel, load_weights

DEFAULT_OUTPUT_DIR = Path("artifacts")
PARITY_IMAGE_LIMIT = 64


def artifact_name(precision: str) -> str:
    """The file name DESIGN.md gives each precision's ONNX."""
    return {"fp32": "googlenet_fp32.onnx", "fp16": "googlenet_fp16.onnx", "int8": "googlenet_int8.qdq.onnx"}[precision]


def default_image_source(loaded: LoadedModel) -> str | None:
    """Held-out digits for gnet's fixture checkpoints, the packaged photos otherwise."""
    return "digits:eval" if loaded.dataset == "digits" else None


def parity_images(loaded: LoadedModel, source: str | Path | None, image_size: int, limit: int = PARITY_IMAGE_LIMIT) -> ImageSet:
    """The images a parity check runs on."""
    return load_images(source if source is not None else default_image_source(loaded), image_size, limit)


def export_model(
    weights: str = "imagenet",
    output: str | Path | None = None,
    seed: int = 0,
    image_size: int | None = None,
    opset: int = DEFAULT_OPSET,
    images: str | Path | None = None,
    exporter: str = "torchscript",
    transform_input: bool | None = None,
    batches: Sequence[int] | None = None,
) -> ExportResult:
    """Export torchvision GoogLeNet with the given weights to a parity-proven FP32 ONNX file."""
    loaded = load_weights(weights, seed=seed, transform_input=transform_input)
    size = image_size or loaded.image_size or 224
    dest = Path(output) if output else DEFAULT_OUTPUT_DIR / artifact_name("fp32")
    return export_fp32(loaded, dest, parity_images(loaded, images, size), size, opset, exporter, batches)


@dataclass
class CheckResult:
    """What ``check_model`` found."""

    parity: ParityReport
    metadata: dict
    loaded: LoadedModel


def check_model(
    onnx_path: str | Path,
    weights: str | None = None,
    seed: int = 0,
    images: str | Path | None = None,
    batches: Sequence[int] | None = None,
) -> CheckResult:
    """Re-run the parity check of an existing ONNX against PyTorch FP32 with the weights it came from."""
    model = load_onnx(onnx_path)
    meta = metadata.read(model)
    spec = weights or meta.get("weights_spec")
    if not spec:
        raise GnetError(f"{onnx_path} records no weights (it was not written by gnet); pass --weights")
    loaded = load_weights(spec, seed=seed, transform_input=meta.get("transform_input_folded"))
    recorded = meta.get("weights_sha256")
    if recorded and recorded != loaded.weights_sha256:
        raise GnetError(
            f"{onnx_path} was exported from weights with SHA-256 {recorded[:12]}…, "
            f"but {loaded.weights} has {loaded.weights_sha256[:12]}…"
        )
    size = int(meta.get("image_size") or loaded.image_size or 224)
    check_interface(model, loaded.num_classes, size)
    data = parity_images(loaded, images, size)
    reference = torch_logits(loaded.model, data.data)
    precision = str(meta.get("precision", "fp32"))
    report = check_onnx(onnx_path, reference, data, precision, loaded.weights, batches)
    return CheckResult(parity=report, metadata=meta, loaded=loaded)
