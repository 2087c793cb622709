"""``gnet check``: an ONNX file or OpenVINO IR that exists, proven again against PyTorch FP32 with the weights it
records, the layer that broke it named when it fails."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gnet import defaults
from gnet.checks.diagnosis import Divergence, diagnose, first_overflow
from gnet.checks.images import ImageSet, parity_images
from gnet.checks.ort import cpu_session, load_onnx, run_batched
from gnet.checks.parity import ParityReport, check_logits
from gnet.checks.sqnr import LayerNoise, layer_noise, sqnr_db
from gnet.defaults import artifact_name
from gnet.errors import GnetError, UsageError
from gnet.export import metadata
from gnet.export.hashing import sha256_file
from gnet.export.onnx_export import check_interface
from gnet.export.weights import LoadedModel, load_weights, torch_logits


@dataclass
class CheckResult:
    """What ``check_model`` found."""

    parity: ParityReport
    metadata: dict
    loaded: LoadedModel
    layer_noise: list[LayerNoise] | None = None  # Q/DQ models: SQNR per quantized layer, lowest first
    fp32_reference: Path | None = None  # the FP32 ONNX the accumulated noise was measured against
    logits_sqnr_db: float | None = None  # the logits against PyTorch FP32's, end to end (None when not finite)
    divergence: Divergence | None = None  # a failing ONNX: the first layer that left the FP32 graph
    overflow: Divergence | None = None  # an FP16 ONNX: the first tensor that leaves FP16's range
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.parity.passed and self.overflow is None


def is_qdq(model) -> bool:
    """True when the graph holds QuantizeLinear nodes."""
    return any(n.op_type == "QuantizeLinear" for n in model.graph.node)


def find_source_fp32(qdq_path: Path, meta: dict) -> Path | None:
    """The FP32 ONNX a Q/DQ model was made from, if it lies beside it unchanged."""
    candidate = qdq_path.parent / artifact_name("fp32")
    wanted = meta.get("source_onnx_sha256")
    if candidate.is_file() and wanted and sha256_file(candidate) == wanted:
        return candidate
    return None


def judged_precision(graph: str, meta: dict, where: str | Path) -> str:
    """The precision a check judges by: the one the graph encodes. Metadata that claims another is refused, so an
    edited ``gnet.precision`` can never loosen the tolerance (an FP32 graph judged by INT8's bounds)."""
    claimed = meta.get("precision")
    if claimed is not None and claimed != graph:
        raise GnetError(f"{where} says it is {claimed} but its graph is {graph}",
                        "its gnet.precision metadata was edited or belongs to another file",
                        "re-export it with gnet export")
    return graph


def parity_inputs(name: str | Path, meta: dict, check: Callable[[int, int], None], weights: str | None = None,
                  seed: int = 0, images: str | Path | None = None) -> tuple[LoadedModel, ImageSet, np.ndarray]:
    """What re-proving an artifact needs: the weights it records (or ``weights``), refused when they are not
    the ones it was made from; its interface checked by ``check(num_classes, image_size)``; the parity images,
    and PyTorch FP32's logits on them."""
    spec = weights or meta.get("weights_spec")
    if not spec:
        raise GnetError(f"{name} records no weights", "it was not written by gnet", "pass --weights")
    loaded = load_weights(spec, seed=seed, transform_input=meta.get("transform_input_folded"))
    recorded = meta.get("weights_sha256")
    if recorded and recorded != loaded.weights_sha256:
        raise GnetError(f"{name} was exported from other weights",
                        f"they had SHA-256 {recorded[:12]}…, but {loaded.weights} has {loaded.weights_sha256[:12]}…")
    size = int(meta.get("image_size") or loaded.image_size or defaults.DEFAULT_IMAGE_SIZE)
    check(loaded.num_classes, size)
    data = parity_images(loaded, images, size)
    return loaded, data, torch_logits(loaded.model, data.data)


def check_model(
    onnx_path: str | Path,
    weights: str | None = None,
    seed: int = 0,
    images: str | Path | None = None,
    batches: Sequence[int] | None = None,
    image_size: int | None = None,
) -> CheckResult:
    """Re-run the parity check of an existing ONNX (or OpenVINO IR) against PyTorch FP32 with the weights it came from.

    An ONNX without gnet's metadata needs ``weights`` and ``image_size`` (or a static input size): see
    :func:`gnet.export.metadata.require_gnet_metadata`."""
    if Path(onnx_path).suffix in (defaults.IR_SUFFIX, defaults.IR_WEIGHTS_SUFFIX):
        if image_size is not None:  # an IR records its size; an option that cannot apply is refused, not ignored
            raise UsageError("--image-size is for an ONNX without gnet's metadata", "an OpenVINO IR records its own",
                             "leave --image-size out")
        return check_ir(onnx_path, weights, seed, images, batches)
    model = load_onnx(onnx_path)
    where = str(onnx_path)
    meta = metadata.require_gnet_metadata(model, where, "check", {"weights": weights, "image_size": image_size})
    if meta.get("foreign"):  # another exporter's names and layout: only the shapes are gnet's contract
        def interface(classes: int, size: int) -> None:
            metadata.match_graph(model, where, size, classes)
    else:
        def interface(classes: int, size: int) -> None:
            check_interface(model, classes, size)
    loaded, data, reference = parity_inputs(onnx_path, meta, interface, weights, seed, images)
    precision = judged_precision(metadata.graph_precision(model, str(onnx_path))["precision"], meta, onnx_path)
    session, logits = cpu_session(onnx_path), {}

    def run(images: np.ndarray, batch: int) -> np.ndarray:
        logits[batch] = run_batched(session, images, batch)
        return logits[batch]

    report = check_logits(Path(onnx_path).name, run, reference, data, precision, loaded.weights, batches,
                          trained=loaded.trained, trained_image_size=loaded.image_size)
    fp32 = find_source_fp32(Path(onnx_path), meta) if precision != "fp32" else None
    noise = _layer_noise(onnx_path, data, fp32) if is_qdq(model) else None
    overflow = first_overflow(onnx_path, data) if precision == "fp16" else None
    divergence = overflow
    if not report.passed and divergence is None:
        divergence = diagnose(onnx_path, fp32, data, noise)
    return CheckResult(parity=report, metadata=meta, loaded=loaded, layer_noise=noise, fp32_reference=fp32,
                       logits_sqnr_db=_finite_sqnr(reference, logits[max(logits)]), overflow=overflow,
                       divergence=divergence)


def _layer_noise(onnx_path: str | Path, data: ImageSet, fp32: Path | None) -> list[LayerNoise] | None:
    """The SQNR table, or None when a tensor is not finite (the diagnosis then names the first such tensor)."""
    try:
        return layer_noise(onnx_path, data, fp32)
    except GnetError:
        return None


def _finite_sqnr(reference: np.ndarray, logits: np.ndarray) -> float | None:
    return sqnr_db(reference, logits) if np.isfinite(logits).all() else None


def ir_parity(model, name: str, meta: dict, loaded: LoadedModel, data: ImageSet, reference,
               batches: Sequence[int] | None) -> tuple[ParityReport, str]:
    """An OpenVINO IR on the CPU against PyTorch's ``reference`` logits (the precision hint forced as the bench
    forces it), and what OpenVINO really ran, in words."""
    from gnet.openvino_ir.ir import ir_precision
    from gnet.openvino_ir.runtime import compile_cpu, executed, infer_batched, read_back

    precision = judged_precision(ir_precision(model), meta, name)
    compiled = compile_cpu(model, precision, name=name)
    report = check_logits(name, lambda images, batch: infer_batched(compiled, images, batch), reference, data,
                          precision, loaded.weights, batches, trained=loaded.trained,
                          trained_image_size=loaded.image_size)
    return report, executed(read_back(compiled))


def check_ir(xml_path: str | Path, weights: str | None = None, seed: int = 0, images: str | Path | None = None,
             batches: Sequence[int] | None = None) -> CheckResult:
    """``gnet check MODEL.xml``: an OpenVINO IR against PyTorch FP32 with the weights its metadata records."""
    from gnet.openvino_ir.ir import check_interface as check_ir_interface
    from gnet.openvino_ir.ir import ir_metadata, read_ir
    from gnet.openvino_ir.runtime import version

    xml = Path(xml_path)
    if xml.suffix == defaults.IR_WEIGHTS_SUFFIX:
        raise UsageError(f"{xml} holds only an OpenVINO IR's weights", remedy=f"pass {xml.with_suffix(defaults.IR_SUFFIX)}")
    model = read_ir(xml)
    meta = metadata.checked(ir_metadata(model), str(xml))
    loaded, data, reference = parity_inputs(xml, meta, lambda classes, size: check_ir_interface(model, classes, size),
                                            weights, seed, images)
    report, ran = ir_parity(model, xml.name, meta, loaded, data, reference, batches)
    return CheckResult(parity=report, metadata=meta, loaded=loaded, notes=[f"OpenVINO {version()} ran it as {ran}"])
