"""Precision proof: read the engine inspector's JSON and check the convolutions run at the asked-for precision.

Users repeatedly ask for FP16/INT8 and silently get FP32. Under strong typing the
ONNX graph decides the precision, but a wrongly converted graph, a weakly typed
build or a tactic fallback still ends with FP32 convolutions; this module catches it.

Two layouts are read (both documented by NVIDIA):
- TensorRT 10.x: ``{"Layers": [...], "Bindings": ["input", "logits"]}``
- TensorRT 11.x: ``{"Layers": [...], "I/O Tensors": [{"Name", "IOMode", "DataType", "Dimensions", ...}]}``

Each layer (with ``ProfilingVerbosity.DETAILED``) is an object with ``Name``,
``LayerType`` and ``Inputs``/``Outputs`` lists whose tensors carry ``Format/Datatype``
(e.g. ``"Row major linear FP32 format"``, ``"Channel major FP16 format where channel % 8 == 0"``,
``"Thirty-two wide channel vectorized row major Int8 format"``). Without DETAILED the
layers are bare names and nothing can be proven.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gnet.errors import GnetError, UsageError

# Order matters: "BFloat16" before "Float", "FP8" before "FP", "Int8" before "Int".
_DTYPE_PATTERNS: list[tuple[str, str]] = [
    (r"bfloat16|\bbf16\b", "BF16"),
    (r"fp16|\bhalf\b|float16", "FP16"),
    (r"fp8|e4m3", "FP8"),
    (r"fp4|e2m1", "FP4"),
    (r"uint8", "UINT8"),
    (r"int8", "INT8"),
    (r"int4", "INT4"),
    (r"int32", "INT32"),
    (r"int64", "INT64"),
    (r"\bbool\b", "BOOL"),
    (r"fp32|\bfloat\b|float32|tf32", "FP32"),
]

EXPECTED_CONV_PRECISION = {"fp32": "FP32", "fp16": "FP16", "int8": "INT8"}
"""What every convolution of an engine built from each gnet precision's ONNX must run at."""

_NON_COMPUTE = ("reformat", "shuffle", "cast", "noop", "constant", "copy", "identity")


def dtype_from_format(text: Any) -> str | None:
    """``"Channel major FP16 format ..."`` → ``"FP16"``; unknown or ``"N/A"`` → None."""
    if not isinstance(text, str) or not text.strip() or "n/a" in text.lower():
        return None
    low = text.lower()
    for pattern, name in _DTYPE_PATTERNS:
        if re.search(pattern, low):
            return name
    return None


def _tensor_dtype(tensor: Any) -> str | None:
    if not isinstance(tensor, dict):
        return None
    for key in ("Format/Datatype", "Datatype", "DataType", "Precision"):
        found = dtype_from_format(tensor.get(key))
        if found:
            return found
    return None


@dataclass
class LayerPrecision:
    """One engine layer as the inspector describes it."""

    name: str
    layer_type: str
    input_precision: str | None
    output_precision: str | None
    is_convolution: bool

    @property
    def precision(self) -> str | None:
        """The precision the layer computes in: its first (activation) input's, else its output's."""
        return self.input_precision or self.output_precision


@dataclass
class IOTensor:
    name: str
    mode: str | None = None
    dtype: str | None = None
    dimensions: list[int] | None = None


@dataclass
class EngineLayers:
    """The parsed inspector output."""

    layout: str  # "10.x" (Bindings), "11.x" (I/O Tensors) or "unknown"
    layers: list[LayerPrecision]
    io_tensors: list[IOTensor]
    detailed: bool


_CONV_NODE = re.compile(r"(?:^|/)Conv(?:_\d+)?(?:$|[\s+)\]])")
_FC_NODE = re.compile(r"(?:^|/)(?:Gemm|MatMul)(?:_\d+)?(?:$|[\s+)\]])")


def _is_convolution(layer: dict[str, Any]) -> bool:
    """A layer that computes an ONNX Conv (fused or not); fully connected layers are not convolutions.

    TensorRT keeps the ONNX node names in layer names and in ``Metadata``
    ("[ONNX Layer: /conv1/conv/Conv]"), and may run a Gemm as a 1x1 "CaskGemmConvolution".
    """
    kind = " ".join(str(layer.get(k, "")) for k in ("LayerType", "ParameterType")).lower()
    if any(word in kind for word in _NON_COMPUTE) or "myelin" in kind:
        return False  # a Reformat layer's name mentions the conv it feeds; a Myelin block hides its ops
    origin = f"{layer.get('Name', '')} {layer.get('Metadata', '')}"
    if _CONV_NODE.search(origin):
        return True
    return "convolution" in kind and not _FC_NODE.search(origin)


def _parse_layer(entry: Any, index: int) -> tuple[LayerPrecision, bool]:
    if isinstance(entry, str):  # LAYER_NAMES_ONLY: a bare name, possibly itself a JSON object
        try:
            decoded = json.loads(entry)
        except json.JSONDecodeError:
            decoded = None
        if not isinstance(decoded, dict):
            return LayerPrecision(entry, "", None, None, False), False
        entry = decoded
    if not isinstance(entry, dict):
        return LayerPrecision(f"layer {index}", "", None, None, False), False
    inputs = entry.get("Inputs") if isinstance(entry.get("Inputs"), list) else []
    outputs = entry.get("Outputs") if isinstance(entry.get("Outputs"), list) else []
    in_dtype = next((d for d in (_tensor_dtype(t) for t in inputs[:1]) if d), None)
    out_dtype = next((d for d in (_tensor_dtype(t) for t in outputs) if d), None)
    detailed = bool(inputs or outputs or "LayerType" in entry)
    layer = LayerPrecision(
        name=str(entry.get("Name", f"layer {index}")),
        layer_type=str(entry.get("LayerType", "")),
        input_precision=in_dtype,
        output_precision=out_dtype,
        is_convolution=_is_convolution(entry),
    )
    return layer, detailed


def parse_engine_information(text: str | bytes) -> EngineLayers:
    """Parse ``get_engine_information(LayerInformationFormat.JSON)`` in either the 10.x or the 11.x layout."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
        raise GnetError("the TensorRT engine inspector returned text that is not JSON", str(exc)) from None
    if isinstance(doc, list):
        doc = {"Layers": doc}
    if not isinstance(doc, dict):
        raise GnetError("the TensorRT engine inspector returned JSON without a layer list")
    raw_layers = doc.get("Layers")
    if not isinstance(raw_layers, list):
        raise GnetError("the TensorRT engine inspector returned JSON without a \"Layers\" list")
    parsed = [_parse_layer(entry, i) for i, entry in enumerate(raw_layers)]
    io: list[IOTensor] = []
    layout = "unknown"
    if isinstance(doc.get("I/O Tensors"), list):
        layout = "11.x"
        for t in doc["I/O Tensors"]:
            if isinstance(t, dict):
                dims = t.get("Dimensions")
                io.append(IOTensor(str(t.get("Name", "")), t.get("IOMode"), dtype_from_format(t.get("DataType")),
                                   list(dims) if isinstance(dims, list) else None))
    elif isinstance(doc.get("Bindings"), list):
        layout = "10.x"
        io = [IOTensor(str(name)) for name in doc["Bindings"]]
    return EngineLayers(layout, [p[0] for p in parsed], io, any(p[1] for p in parsed))


def inspect_engine(trt: Any, engine: Any) -> EngineLayers:
    """Ask a deserialized engine's inspector for its layers (the engine must be built with DETAILED verbosity)."""
    inspector = engine.create_engine_inspector()
    if inspector is None:
        raise GnetError("TensorRT could not create an engine inspector for the built engine")
    text = inspector.get_engine_information(trt.LayerInformationFormat.JSON)
    return parse_engine_information(text)


class Verdict:
    """``proven`` and ``passed`` from a proof's ``problem``, ``offenders`` and ``allow_mixed`` (both proofs share it)."""

    problem: str | None
    offenders: list[Any]
    allow_mixed: bool

    @property
    def proven(self) -> bool:
        """Every convolution is at the expected precision."""
        return self.problem is None and not self.offenders

    @property
    def passed(self) -> bool:
        return self.proven or self.allow_mixed


@dataclass
class PrecisionReport(Verdict):
    """Per-layer precisions of one engine and the verdict for the requested precision."""

    requested: str
    expected: str
    layout: str
    layers: list[LayerPrecision]
    convolution_precisions: dict[str, int] = field(default_factory=dict)
    layer_precisions: dict[str, int] = field(default_factory=dict)
    offenders: list[LayerPrecision] = field(default_factory=list)
    problem: str | None = None  # why the proof could not be made at all
    allow_mixed: bool = False

    def summary(self) -> str:
        convs = ", ".join(f"{n} {p}" for p, n in sorted(self.convolution_precisions.items())) or "none found"
        return f"{sum(self.convolution_precisions.values())} convolutions ({convs}) of {len(self.layers)} layers"

    def shortfall(self, plan_name: str) -> str:
        """What is wrong with the engine's precision, as a clause (empty when proven)."""
        if self.problem:
            return f"cannot prove {plan_name} runs at {self.expected}: {self.problem}"
        if not self.offenders:
            return ""
        names = ", ".join(repr(layer.name) for layer in self.offenders[:3])
        more = f" and {len(self.offenders) - 3} more" if len(self.offenders) > 3 else ""
        got = Counter(layer.precision or "unknown" for layer in self.offenders)
        got_text = ", ".join(f"{n} in {p}" for p, n in sorted(got.items()))
        return (f"{plan_name} was asked for {self.requested} but {len(self.offenders)} of "
                f"{sum(self.convolution_precisions.values())} convolutions run otherwise ({got_text}: {names}{more})")

    def failure(self, plan_name: str) -> GnetError:
        """The error a refused build raises."""
        return GnetError(self.shortfall(plan_name), remedy="nothing was written; pass --allow-mixed to keep such an engine")

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "expected_convolution_precision": self.expected,
            "inspector_layout": self.layout,
            "layers": len(self.layers),
            "layer_precisions": dict(sorted(self.layer_precisions.items())),
            "convolution_precisions": dict(sorted(self.convolution_precisions.items())),
            "offending_layers": [layer.name for layer in self.offenders],
            "proven": self.proven,
            "allow_mixed": self.allow_mixed,
            **({"problem": self.problem} if self.problem else {}),
        }


def judge(info: EngineLayers, requested: str, allow_mixed: bool = False) -> PrecisionReport:
    """Check every convolution runs at the precision ``requested`` (fp32, fp16 or int8) implies."""
    if requested not in EXPECTED_CONV_PRECISION:
        raise UsageError(f"unknown precision {requested!r}", remedy=f"use one of {', '.join(EXPECTED_CONV_PRECISION)}")
    expected = EXPECTED_CONV_PRECISION[requested]
    report = PrecisionReport(requested, expected, info.layout, info.layers, allow_mixed=allow_mixed)
    report.layer_precisions = dict(Counter(layer.precision or "unknown" for layer in info.layers))
    convs = [layer for layer in info.layers if layer.is_convolution]
    report.convolution_precisions = dict(Counter(layer.precision or "unknown" for layer in convs))
    if not info.detailed:
        report.problem = "the inspector lists layer names only (the engine was not built with ProfilingVerbosity.DETAILED)"
    elif not convs:
        report.problem = "the inspector shows no convolution layer"
    elif all(layer.precision is None for layer in convs):
        report.problem = "the inspector gives no data type for any convolution"
    else:
        report.offenders = [layer for layer in convs if layer.precision != expected]
    return report
