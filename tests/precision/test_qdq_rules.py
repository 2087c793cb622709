"""TensorRT's Q/DQ placement rules hold on the INT8 graph, and the checker catches graphs that break them."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from gnet.export import metadata
from gnet.precision.qdq_rules import check_trt_qdq

pytestmark = pytest.mark.slow


def test_tensorrt_qdq_follows_every_placement_rule(int8_trt):
    model = onnx.load(str(int8_trt.path))
    assert check_trt_qdq(model) == []
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("QuantizeLinear") > 50
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    concats = [n for n in model.graph.node if n.op_type == "Concat"]
    assert len(concats) == 9
    for concat in concats:  # one scale across the inputs of each Concat
        scales = {float(init[producer[i].input[1]]) for i in concat.input}
        assert len(scales) == 1, concat.name
    for node in model.graph.node:
        if node.op_type in ("Conv", "Gemm"):
            assert producer[node.input[0]].op_type == "DequantizeLinear"
            weight_dq = producer[node.input[1]]
            assert weight_dq.op_type == "DequantizeLinear" and init[weight_dq.input[0]].dtype == np.int8
            assert init[weight_dq.input[1]].size == init[weight_dq.input[0]].shape[0]  # per channel
    for node in model.graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear"):
            zp = init[node.input[2]]
            assert zp.dtype == np.int8 and not zp.any()
    meta = metadata.read(model)
    assert meta["int8_target"] == "tensorrt" and meta["calibration"]["source"] == "digits:train"


def test_rule_checker_catches_broken_graphs(int8_trt):
    """The checker must fail on graphs that break each rule, or the placement test proves nothing."""
    model = onnx.load(str(int8_trt.path))
    init = {t.name: t for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    concat = next(n for n in model.graph.node if n.op_type == "Concat")
    scale = init[producer[concat.input[0]].input[1]]
    scale.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(scale) * 2, scale.name))
    assert any("different scales" in v for v in check_trt_qdq(model))

    model = onnx.load(str(int8_trt.path))
    q = next(n for n in model.graph.node if n.op_type == "QuantizeLinear")
    zp = next(t for t in model.graph.initializer if t.name == q.input[2])
    zp.CopyFrom(numpy_helper.from_array(np.array(3, dtype=np.int8), zp.name))
    assert any("zero point is not 0" in v for v in check_trt_qdq(model))

    model = onnx.load(str(int8_trt.path))
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    conv.input[0] = producer[conv.input[0]].input[0]  # feed the float tensor past its Q/DQ
    assert any("activation input is not quantized" in v for v in check_trt_qdq(model))
