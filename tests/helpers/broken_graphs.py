"""gnet's own precision graphs broken on purpose, the ways they break in practice.

Each function takes a loaded gnet ONNX (INT8 Q/DQ, or FP16 for the overflow), edits one thing and returns
``(model, node)``: the edited model (metadata untouched, so only the numbers give it away) and the node whose
inputs it broke, which a diagnosis should name. Used by the broken-graph tests and by
``tools/tolerance_study.py``, which measured the bounds in ``checks/tolerances.py`` between these and the
good graphs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import numpy_helper

Break = Callable[[onnx.ModelProto], tuple[onnx.ModelProto, str]]


class _Graph:
    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.nodes = list(model.graph.node)
        self.producer = {out: n for n in self.nodes for out in n.output}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for n in self.nodes:
            for name in n.input:
                self.consumers.setdefault(name, []).append(n)
        self.inits = {t.name: t for t in model.graph.initializer}

    def value(self, name: str) -> np.ndarray:
        return numpy_helper.to_array(self.inits[name])

    def replace(self, node: onnx.NodeProto, index: int, value: np.ndarray, tag: str) -> None:
        """Point ``node.input[index]`` at a new initializer holding ``value`` (others sharing the old one keep it)."""
        name = f"{node.input[index]}_{tag}"
        self.inits[name] = numpy_helper.from_array(value, name)
        self.model.graph.initializer.append(self.inits[name])
        node.input[index] = name

    def weighted(self, op: str = "Conv") -> list[onnx.NodeProto]:
        return [n for n in self.nodes if n.op_type == op]

    def first_reader(self, node: onnx.NodeProto) -> str:
        """The first node in graph order that reads ``node``'s output, through any DequantizeLinear after it."""
        readers = []
        for consumer in self.consumers.get(node.output[0], []):
            readers += self.consumers.get(consumer.output[0], []) if consumer.op_type == "DequantizeLinear" \
                else [consumer]
        return min(readers, key=self.nodes.index).name

    def input_dq(self, node: onnx.NodeProto, index: int) -> onnx.NodeProto:
        dq = self.producer[node.input[index]]
        assert dq.op_type == "DequantizeLinear", f"{node.name}: input {index} is not dequantized"
        return dq


def _middle_conv(g: _Graph) -> onnx.NodeProto:
    """A Conv halfway down the network whose activation comes through its own Q/DQ pair."""
    convs = [c for c in g.weighted() if g.producer[c.input[0]].op_type == "DequantizeLinear"]
    return convs[len(convs) // 2]


def activation_scale_x4(model: onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    """One QuantizeLinear's scale ×4 while its DequantizeLinear keeps the old one: the tensor arrives at a quarter."""
    g = _Graph(model)
    conv = _middle_conv(g)
    q = g.producer[g.input_dq(conv, 0).input[0]]
    g.replace(q, 1, g.value(q.input[1]) * np.float32(4), "x4")
    return model, g.first_reader(q)


def weight_scales_swapped(model: onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    """The first Conv's per-channel weight scales of its largest and smallest channel exchanged."""
    g = _Graph(model)
    conv = g.weighted()[0]
    dq = g.input_dq(conv, 1)
    scales = g.value(dq.input[1]).copy()
    hi, lo = int(np.argmax(scales)), int(np.argmin(scales))
    scales[[hi, lo]] = scales[[lo, hi]]
    g.replace(dq, 1, scales, "swapped")
    return model, conv.name


def zero_point_shifted(model: onnx.ModelProto, shift: int = 20) -> tuple[onnx.ModelProto, str]:
    """A mid-network activation DequantizeLinear's zero point moved by ``shift`` (its QuantizeLinear unchanged)."""
    g = _Graph(model)
    conv = _middle_conv(g)
    dq = g.input_dq(conv, 0)
    zp = g.value(dq.input[2])
    info = np.iinfo(zp.dtype)
    g.replace(dq, 2, np.clip(zp.astype(np.int32) + shift, info.min, info.max).astype(zp.dtype), "shifted")
    return model, g.first_reader(dq)


def concat_scale_x2(model: onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    """A mid-network Concat's first input dequantized with twice its scale: the branches no longer share one."""
    g = _Graph(model)
    concats = g.weighted("Concat")
    concat = concats[len(concats) // 2]
    dq = g.input_dq(concat, 0)
    g.replace(dq, 1, g.value(dq.input[1]) * np.float32(2), "x2")
    return model, concat.name


def per_channel_collapsed(model: onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    """What an optimiser that drops DequantizeLinear's ``axis`` does: every Conv's per-channel weight scales
    folded into one per-tensor scale (the first channel's), the int8 weights kept."""
    g = _Graph(model)
    convs = g.weighted()
    for conv in convs:
        dq = g.input_dq(conv, 1)
        scale, zp = g.value(dq.input[1]), g.value(dq.input[2])
        g.replace(dq, 1, np.asarray(scale.ravel()[0], scale.dtype), "per_tensor")
        g.replace(dq, 2, np.asarray(zp.ravel()[0], zp.dtype), "per_tensor")
        del dq.attribute[:]
    return model, convs[0].name


def scale_not_finite(model: onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    """A mid-network activation DequantizeLinear's scale made infinite: it and everything after it are NaN or
    infinite (the node returned is that DequantizeLinear)."""
    g = _Graph(model)
    dq = g.input_dq(_middle_conv(g), 0)
    g.replace(dq, 1, np.full_like(g.value(dq.input[1]), np.inf), "inf")
    return model, dq.name


def fp16_overflow_island(model: onnx.ModelProto, exponent: int = 14) -> tuple[onnx.ModelProto, str]:
    """An FP16 graph's mid-network Conv ×2^exponent (weights and bias) and a Mul by 2^-exponent after its ReLU:
    the same function in real arithmetic, but the Conv's output leaves FP16's range (65504)."""
    g = _Graph(model)
    chains = [c for c in g.weighted() if len(g.consumers.get(c.output[0], [])) == 1
              and g.consumers[c.output[0]][0].op_type == "Relu"]
    conv = chains[len(chains) // 2]
    for index in (1, 2):
        value = g.value(conv.input[index])
        g.replace(conv, index, (value.astype(np.float32) * 2.0 ** exponent).astype(value.dtype), "scaled")
    relu = g.consumers[conv.output[0]][0]
    factor = numpy_helper.from_array(np.asarray(2.0 ** -exponent, g.value(conv.input[1]).dtype), f"{conv.name}_undo")
    model.graph.initializer.append(factor)
    undone = f"{relu.output[0]}_undone"
    for consumer in g.consumers.get(relu.output[0], []):
        consumer.input[:] = [undone if name == relu.output[0] else name for name in consumer.input]
    mul = onnx.helper.make_node("Mul", [relu.output[0], factor.name], [undone], name=f"{conv.name}_undo")
    model.graph.node.insert(list(model.graph.node).index(relu) + 1, mul)
    return model, conv.name


INT8_BREAKS: dict[str, Break] = {
    "activation scale x4": activation_scale_x4,
    "weight scales swapped": weight_scales_swapped,
    "zero point +20": zero_point_shifted,
    "concat input scale x2": concat_scale_x2,
    "per-channel scales collapsed": per_channel_collapsed,
}
FP16_BREAKS: dict[str, Break] = {"fp16 overflow island": fp16_overflow_island}
