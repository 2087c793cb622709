"""The double's parsed network: layers and tensors built from the ONNX the way TensorRT's parser builds them.

Measured against the real parser (tensorrt_rtx 1.7, README "TensorRT-RTX"): a Conv whose weights are
an initializer is a CONVOLUTION layer with one input and its kernel as weights (a numpy array); a Conv
whose weights come from a DequantizeLinear has them as its second input (an empty kernel);
QuantizeLinear outputs INT8 (a uint8 zero point of 0 is re-typed to INT8, as the real parser does);
initializers that feed other layers become CONSTANT layers. ``layer.__class__ = trt.IConvolutionLayer``
works as with the real bindings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from tests.trt_double.strict import Strict

_DTYPES = {onnx.TensorProto.FLOAT: "FLOAT", onnx.TensorProto.FLOAT16: "HALF", onnx.TensorProto.INT8: "INT8",
           onnx.TensorProto.UINT8: "UINT8", onnx.TensorProto.INT32: "INT32", onnx.TensorProto.INT64: "INT64",
           onnx.TensorProto.BOOL: "BOOL", onnx.TensorProto.BFLOAT16: "BF16"}
LAYER_TYPES = {"Conv": "CONVOLUTION", "QuantizeLinear": "QUANTIZE", "DequantizeLinear": "DEQUANTIZE",
               "Relu": "ACTIVATION", "Sigmoid": "ACTIVATION", "Clip": "ACTIVATION", "MaxPool": "POOLING",
               "AveragePool": "POOLING", "GlobalAveragePool": "REDUCE", "Gemm": "MATRIX_MULTIPLY",
               "MatMul": "MATRIX_MULTIPLY", "Cast": "CAST", "Flatten": "SHUFFLE", "Reshape": "SHUFFLE",
               "Transpose": "SHUFFLE", "Squeeze": "SHUFFLE", "Unsqueeze": "SHUFFLE", "Identity": "IDENTITY",
               "Dropout": "IDENTITY", "Concat": "CONCATENATION", "Constant": "CONSTANT", "Softmax": "SOFTMAX",
               "LRN": "LRN", "Pad": "PADDING", "Slice": "SLICE", "Gather": "GATHER", "Shape": "SHAPE"}


def _trt() -> Any:
    from tests.trt_double.core import _Ctx

    return _Ctx.trt


class ITensor(Strict):
    _TRT_CLASS = "ITensor"

    def __init__(self, name: str, shape: tuple[int, ...], dtype: str = "FLOAT") -> None:
        self._name, self._shape, self._dtype = name, tuple(shape), dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def shape(self) -> Any:
        from tests.trt_double.core import Dims

        return Dims(self._shape)

    @property
    def dtype(self) -> Any:
        return getattr(_trt().DataType, self._dtype)


class ILayer(Strict):
    _TRT_CLASS = "ILayer"

    def __init__(self, name: str, kind: str, inputs: list[ITensor], outputs: list[ITensor], **fields: Any) -> None:
        self._name, self._kind, self._inputs, self._outputs, self._fields = name, kind, inputs, outputs, fields

    @property
    def name(self) -> str:
        return self._name

    @property
    def type(self) -> Any:
        return getattr(_trt().LayerType, self._kind)

    @property
    def metadata(self) -> str:
        return f"[ONNX Layer: {self._name}]"

    @property
    def num_inputs(self) -> int:
        return len(self._inputs)

    @property
    def num_outputs(self) -> int:
        return len(self._outputs)

    def get_input(self, index: int) -> ITensor:
        return self._inputs[index]

    def get_output(self, index: int) -> ITensor:
        return self._outputs[index]


class IConvolutionLayer(ILayer):
    _TRT_CLASS = "IConvolutionLayer"

    @property
    def kernel(self) -> np.ndarray:
        return self._fields["kernel"]

    @property
    def num_output_maps(self) -> int:
        return int(self._fields["num_output_maps"])


class IDequantizeLayer(ILayer):
    _TRT_CLASS = "IDequantizeLayer"

    @property
    def axis(self) -> int:
        return int(self._fields["axis"])


class IQuantizeLayer(ILayer):
    _TRT_CLASS = "IQuantizeLayer"

    @property
    def axis(self) -> int:
        return int(self._fields["axis"])


def _attr(node: onnx.NodeProto, name: str, default: Any) -> Any:
    found = [a for a in node.attribute if a.name == name]
    return onnx.helper.get_attribute_value(found[0]) if found else default


def build_layers(model: onnx.ModelProto) -> tuple[list[ILayer], dict[str, ITensor]]:
    """Every layer the parser would make from ``model``, and every tensor by name."""
    from tests.trt_double.core import _types

    types, shapes = _types(model)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    tensors: dict[str, ITensor] = {}
    layers: list[ILayer] = []

    def tensor(name: str, dtype: str | None = None) -> ITensor:
        if name not in tensors:
            tensors[name] = ITensor(name, shapes.get(name, ()), dtype or _DTYPES.get(types.get(name, 1), "FLOAT"))
        return tensors[name]

    def constant(name: str) -> ITensor:
        if name not in tensors:
            layers.append(ILayer(f"{name}_constant", "CONSTANT", [], [tensor(name)]))
        return tensors[name]

    for value in model.graph.input:
        if value.name not in inits:
            tensor(value.name)
    for node in model.graph.node:
        static_conv = node.op_type == "Conv" and node.input[1] in inits
        used = [n for n in node.input if n]
        ins = [tensor(n) if n not in inits else constant(n) for n in (used[:1] if static_conv else used)]
        out_dtype = "INT8" if node.op_type == "QuantizeLinear" else None
        outs = [tensor(o, out_dtype) for o in node.output if o]
        kind = LAYER_TYPES.get(node.op_type, "ELEMENTWISE")
        if node.op_type == "Conv":
            weight = inits.get(node.input[1], np.zeros(0, np.float32))
            layers.append(IConvolutionLayer(node.name, kind, ins, outs, kernel=weight if static_conv else weight[:0],
                                            num_output_maps=shapes.get(node.input[1], (0,))[0]))
        elif node.op_type in ("QuantizeLinear", "DequantizeLinear"):
            cls = IQuantizeLayer if node.op_type == "QuantizeLinear" else IDequantizeLayer
            layers.append(cls(node.name, kind, ins, outs, axis=_attr(node, "axis", 1)))
        else:
            layers.append(ILayer(node.name, kind, ins, outs))
    return layers, tensors
