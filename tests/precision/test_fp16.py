"""The FP16 graph: FP16 inside, FP32 (or FP16) at the edges, no Cast in the body."""

from __future__ import annotations

import shutil
from pathlib import Path

import onnx
import pytest

from gnet.export import metadata
from gnet.export.api import export_model
from gnet.precision.fp16 import body_casts

pytestmark = pytest.mark.slow


def test_fp16_graph_is_fp16_inside_with_fp32_io(fp16):
    model = onnx.load(str(fp16.path))
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert body_casts(model) == []
    assert [n.op_type for n in model.graph.node].count("Cast") == 2
    types = {v.name: v.type.tensor_type.elem_type for v in [*model.graph.value_info, *model.graph.input, *model.graph.output]}
    types.update({t.name: t.data_type for t in model.graph.initializer})
    for node in model.graph.node:
        if node.op_type in ("Conv", "Gemm", "MaxPool", "GlobalAveragePool"):
            for name in [node.input[0], *node.output]:
                assert types[name] == onnx.TensorProto.FLOAT16, (node.name, name)
            if node.op_type in ("Conv", "Gemm"):
                assert types[node.input[1]] == onnx.TensorProto.FLOAT16
    assert metadata.read(model)["precision"] == "fp16"


def test_fp16_io(fixture_path: Path, workdir: Path, fp32_onnx: Path):
    (workdir / "io16").mkdir(exist_ok=True)  # beside the session's FP32 export, which the FP16 export reuses
    shutil.copyfile(fp32_onnx, workdir / "io16" / fp32_onnx.name)
    result = export_model(weights=str(fixture_path), output=workdir / "io16" / "googlenet_fp16.onnx", precision="fp16",
                          io_dtype="fp16")
    model = onnx.load(str(result.path))
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT16
    assert "Cast" not in [n.op_type for n in model.graph.node]
    assert result.parity.passed
