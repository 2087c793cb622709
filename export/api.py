"""The Python API of the export stage; the ``gnet export`` and ``gnet check`` commands are thin shells over it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gnet import defaults
from gnet.defaults import ARTIFACT_NAMES, artifact_name, artifact_kind
from gnet.errors import GnetError, UsageError
from gnet.export import metadata
from gnet.export.calibration import CalibrationSettings
from gnet.export.convert import PrecisionResult, write_precision
from gnet.export.diagnosis import Divergence, diagnose, first_overflow
from gnet.export.hashing import sha256_file
from gnet.export.images import ImageSet, load_images
from gnet.export.onnx_export import ExportResult, check_interface, export_fp32
from gnet.export.ort import cpu_session, load_onnx, run_batched
from gnet.export.parity import ParityReport, check_logits
from gnet.export.weights import torch_logits
from gnet.export.sqnr import LayerNoise, layer_noise, sqnr_db
from gnet.export.weights import LoadedModel, load_weights
from gnet.export.weights_choice import choose_weights

PARITY_IMAGE_LIMIT: int | None = None  # every image of the source (the fixture's held-out split has 540)


def default_image_source(loaded: LoadedModel) -> str | None:
    """Held-out digits for gnet's fixture checkpoints, the packaged photos otherwise."""
    return "digits:eval" if loaded.dataset == "digits" else None


def parity_images(loaded: LoadedModel, source: str | Path | None, image_size: int, limit: int | None = PARITY_IMAGE_LIMIT) -> ImageSet:
    """The images a parity check runs on."""
    return load_images(source if source is not None else default_image_source(loaded), image_size, limit)


class _Reference:
    """PyTorch FP32 logits of the parity images, computed the first time something needs them."""

    def __init__(self, loaded: LoadedModel, images: ImageSet) -> None:
        self._loaded, self._images, self._logits = loaded, images, None

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
) -> ExportResult | PrecisionResult:
    """Export torchvision GoogLeNet with the given weights to a parity-proven ONNX file of ``precision``.

    FP16 and INT8 start from the FP32 ONNX in the same folder (``googlenet_fp32.onnx``),
    reused when it was exported from the same weights, size and opset, else written first.
    """
    chosen = choose_weights(weights, seed=seed, transform_input=transform_input, image_size=image_size)
    loaded = chosen.loaded
    size = image_size or loaded.image_size or defaults.DEFAULT_IMAGE_SIZE
    evaluation = parity_images(loaded, images, size)
    reference = _Reference(loaded, evaluation)
    kind = artifact_kind(precision, int8_target)
    dest = Path(output) if output else defaults.ARTIFACTS_DIR / artifact_name(kind)
    if precision == "fp32":
        result: ExportResult | PrecisionResult = export_fp32(
            loaded, dest, evaluation, size, opset, exporter, batches, reference())
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


def _matches(path: Path, loaded: LoadedModel, image_size: int, opset: int | None, precision: str,
             int8_target: str | None = None) -> bool:
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
    )


def prepare_artifacts(
    loaded: LoadedModel,
    out_dir: str | Path,
    image_size: int,
    kinds: Sequence[str] = tuple(ARTIFACT_NAMES),
    calib: CalibrationSettings | None = None,
    progress=None,
) -> dict[str, Path]:
    """The ONNX file of each artifact kind (``fp32``, ``fp16``, ``int8``, ``int8-cpu``) for these weights.

    Files in ``out_dir`` made from the same weights and image size are reused;
    missing or stale ones are exported (each parity-checked as it is written).
    """
    folder = Path(out_dir)
    unknown = [v for v in kinds if v not in ARTIFACT_NAMES]
    if unknown:
        raise UsageError(f"unknown artifact kind {unknown[0]!r}", remedy=f"use {', '.join(ARTIFACT_NAMES)}")
    evaluation = parity_images(loaded, None, image_size)
    reference = _Reference(loaded, evaluation)
    fp32_path = folder / artifact_name("fp32")
    _ensure_fp32(loaded, fp32_path, evaluation, image_size, reference)
    paths = {"fp32": fp32_path}
    for kind in kinds:
        if kind == "fp32":
            continue
        precision, target = ("int8", "cpu") if kind == "int8-cpu" else (kind, "tensorrt")
        path = folder / artifact_name(kind)
        if not _matches(path, loaded, image_size, None, precision, target if precision == "int8" else None):
            write_precision(loaded, fp32_path, path, precision, evaluation, reference(),
                            int8_target=target, calib=calib, progress=progress)
        paths[kind] = path
    return paths


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


def _ir_parity(model, name: str, meta: dict, loaded: LoadedModel, data: ImageSet, reference,
               batches: Sequence[int] | None) -> tuple[ParityReport, str]:
    """An OpenVINO IR on the CPU against PyTorch's ``reference`` logits (the precision hint forced as the bench
    forces it), and what OpenVINO really ran, in words."""
    from gnet.export.openvino_ir import ir_precision
    from gnet.export.openvino_runtime import compile_cpu, executed, infer_batched, read_back

    precision = judged_precision(ir_precision(model), meta, name)
    compiled = compile_cpu(model, precision, name=name)
    report = check_logits(name, lambda images, batch: infer_batched(compiled, images, batch), reference, data,
                          precision, loaded.weights, batches, trained=loaded.trained,
                          trained_image_size=loaded.image_size)
    return report, executed(read_back(compiled))


def check_ir(xml_path: str | Path, weights: str | None = None, seed: int = 0, images: str | Path | None = None,
             batches: Sequence[int] | None = None) -> CheckResult:
    """``gnet check MODEL.xml``: an OpenVINO IR against PyTorch FP32 with the weights its metadata records."""
    from gnet.export.openvino_ir import check_interface as check_ir_interface
    from gnet.export.openvino_ir import ir_metadata, read_ir
    from gnet.export.openvino_runtime import version

    xml = Path(xml_path)
    if xml.suffix == defaults.IR_WEIGHTS_SUFFIX:
        raise UsageError(f"{xml} holds only an OpenVINO IR's weights", remedy=f"pass {xml.with_suffix(defaults.IR_SUFFIX)}")
    model = read_ir(xml)
    meta = metadata.checked(ir_metadata(model), str(xml))
    loaded, data, reference = parity_inputs(xml, meta, lambda classes, size: check_ir_interface(model, classes, size),
                                            weights, seed, images)
    report, ran = _ir_parity(model, xml.name, meta, loaded, data, reference, batches)
    return CheckResult(parity=report, metadata=meta, loaded=loaded, notes=[f"OpenVINO {version()} ran it as {ran}"])


@dataclass
class OpenVinoResult:
    """What ``export_openvino`` wrote and proved."""

    path: Path
    weights_path: Path
    parity: ParityReport
    metadata: dict
    notes: list[str] = field(default_factory=list)


def export_openvino(onnx_path: str | Path, output: str | Path | None = None, weights: str | None = None, seed: int = 0,
                    images: str | Path | None = None, batches: Sequence[int] | None = None) -> OpenVinoResult:
    """A gnet ONNX file (any precision) → OpenVINO IR (``.xml`` + ``.bin``, beside it unless ``output``), with
    gnet's metadata, written only once the saved files match PyTorch FP32 within the precision's tolerance."""
    from gnet.export.openvino_ir import write_ir
    from gnet.export.openvino_runtime import core, version

    core()  # NotAvailable without OpenVINO, before any work
    source = Path(onnx_path)
    model = load_onnx(source)
    meta = metadata.require_gnet_metadata(model, str(source), "openvino")  # the IR carries gnet's metadata on
    loaded, data, reference = parity_inputs(source, meta, lambda classes, size: check_interface(model, classes, size),
                                            weights, seed, images)
    xml = Path(output) if output else source.with_name(defaults.ir_name(source.name))
    ran: list[str] = []

    def prove(ir_model) -> ParityReport:
        report, executed = _ir_parity(ir_model, xml.name, meta, loaded, data, reference, batches)
        ran.append(executed)
        return report

    report = write_ir(source, xml, prove)
    return OpenVinoResult(path=xml, weights_path=xml.with_suffix(defaults.IR_WEIGHTS_SUFFIX), parity=report,
                          metadata=meta, notes=[f"OpenVINO {version()} ran it as {ran[0]}"])
