"""OpenVINO IR (``.xml`` + ``.bin``) from a gnet ONNX file: written as a pair, with gnet's metadata, only once
its parity is proven; and read back with one sentence for a bad file.

What OpenVINO does on its own, and what gnet adds:

* ``Core.read_model(onnx)`` carries the ONNX ``metadata_props`` into the model's rt_info under
  ``["framework", "gnet.<key>"]`` and ``save_model`` writes them out, so even an IR someone made with
  ``ovc`` from a gnet ONNX keeps the weights, precision and preprocessing. gnet also writes its own
  section, ``["gnet", <key>]`` (``<rt_info><gnet>`` in the .xml): the ONNX's keys plus ``format``,
  ``source_onnx``, ``source_onnx_sha256`` and ``openvino_version``; readers look there first.
* ``save_model`` rounds FP32 weights to FP16 by default (``compress_to_fp16=True``: half the file, every
  weight rounded). An FP32 artifact must not silently do that, so gnet passes ``compress_to_fp16=False``.
* The .xml does not name its .bin: OpenVINO reads the .bin of the same stem beside it. The pair is
  written into a staging folder beside the destination (:func:`gnet.atomic.atomic_files`), read back
  and proven there, then moved into place (.bin first, then .xml), so a failed run leaves no file and
  the previous pair intact.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gnet.atomic import atomic_files
from gnet.checks.parity import ParityError, ParityReport
from gnet.defaults import FLOAT_INPUT, INPUT_NAME, IR_SUFFIX, IR_WEIGHTS_SUFFIX, OUTPUT_NAME, image_dims
from gnet.errors import GnetError, UsageError
from gnet.export import metadata
from gnet.export.hashing import sha256_file
from gnet.openvino_ir.runtime import core, reason, version

SECTION = "gnet"
ONNX_SECTION = "framework"  # where read_model puts an ONNX file's metadata_props
FORMAT = "openvino-ir"


def _section(model: Any, section: str, prefix: str = "") -> dict[str, str]:
    """The string values of one rt_info section whose keys start with ``prefix`` (prefix removed)."""
    if not model.has_rt_info([section]):
        return {}
    keys = model.get_rt_info([section]).astype(dict)
    return {key[len(prefix):]: model.get_rt_info([section, key]).astype(str) for key in keys if key.startswith(prefix)}


def ir_metadata(model: Any) -> dict[str, Any]:
    """gnet's metadata of an IR (JSON-decoded like an ONNX's): its ``gnet`` section, else what its source ONNX
    carried into the ``framework`` section (an IR made by ``ovc`` or a plain ``save_model``)."""
    return metadata.decode(_section(model, SECTION) or _section(model, ONNX_SECTION, metadata.PREFIX))


def read_ir(xml_path: str | Path) -> Any:
    """An IR as an ``openvino.Model``; a missing, foreign or truncated file raises one sentence."""
    xml = Path(xml_path)
    weights = xml.with_suffix(IR_WEIGHTS_SUFFIX)
    what = f"cannot read the OpenVINO IR {xml}"
    if not xml.is_file():
        raise GnetError(what, "no such file")
    try:
        with open(xml, "rb") as handle:
            head = handle.read(256).lstrip()
    except OSError as exc:
        raise GnetError(what, str(exc.strerror or exc)) from None
    if not head.startswith((b"<?xml", b"<net")):  # else OpenVINO tries every frontend, and TensorFlow's logs to stderr
        raise GnetError(what, "it is not an OpenVINO IR (no XML header)", f"pass the {IR_SUFFIX} file `gnet openvino` wrote")
    if not weights.is_file() or weights.stat().st_size == 0:
        raise GnetError(what, f"its weights file {weights.name} is missing or empty",
                        f"keep the {IR_WEIGHTS_SUFFIX} written beside the {IR_SUFFIX}")
    try:
        return core().read_model(str(xml))
    except RuntimeError as exc:  # a truncated .xml or .bin: OpenVINO's last line says which
        raise GnetError(what, reason(exc), "write it again with gnet openvino") from None


def check_interface(model: Any, num_classes: int, image_size: int) -> None:
    """The graph's contract, as for the ONNX: ``input [batch, 3, S, S]`` in, ``logits [batch, classes]`` out."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise GnetError("the IR must have one input and one output",
                        f"it has {len(model.inputs)} inputs and {len(model.outputs)} outputs")
    input_type = ir_metadata(model).get("input_type", FLOAT_INPUT)
    wanted = {INPUT_NAME: image_dims(image_size, input_type), OUTPUT_NAME: [num_classes]}
    for port in (model.input(0), model.output(0)):
        name = port.get_any_name()
        if name not in wanted:
            raise GnetError(f"the IR's {name!r} is not gnet's", f"gnet's graphs take {INPUT_NAME!r} and give {OUTPUT_NAME!r}")
        dims = [d.get_length() if d.is_static else -1 for d in port.get_partial_shape()][1:]
        if dims != wanted[name]:
            raise GnetError(f"the IR's {name!r} has shape [batch, {', '.join(map(str, dims))}]",
                            f"its metadata says [batch, {', '.join(map(str, wanted[name]))}]")


def write_ir(onnx_path: str | Path, xml_path: str | Path, prove: Callable[[Any], ParityReport]) -> ParityReport:
    """Convert a gnet ONNX file to the IR pair at ``xml_path`` (and its .bin), if ``prove`` passes on the files
    as written and read back; else raise :class:`~gnet.checks.parity.ParityError` and write nothing."""
    source, xml = Path(onnx_path), Path(xml_path)
    if xml.suffix != IR_SUFFIX:
        raise UsageError(f"cannot write an OpenVINO IR to {xml.name}", f"its name must end in {IR_SUFFIX}",
                         f"name it MODEL{IR_SUFFIX} (the weights go to MODEL{IR_WEIGHTS_SUFFIX} beside it)")
    engine = core()  # first: NotAvailable without OpenVINO
    import openvino as ov

    try:
        model = engine.read_model(str(source))
    except RuntimeError as exc:
        raise GnetError(f"OpenVINO cannot read {source.name}", reason(exc)) from None
    values = _section(model, ONNX_SECTION, metadata.PREFIX)
    values.pop(metadata.GRAPH_DIGEST, None)  # the ONNX graph's digest, not the IR's: source_onnx_sha256 names the source
    values.update(format=FORMAT, source_onnx=source.name, source_onnx_sha256=sha256_file(source),
                  openvino_version=str(version()))
    for key, value in values.items():
        model.set_rt_info(value, [SECTION, key])
    with atomic_files(xml.with_suffix(IR_WEIGHTS_SUFFIX), xml) as (_, staged):
        ov.save_model(model, str(staged), compress_to_fp16=False)  # writes staged's .bin beside it
        report = prove(read_ir(staged))
        report.artifact = xml.name
        if not report.passed:
            raise ParityError(report, "nothing was written")
    return report


def ir_precision(model: Any) -> str:
    """The precision an IR's graph encodes (what its tolerance follows, never its rt_info): FakeQuantize or 8-bit
    constants (OpenVINO's forms of Q/DQ) → int8, FP16 constants → fp16, else fp32."""
    ops = model.get_ordered_ops()
    constants = {op.get_output_element_type(0).get_type_name() for op in ops if op.get_type_name() == "Constant"}
    if any(op.get_type_name() == "FakeQuantize" for op in ops) or constants & {"i8", "u8"}:
        return "int8"
    return "fp16" if "f16" in constants else "fp32"
