"""Network-level precision proof: walk the parsed ``INetworkDefinition`` and prove every convolution's types.

It needs no GPU and runs before ``build_serialized_network``, so a graph of the wrong precision is
refused without building. Under strong typing the parsed network's tensor types are the contract the
builder must honour:

* FP32 graph: every convolution reads a FLOAT activation and has FLOAT weights;
* FP16 graph: every convolution reads a HALF activation and has HALF weights;
* INT8 graph (explicit Q/DQ, gnet's TensorRT format): every convolution's activation is the output of a
  Dequantize layer of an INT8 tensor with one scale (per tensor), and its weight the output of a
  Dequantize layer of INT8 data with one scale per output channel on axis 0. TensorRT fuses
  DQ → Conv ← DQ into an INT8 convolution.

What this proves is what the graph asks the builder for; which kernel runs is chosen where the plan is
built (data-centre TensorRT) or loaded (TensorRT-RTX compiles on the GPU), and only the engine inspector
(``precision_proof.py``) shows that. The manifest says which proofs ran. Only names present in TensorRT
10.x, 11.x and TensorRT-RTX are used (``tests/engines/test_trt_names.py`` checks).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gnet.engines.precision_proof import EXPECTED_CONV_PRECISION, Verdict

NETWORK_INPUT = "network input"
_HOW = {"INT8": "each fed by Dequantize of INT8: per-tensor activation, per-channel weight scales",
        "FP16": "HALF activations and weights", "FP32": "FLOAT activations and weights"}


def _name(value: Any) -> str:
    """``DataType.HALF`` → ``"HALF"``, ``LayerType.CONVOLUTION`` → ``"CONVOLUTION"``; numpy ``float16`` → ``"HALF"``."""
    text = str(value).rsplit(".", 1)[-1].upper()
    return {"FLOAT32": "FLOAT", "FLOAT16": "HALF"}.get(text, text)


@dataclass(frozen=True)
class Dequantized:
    """A tensor made by a Dequantize layer: the type of what it dequantizes and its scale's layout."""

    data_dtype: str
    scale_shape: tuple[int, ...]
    axis: int

    @property
    def per_tensor(self) -> bool:
        return len(self.scale_shape) == 0 or self.scale_shape == (1,)


@dataclass(frozen=True)
class ConvFacts:
    """What the parsed network says about one convolution."""

    name: str
    output_maps: int
    input_dtype: str
    input_from: str  # the producing layer's type, or "network input"
    weight_dtype: str
    weight_from: str  # "weights" (a static kernel) or the producing layer's type
    input_dq: Dequantized | None = None
    weight_dq: Dequantized | None = None

    @property
    def precision(self) -> str:
        """FP32, FP16 or INT8 when the facts agree; otherwise a short description of the mix."""
        if self.input_dq is not None and self.weight_dq is not None:
            kinds = {self.input_dq.data_dtype, self.weight_dq.data_dtype}
            return "INT8" if kinds == {"INT8"} else "x".join(sorted(kinds))
        if self.input_dq is not None or self.weight_dq is not None:
            return f"MIXED ({'activation' if self.input_dq is not None else 'weight'} only quantized)"
        if self.input_dtype == self.weight_dtype:
            return {"FLOAT": "FP32", "HALF": "FP16"}.get(self.input_dtype, self.input_dtype)
        return f"MIXED ({self.input_dtype} x {self.weight_dtype})"

    def problems(self, expected: str) -> list[str]:
        """Why this convolution is not ``expected`` (empty when it is)."""
        if expected != "INT8":
            if self.precision == expected:
                return []
            return [f"activation {self.input_dtype} from {self.input_from}, weight {self.weight_dtype} from {self.weight_from}"]
        out: list[str] = []
        act, weight = self.input_dq, self.weight_dq
        if act is None:
            out.append(f"activation is {self.input_dtype} from {self.input_from}, not dequantized INT8")
        elif act.data_dtype != "INT8":
            out.append(f"activation dequantizes {act.data_dtype}, not INT8")
        elif not act.per_tensor:
            out.append(f"activation scale has shape {list(act.scale_shape)}, not one scale")
        if weight is None:
            out.append(f"weight is {self.weight_dtype} from {self.weight_from}, not dequantized INT8")
        elif weight.data_dtype != "INT8":
            out.append(f"weight dequantizes {weight.data_dtype}, not INT8")
        elif weight.scale_shape != (self.output_maps,) or weight.axis != 0:
            out.append(f"weight scale has shape {list(weight.scale_shape)} on axis {weight.axis}, "
                       f"not one per output channel ({self.output_maps}) on axis 0")
        return out


class _Walker:
    """The layers of one parsed network, indexed by the tensors they produce."""

    def __init__(self, trt: Any, network: Any) -> None:
        self.trt = trt
        self.layers = [network.get_layer(i) for i in range(network.num_layers)]
        self.producer: dict[str, Any] = {}
        for layer in self.layers:
            for j in range(layer.num_outputs):
                self.producer[layer.get_output(j).name] = layer

    def typed(self, layer: Any, subclass: Any) -> Any:
        """Give an ``ILayer`` its subclass to reach its own fields (the pybind idiom NVIDIA's samples use)."""
        layer.__class__ = subclass
        return layer

    def source(self, tensor: Any) -> tuple[str, Any | None]:
        layer = self.producer.get(tensor.name)
        return (NETWORK_INPUT, None) if layer is None else (_name(layer.type), layer)

    def dequantized(self, tensor: Any | None) -> Dequantized | None:
        if tensor is None:
            return None
        kind, layer = self.source(tensor)
        if kind != "DEQUANTIZE":
            return None
        trt = self.trt
        dq = self.typed(layer, trt.IDequantizeLayer)
        data, scale = dq.get_input(0), dq.get_input(1)
        return Dequantized(_name(data.dtype), tuple(int(d) for d in scale.shape), int(dq.axis))

    def conv_facts(self, layer: Any) -> ConvFacts:
        trt = self.trt
        conv = self.typed(layer, trt.IConvolutionLayer)
        act = conv.get_input(0)
        weight = conv.get_input(1) if conv.num_inputs > 1 else None
        if weight is not None:  # weights arrive as a tensor (Q/DQ graphs: from a Dequantize layer)
            weight_dtype, weight_from = _name(weight.dtype), self.source(weight)[0]
        else:
            weight_dtype, weight_from = _name(conv.kernel.dtype), "weights"
        return ConvFacts(conv.name, int(conv.num_output_maps), _name(act.dtype), self.source(act)[0],
                         weight_dtype, weight_from, self.dequantized(act), self.dequantized(weight))


@dataclass
class NetworkProof(Verdict):
    """Per-convolution facts of a parsed network and the verdict for the requested precision."""

    requested: str
    expected: str
    layers: int
    convolutions: list[ConvFacts]
    layer_types: dict[str, int]
    offenders: list[tuple[str, str]] = field(default_factory=list)  # (convolution, why)
    problem: str | None = None
    allow_mixed: bool = False

    @property
    def convolution_precisions(self) -> dict[str, int]:
        return dict(sorted(Counter(c.precision for c in self.convolutions).items()))

    def summary(self) -> str:
        """E.g. ``57 convolutions (57 INT8) of 785 layers, each fed by Dequantize of INT8: …``."""
        counts = ", ".join(f"{n} {p}" for p, n in self.convolution_precisions.items()) or "none found"
        how = f", {_HOW[self.expected]}" if self.proven else ""
        return f"{len(self.convolutions)} convolutions ({counts}) of {self.layers} layers{how}"

    def shortfall(self, plan_name: str) -> str:
        """What is wrong, as a clause naming up to three convolutions (empty when proven)."""
        if self.problem:
            return f"cannot prove {plan_name} is {self.expected}: {self.problem}"
        if not self.offenders:
            return ""
        shown = "; ".join(f"{name!r}: {why}" for name, why in self.offenders[:3])
        more = f"; and {len(self.offenders) - 3} more" if len(self.offenders) > 3 else ""
        return (f"{plan_name} was asked for {self.requested} but {len(self.offenders)} of {len(self.convolutions)} "
                f"convolutions are not {self.expected} in the parsed network ({shown}{more})")

    def to_dict(self) -> dict[str, Any]:
        """The manifest's ``precision_proof.network``."""
        return {
            "layers": self.layers,
            "layer_types": dict(sorted(self.layer_types.items())),
            "convolutions": len(self.convolutions),
            "convolution_precisions": self.convolution_precisions,
            "offending_layers": [name for name, _ in self.offenders],
            "proven": self.proven,
            **({"problem": self.problem} if self.problem else {}),
        }


def prove_network(trt: Any, network: Any, requested: str, allow_mixed: bool = False) -> NetworkProof:
    """Judge every convolution of a parsed, strongly typed network against ``requested`` (fp32, fp16 or int8)."""
    walker = _Walker(trt, network)
    convs = [walker.conv_facts(layer) for layer in walker.layers if layer.type == trt.LayerType.CONVOLUTION]
    kinds = dict(Counter(_name(layer.type) for layer in walker.layers))
    expected = EXPECTED_CONV_PRECISION[requested]
    proof = NetworkProof(requested, expected, len(walker.layers), convs, kinds, allow_mixed=allow_mixed)
    if not convs:
        proof.problem = "the parsed network has no convolution"
    for conv in convs:
        why = "; ".join(conv.problems(expected))
        if why:
            proof.offenders.append((conv.name, why))
    return proof
