"""Tiny Q/DQ graphs in gnet's TensorRT format, and variants that each break one rule of ``precision/qdq_rules.py``.

input [batch, 3, 8, 8] → Q/DQ → Conv (DQ'd int8 weights, per output channel) → Relu [→ a second branch
→ Concat] → GlobalAveragePool → Flatten. Each keyword breaks one rule; with none the graph complies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from gnet.export import metadata

CHANNELS, MAPS = 3, 4


@dataclass(frozen=True)
class Variant:
    act_zp_dtype: type = np.int8  # R1: zero points int8 ...
    act_zp: int = 0  # ... and 0
    no_act_zp: bool = False  # R1: no zero point (ONNX then means uint8)
    bias_dq: bool = False  # R1: an INT32 bias DequantizeLinear (ONNX Runtime's QuantizeBias)
    w_quantized: bool = True  # R2: the weight is quantized
    act_quantized: bool = True  # R2: the activation is quantized
    w_per_channel: bool = True  # R2: one weight scale per output channel
    act_scale: tuple[float, ...] = (0.02,)  # R5: one activation scale (three: per channel)
    quantize_output: bool = False  # R3: a Conv's output is not quantized
    concat_scales: tuple[float, float] | None = None  # R4: a Concat's inputs share one scale


class _Builder:
    def __init__(self, variant: Variant) -> None:
        self.v = variant
        self.rng = np.random.default_rng(0)
        self.inits: list[onnx.TensorProto] = []
        self.nodes: list[onnx.NodeProto] = []

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def qdq(self, src: str, scales: tuple[float, ...], tag: str, zp_dtype: type = np.int8, zp: int = 0) -> str:
        per_channel = len(scales) > 1
        scale = np.asarray(scales, np.float32) if per_channel else np.float32(scales[0])
        inputs = [src, self.const(f"{tag}_scale", scale)]
        if not (self.v.no_act_zp and tag == "in"):
            inputs.append(self.const(f"{tag}_zp", np.full(np.shape(scale), zp, zp_dtype)))
        kw = {"axis": 1} if per_channel else {}
        self.nodes.append(helper.make_node("QuantizeLinear", inputs, [f"{tag}_q"], name=f"{tag}_QuantizeLinear", **kw))
        self.nodes.append(helper.make_node("DequantizeLinear", [f"{tag}_q", *inputs[1:]], [f"{tag}_dq"],
                                           name=f"{tag}_DequantizeLinear", **kw))
        return f"{tag}_dq"

    def weight(self, tag: str, cin: int) -> tuple[str, np.ndarray]:
        w = self.rng.standard_normal((MAPS, cin, 3, 3)).astype(np.float32)
        if not self.v.w_quantized:
            return self.const(f"{tag}_w", w), np.ones(MAPS, np.float32)
        scale = (np.abs(w).reshape(MAPS, -1).max(1) / 127).astype(np.float32)
        if not self.v.w_per_channel:
            scale = np.full(MAPS, scale.max(), np.float32)
        q = np.clip(np.round(w / scale.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
        if self.v.w_per_channel:
            s, z, kw = scale, np.zeros(MAPS, np.int8), {"axis": 0}
        else:
            s, z, kw = np.float32(scale[0]), np.int8(0), {}
        ins = [self.const(f"{tag}_w_q", q), self.const(f"{tag}_w_scale", s), self.const(f"{tag}_w_zp", z)]
        self.nodes.append(helper.make_node("DequantizeLinear", ins, [f"{tag}_w"], name=f"{tag}_w_DequantizeLinear", **kw))
        return f"{tag}_w", scale

    def conv(self, tag: str, src: str, cin: int) -> str:
        weight, w_scale = self.weight(tag, cin)
        bias = self.rng.standard_normal(MAPS).astype(np.float32)
        if self.v.bias_dq:
            b_scale = (0.02 * w_scale).astype(np.float32)
            ins = [self.const(f"{tag}_b_q", np.round(bias / b_scale).astype(np.int32)),
                   self.const(f"{tag}_b_scale", b_scale), self.const(f"{tag}_b_zp", np.zeros(MAPS, np.int32))]
            self.nodes.append(helper.make_node("DequantizeLinear", ins, [f"{tag}_b"], name=f"{tag}_b_DequantizeLinear",
                                               axis=0))
            bias_name = f"{tag}_b"
        else:
            bias_name = self.const(f"{tag}_b", bias)
        self.nodes.append(helper.make_node("Conv", [src, weight, bias_name], [f"{tag}_out"], name=f"/{tag}/Conv",
                                           pads=[1, 1, 1, 1]))
        out = self.qdq(f"{tag}_out", (0.05,), f"{tag}_outq") if self.v.quantize_output else f"{tag}_out"
        self.nodes.append(helper.make_node("Relu", [out], [f"{tag}_relu"], name=f"/{tag}/Relu"))
        return f"{tag}_relu"


def qdq_graph(**breaks: object) -> onnx.ModelProto:
    """The tiny graph with the given rule-breaking keywords (``Variant``'s fields)."""
    v = Variant(**breaks)  # type: ignore[arg-type]
    b = _Builder(v)
    x = "input"
    if v.act_quantized:
        x = b.qdq("input", v.act_scale, "in", v.act_zp_dtype, v.act_zp)
    last = b.conv("conv1", x, CHANNELS)
    if v.concat_scales:
        left = b.qdq(last, (v.concat_scales[0],), "cat_a")
        right = b.qdq(b.conv("conv2", b.qdq(last, (0.03,), "c2in"), MAPS), (v.concat_scales[1],), "cat_b")
        b.nodes.append(helper.make_node("Concat", [left, right], ["cat"], name="/cat/Concat", axis=1))
        last = "cat"
    b.nodes.append(helper.make_node("GlobalAveragePool", [last], ["gap"], name="/gap"))
    b.nodes.append(helper.make_node("Flatten", ["gap"], ["logits"], name="/flatten"))
    graph = helper.make_graph(b.nodes, "qdq_rules", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                                    ["batch", CHANNELS, 8, 8])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "k"])], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    # gnet's metadata, as gnet's exports carry it: a graph without it is a foreign ONNX that gnet build refuses
    metadata.stamp(model, {"precision": "int8", "image_size": 8, "num_classes": 1})
    onnx.checker.check_model(model)
    return model
