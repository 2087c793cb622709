"""``gnet openvino``: a gnet ONNX file → OpenVINO IR with gnet's metadata, written only once it is proven."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gnet import defaults
from gnet.checks.check import ir_parity, parity_inputs
from gnet.checks.ort import load_onnx
from gnet.checks.parity import ParityReport
from gnet.export import metadata
from gnet.export.onnx_export import check_interface


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
    from gnet.openvino_ir.ir import write_ir
    from gnet.openvino_ir.runtime import core, version

    core()  # NotAvailable without OpenVINO, before any work
    source = Path(onnx_path)
    model = load_onnx(source)
    meta = metadata.require_gnet_metadata(model, str(source), "openvino")  # the IR carries gnet's metadata on
    loaded, data, reference = parity_inputs(source, meta, lambda classes, size: check_interface(model, classes, size),
                                            weights, seed, images)
    xml = Path(output) if output else source.with_name(defaults.ir_name(source.name))
    ran: list[str] = []

    def prove(ir_model) -> ParityReport:
        report, executed = ir_parity(ir_model, xml.name, meta, loaded, data, reference, batches)
        ran.append(executed)
        return report

    report = write_ir(source, xml, prove)
    return OpenVinoResult(path=xml, weights_path=xml.with_suffix(defaults.IR_WEIGHTS_SUFFIX), parity=report,
                          metadata=meta, notes=[f"OpenVINO {version()} ran it as {ran[0]}"])
