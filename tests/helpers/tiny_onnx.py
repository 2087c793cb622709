"""Tiny gnet-shaped ONNX graphs for fast OpenVINO tests: ``input [batch, 3, S, S]`` → ``logits [batch, 10]``.

``fp32``: Conv-Relu-Conv-Relu-GlobalAveragePool-Flatten-Gemm. ``qdq-s8`` / ``qdq-u8``: the same with explicit
Q/DQ on the activations and weights of both convolutions, s8/s8 like gnet's TensorRT format or u8 activations
like its CPU format. Each carries ``gnet.*`` metadata_props, so an IR made from it shows them arriving.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIZE = 32
CLASSES = 10
KINDS = ("fp32", "qdq-s8", "qdq-u8")


def _weights(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"w1": (rng.standard_normal((16, 3, 3, 3)) * 0.3).astype(np.float32),
            "b1": (rng.standard_normal(16) * 0.1).astype(np.float32),
            "w2": (rng.standard_normal((32, 16, 3, 3)) * 0.1).astype(np.float32),
            "b2": (rng.standard_normal(32) * 0.1).astype(np.float32),
            "fc": (rng.standard_normal((CLASSES, 32)) * 0.3).astype(np.float32),
            "fcb": np.zeros(CLASSES, np.float32)}


def _qdq(name: str, scale: float, zero: int, dtype: int, nodes: list, inits: list) -> str:
    """Q then DQ of tensor ``name``; returns the dequantized tensor's name."""
    inits += [numpy_helper.from_array(np.array(scale, np.float32), f"{name}_s"),
              helper.make_tensor(f"{name}_z", dtype, [], [zero])]
    nodes += [helper.make_node("QuantizeLinear", [name, f"{name}_s", f"{name}_z"], [f"{name}_q"]),
              helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_s", f"{name}_z"], [f"{name}_dq"])]
    return f"{name}_dq"


def build(kind: str = "fp32", seed: int = 1) -> onnx.ModelProto:
    """A checked tiny model of ``kind`` (one of :data:`KINDS`)."""
    w = _weights(seed)
    inits = [numpy_helper.from_array(v, k) for k, v in w.items()]
    nodes: list = []
    activations = TensorProto.UINT8 if kind == "qdq-u8" else TensorProto.INT8

    def conv(x: str, weight: str, bias: str, out: str, scale: float, after_relu: bool) -> None:
        if kind != "fp32":
            zero = 0 if activations == TensorProto.INT8 or after_relu else 128
            x = _qdq(x, scale, zero, activations, nodes, inits)
            weight = _qdq(weight, float(np.abs(w[weight]).max() / 127), 0, TensorProto.INT8, nodes, inits)
        nodes.append(helper.make_node("Conv", [x, weight, bias], [out + "_c"], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [out + "_c"], [out]))

    conv("input", "w1", "b1", "r1", 4.0 / 127, after_relu=False)
    conv("r1", "w2", "b2", "r2", 2.0 / 127, after_relu=True)
    nodes += [helper.make_node("GlobalAveragePool", ["r2"], ["gap"]),
              helper.make_node("Flatten", ["gap"], ["flat"]),
              helper.make_node("Gemm", ["flat", "fc", "fcb"], ["logits"], transB=1)]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"gnet.precision": "fp32" if kind == "fp32" else "int8",
                                   "gnet.image_size": str(SIZE), "gnet.num_classes": str(CLASSES),
                                   "gnet.weights": f"tiny (seed {seed})"})
    onnx.checker.check_model(model, full_check=True)
    return model


def write(folder: Path, kind: str = "fp32") -> Path:
    path = Path(folder) / f"tiny_{kind}.onnx"
    onnx.save(build(kind), str(path))
    return path


def images(batch: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, 3, SIZE, SIZE)).astype(np.float32)


def ort_logits(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
