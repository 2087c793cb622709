"""Check a Q/DQ graph against TensorRT's placement rules (../shared/TRT_API.md §4).

Each rule returns plain-language violations, naming the node, so a failed check
says exactly what is wrong. Used after every TensorRT-target quantization and by
the tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import onnx
from onnx import numpy_helper

WEIGHTED_OPS = ("Conv", "Gemm")


class _Graph:
    """Producer/consumer indexes and initializer values of one ONNX graph."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.nodes = list(model.graph.node)
        self.producer = {out: n for n in self.nodes for out in n.output}
        self.consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        for n in self.nodes:
            for name in n.input:
                self.consumers[name].append(n)
        self.init = {t.name: t for t in model.graph.initializer}
        for n in self.nodes:  # Constant nodes count as initializers
            if n.op_type == "Constant":
                self.init[n.output[0]] = n.attribute[0].t

    def value(self, name: str) -> np.ndarray | None:
        tensor = self.init.get(name)
        return None if tensor is None else numpy_helper.to_array(tensor)

    def dq_of(self, tensor: str) -> onnx.NodeProto | None:
        node = self.producer.get(tensor)
        return node if node is not None and node.op_type == "DequantizeLinear" else None


def _attr(node: onnx.NodeProto, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def zero_points_are_int8_zero(g: _Graph) -> Iterable[str]:
    for n in g.nodes:
        if n.op_type not in ("QuantizeLinear", "DequantizeLinear"):
            continue
        zp = g.value(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        if zp is None:
            yield f"{n.name}: no zero point (defaults to uint8)"
        elif zp.dtype != np.int8:
            yield f"{n.name}: zero point is {zp.dtype}, not int8"
        elif np.any(zp != 0):
            yield f"{n.name}: zero point is not 0 (TensorRT needs symmetric quantization)"
        if n.op_type == "DequantizeLinear":
            data = g.value(n.input[0])
            if data is not None and data.dtype == np.int32:
                yield f"{n.name}: dequantizes an INT32 tensor (bias); TensorRT cannot import it"


def weighted_inputs_quantized(g: _Graph, excluded: set[str]) -> Iterable[str]:
    for n in g.nodes:
        if n.op_type not in WEIGHTED_OPS or n.name in excluded:
            continue
        act, weight = g.dq_of(n.input[0]), g.dq_of(n.input[1])
        if act is None:
            yield f"{n.name}: activation input is not quantized"
        elif np.size(g.value(act.input[1])) != 1:
            yield f"{n.name}: activation scale is not per-tensor"
        if weight is None:
            yield f"{n.name}: weight is not quantized"
        else:
            scale = g.value(weight.input[1])
            channels = g.value(weight.input[0]).shape[0] if g.value(weight.input[0]) is not None else None
            if scale is None or np.size(scale) != channels or _attr(weight, "axis", 1) != 0:
                yield f"{n.name}: weight is not quantized per output channel"
        if len(n.input) > 2 and n.input[2] and g.dq_of(n.input[2]) is not None:
            yield f"{n.name}: bias is quantized"


def weighted_outputs_not_quantized(g: _Graph) -> Iterable[str]:
    for n in g.nodes:
        if n.op_type in WEIGHTED_OPS:
            for consumer in g.consumers.get(n.output[0], []):
                if consumer.op_type == "QuantizeLinear":
                    yield f"{n.name}: output is quantized by {consumer.name}"


def concat_shares_one_scale(g: _Graph) -> Iterable[str]:
    for n in g.nodes:
        if n.op_type != "Concat":
            continue
        scales = []
        for name in n.input:
            dq = g.dq_of(name)
            if dq is None:
                yield f"{n.name}: input {name} is not quantized"
                continue
            scales.append(float(g.value(dq.input[1])))
        for consumer in g.consumers.get(n.output[0], []):
            if consumer.op_type == "QuantizeLinear":
                scales.append(float(g.value(consumer.input[1])))
        if scales and not np.allclose(scales, scales[0], rtol=0, atol=0):
            yield f"{n.name}: its inputs and output use {len(set(scales))} different scales, not one"


def activations_per_tensor(g: _Graph) -> Iterable[str]:
    for n in g.nodes:
        if n.op_type == "QuantizeLinear" and n.input[0] not in g.init:
            if np.size(g.value(n.input[1])) != 1:
                yield f"{n.name}: activation quantized per channel"


def check_trt_qdq(model: onnx.ModelProto, excluded: Iterable[str] = ()) -> list[str]:
    """All violations of TensorRT's Q/DQ placement rules in ``model`` (empty when it complies)."""
    g = _Graph(model)
    if not any(n.op_type == "QuantizeLinear" for n in g.nodes):
        return ["the model has no QuantizeLinear nodes"]
    skip = set(excluded)
    return [
        *zero_points_are_int8_zero(g),
        *weighted_inputs_quantized(g, skip),
        *weighted_outputs_not_quantized(g),
        *concat_shares_one_scale(g),
        *activations_per_tensor(g),
    ]
