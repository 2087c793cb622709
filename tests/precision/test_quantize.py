"""The CPU INT8 target: u8 activations, s8 weights."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

pytestmark = pytest.mark.slow


def test_cpu_target_is_u8_activations_s8_weights(int8_cpu):
    model = onnx.load(str(int8_cpu.path))
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    act_zp = {init[n.input[2]].dtype for n in model.graph.node if n.op_type == "QuantizeLinear"}
    assert act_zp == {np.dtype(np.uint8)}
    weights = [init[n.input[0]] for n in model.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in init]
    assert weights and {w.dtype for w in weights if w.ndim == 4} == {np.dtype(np.int8)}
