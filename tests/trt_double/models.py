"""Tiny gnet-shaped ONNX files (input [batch, 3, 16, 16] → logits [batch, 10]) in each precision.

Conv → Relu → Conv → Relu → GlobalAveragePool → Flatten → Gemm, stamped with the
``gnet.*`` metadata an export writes, so the build reads precision, preprocessing
and hashes exactly as it does for the real GoogLeNet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from gnet.export import metadata

SIZE = 16
CLASSES = 10
CALIBRATION_SHA = "c" * 64


def _weights(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "w1": rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "b1": rng.normal(0, 0.1, 8).astype(np.float32),
        "w2": rng.normal(0, 0.3, (8, 8, 3, 3)).astype(np.float32), "b2": rng.normal(0, 0.1, 8).astype(np.float32),
        "wf": rng.normal(0, 0.3, (CLASSES, 8)).astype(np.float32), "bf": rng.normal(0, 0.1, CLASSES).astype(np.float32),
    }


def _stamp(model: onnx.ModelProto, precision: str) -> None:
    meta = {
        "precision": precision, "weights": "random(seed=0)", "weights_sha256": "a" * 64, "num_classes": CLASSES,
        "image_size": SIZE, "opset": 17, "class_names": [f"class{i}" for i in range(CLASSES)],
        "preprocessing": {"layout": "NCHW", "color": "RGB", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                          "value_range": [0.0, 1.0]},
    }
    if precision == "int8":
        meta["calibration"] = {"sha256": CALIBRATION_SHA, "images": 32, "method": "minmax"}
    metadata.stamp(model, meta)


def _io(batch: str | int = "batch") -> tuple[onnx.ValueInfoProto, onnx.ValueInfoProto]:
    return (helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, SIZE, SIZE]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, CLASSES]))


def _body(prefix: str, x: str, dtype: int) -> list[onnx.NodeProto]:
    return [
        helper.make_node("Conv", [x, f"{prefix}w1", f"{prefix}b1"], ["c1"], name="/conv1/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="/conv1/Relu"),
        helper.make_node("Conv", ["r1", f"{prefix}w2", f"{prefix}b2"], ["c2"], name="/conv2/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="/conv2/Relu"),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"], name="/avgpool/GlobalAveragePool"),
        helper.make_node("Flatten", ["p"], ["f"], name="/Flatten", axis=1),
    ]


def fp32_model(seed: int = 0, batch: str | int = "batch", extra_op: str | None = None) -> onnx.ModelProto:
    w = _weights(seed)
    nodes = _body("", "input", TensorProto.FLOAT)
    nodes.append(helper.make_node("Gemm", ["f", "wf", "bf"], ["g"], name="/fc/Gemm", transB=1))
    if extra_op:  # a custom op TensorRT has no importer for
        nodes.append(helper.make_node(extra_op, ["g"], ["logits"], name="/custom/Op", domain="gnet.test"))
    else:
        nodes.append(helper.make_node("Identity", ["g"], ["logits"], name="/out/Identity"))
    inp, out = _io(batch)
    graph = helper.make_graph(nodes, "tiny", [inp], [out], [numpy_helper.from_array(v, k) for k, v in w.items()])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("gnet.test", 1)] if extra_op else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="gnet-tests")
    model.ir_version = 8
    _stamp(model, "fp32")
    return model


def fp16_model(seed: int = 0) -> onnx.ModelProto:
    """FP16 inside, FP32 at the edges (as AutoCast's keep_io_types does)."""
    w = {k: v.astype(np.float16) for k, v in _weights(seed).items()}
    nodes = [helper.make_node("Cast", ["input"], ["x16"], name="/input/Cast", to=TensorProto.FLOAT16)]
    nodes += _body("", "x16", TensorProto.FLOAT16)
    nodes += [helper.make_node("Gemm", ["f", "wf", "bf"], ["g"], name="/fc/Gemm", transB=1),
              helper.make_node("Cast", ["g"], ["logits"], name="/output/Cast", to=TensorProto.FLOAT)]
    inp, out = _io()
    graph = helper.make_graph(nodes, "tiny16", [inp], [out], [numpy_helper.from_array(v, k) for k, v in w.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gnet-tests")
    model.ir_version = 8
    _stamp(model, "fp16")
    return model


def int8_model(seed: int = 0, zero_point: int = 0) -> onnx.ModelProto:
    """Explicit Q/DQ on every Conv/Gemm input (per-tensor activations, per-output-channel weights)."""
    w = _weights(seed)
    inits = [numpy_helper.from_array(v, k) for k, v in w.items() if k.startswith("b")]
    nodes: list[onnx.NodeProto] = []

    def qdq(tensor: str, scale: float, name: str) -> str:
        inits.extend([numpy_helper.from_array(np.array(scale, np.float32), f"{name}_s"),
                      numpy_helper.from_array(np.array(zero_point, np.int8), f"{name}_z")])
        nodes.extend([
            helper.make_node("QuantizeLinear", [tensor, f"{name}_s", f"{name}_z"], [f"{name}_q"], name=f"{name}/QuantizeLinear"),
            helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_s", f"{name}_z"], [f"{name}_dq"],
                             name=f"{name}/DequantizeLinear"),
        ])
        return f"{name}_dq"

    def weight(key: str) -> str:  # per output channel on axis 0, as gnet's TensorRT format quantizes weights
        rows = w[key].reshape(w[key].shape[0], -1)
        scale = (np.abs(rows).max(axis=1) / 127).astype(np.float32)
        shaped = scale.reshape(-1, *([1] * (w[key].ndim - 1)))
        inits.append(numpy_helper.from_array(np.clip(np.round(w[key] / shaped), -127, 127).astype(np.int8), f"{key}_i8"))
        inits.extend([numpy_helper.from_array(scale, f"{key}_s"),
                      numpy_helper.from_array(np.zeros(scale.shape, np.int8), f"{key}_z")])
        nodes.append(helper.make_node("DequantizeLinear", [f"{key}_i8", f"{key}_s", f"{key}_z"], [f"{key}_dq"],
                                      name=f"/{key}/DequantizeLinear", axis=0))
        return f"{key}_dq"

    x = qdq("input", 2.5 / 127, "/input")
    nodes.append(helper.make_node("Conv", [x, weight("w1"), "b1"], ["c1"], name="/conv1/Conv", pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["c1"], ["r1"], name="/conv1/Relu"))
    r1 = qdq("r1", 4.0 / 127, "/r1")
    nodes.append(helper.make_node("Conv", [r1, weight("w2"), "b2"], ["c2"], name="/conv2/Conv", pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["c2"], ["r2"], name="/conv2/Relu"))
    nodes.append(helper.make_node("GlobalAveragePool", ["r2"], ["p"], name="/avgpool/GlobalAveragePool"))
    nodes.append(helper.make_node("Flatten", ["p"], ["f"], name="/Flatten", axis=1))
    fq = qdq("f", 4.0 / 127, "/f")
    nodes.append(helper.make_node("Gemm", [fq, weight("wf"), "bf"], ["logits"], name="/fc/Gemm", transB=1))
    inp, out = _io()
    graph = helper.make_graph(nodes, "tiny_qdq", [inp], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gnet-tests")
    model.ir_version = 8
    _stamp(model, "int8")
    return model


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
