"""A gnet graph that takes camera frames: uint8 RGB [N, H, W, 3] in, the same logits out
(``gnet export --input-type uint8-nhwc``, docs/precisions.md "Camera frames").

Any gnet graph (FP32, FP16, either INT8 format) gets a head in front of its input: Cast to the graph's float type,
Transpose to NCHW, subtract ``255 * mean`` and multiply by ``1 / (255 * std)`` per channel, which is
``(pixel / 255 - mean) / std`` as the float graph's callers compute it. Where the input's only reader is a
Conv with constant FP32 weights, the multiplication is folded into those weights. That fold is exact, border
included: the subtraction stays in front of the Conv, so the Conv still zero-pads a tensor whose zero is the
normalized zero (folding the mean into the bias too would pad with ``-mean / std`` instead, wrong along the border).
Only FP32 weights are folded. An FP16 graph keeps the multiplication (its weights would be rounded twice), and so does
an INT8 graph: its first Conv reads a quantized tensor, and scaling its weights per input channel would change what
is quantized.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from gnet import defaults
from gnet.atomic import atomic_output, ensure_writable_dir
from gnet.checks.images import IMAGENET_MEAN, IMAGENET_STD, ImageSet
from gnet.errors import GnetError
from gnet.export import metadata
from gnet.export.hashing import sha256_file
from gnet.export.weights import LoadedModel
from gnet.precision.convert import PrecisionResult, prove, stamp_file

HEAD = defaults.FRAME_HEAD
_FLOAT_TYPES = {TensorProto.FLOAT: np.float32, TensorProto.FLOAT16: np.float16}


def frame_preprocessing(preprocessing: dict[str, Any]) -> dict[str, Any]:
    """The contract's preprocessing for a frame-input graph: resize and crop as before; no scaling or normalizing
    by the caller (the graph does it), pixels as uint8 in NHWC order."""
    return {**preprocessing, "layout": "NHWC", "dtype": "uint8", "value_range": [0, 255], "normalized_in_graph": True,
            "formula": "the graph takes the resized, cropped RGB pixels as uint8 [N, H, W, 3] and computes "
                       "(pixel / 255 - mean) / std itself"}


def _float_input(model: onnx.ModelProto) -> onnx.ValueInfoProto:
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1 or inputs[0].type.tensor_type.elem_type not in _FLOAT_TYPES:
        raise GnetError("only a graph with one float image input can take camera frames",
                        "this one's input is already frames or not an image")
    dims = inputs[0].type.tensor_type.shape.dim
    if len(dims) != 4 or dims[1].dim_value != 3:
        raise GnetError("only a graph whose input is [batch, 3, height, width] can take camera frames")
    return inputs[0]


def _readers(model: onnx.ModelProto, tensor: str) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if tensor in n.input]


def _foldable_conv(model: onnx.ModelProto, tensor: str) -> onnx.NodeProto | None:
    """The Conv that alone reads ``tensor``, when its weights are an FP32 constant no other node reads; else None
    (the head keeps its multiplication). FP16 weights are not folded: the scaled weights would be rounded to FP16
    a second time, and that costs accuracy where it shows (OpenVINO's BF16 execution on a CPU with BF16:
    docs/precisions.md, "Camera frames")."""
    readers = _readers(model, tensor)
    if len(readers) != 1 or readers[0].op_type != "Conv" or len(readers[0].input) < 2:
        return None
    conv = readers[0]
    weights = {t.name: t for t in model.graph.initializer}.get(conv.input[1])
    if weights is None or weights.data_type != TensorProto.FLOAT or len(_readers(model, conv.input[1])) != 1:
        return None
    return conv


def _scale_weights(model: onnx.ModelProto, conv: onnx.NodeProto, scale: np.ndarray) -> None:
    """Multiply the Conv's weights by ``scale`` per input channel, computed in float64, stored in their own type."""
    index = next(i for i, t in enumerate(model.graph.initializer) if t.name == conv.input[1])
    old = model.graph.initializer[index]
    values = numpy_helper.to_array(old)
    scaled = (values.astype(np.float64) * scale.reshape(1, 3, 1, 1)).astype(values.dtype)
    model.graph.initializer[index].CopyFrom(numpy_helper.from_array(scaled, old.name))


def _head(input_name: str, float_type: int, batch: onnx.TensorShapeProto.Dimension, size: tuple[int, int],
          scale: np.ndarray | None) -> tuple[onnx.ValueInfoProto, list[onnx.NodeProto], list[onnx.TensorProto], str]:
    """The frame input, the head's nodes and constants, and the name of the tensor the graph reads after it."""
    dtype = _FLOAT_TYPES[float_type]
    mean = numpy_helper.from_array((255.0 * np.asarray(IMAGENET_MEAN)).astype(dtype).reshape(1, 3, 1, 1),
                                   f"{HEAD}/mean_255")
    frame = helper.make_tensor_value_info(input_name, TensorProto.UINT8, ["?", *size, 3])
    frame.type.tensor_type.shape.dim[0].CopyFrom(batch)
    nodes = [
        helper.make_node("Cast", [input_name], [f"{HEAD}/float"], name=f"{HEAD}/cast", to=float_type),
        helper.make_node("Transpose", [f"{HEAD}/float"], [f"{HEAD}/nchw"], name=f"{HEAD}/nchw", perm=[0, 3, 1, 2]),
        helper.make_node("Sub", [f"{HEAD}/nchw", mean.name], [f"{HEAD}/centred"], name=f"{HEAD}/subtract_mean"),
    ]
    constants = [mean]
    if scale is None:
        return frame, nodes, constants, f"{HEAD}/centred"
    inverse = numpy_helper.from_array(scale.astype(dtype).reshape(1, 3, 1, 1), f"{HEAD}/inverse_std_255")
    nodes.append(helper.make_node("Mul", [f"{HEAD}/centred", inverse.name], [f"{HEAD}/normalized"],
                                  name=f"{HEAD}/divide_std"))
    return frame, nodes, [*constants, inverse], f"{HEAD}/normalized"


def frame_input_graph(model: onnx.ModelProto) -> tuple[onnx.ModelProto, bool]:
    """``model`` with a uint8 NHWC input in place of its float NCHW one, and whether the normalization's scale was
    folded into the first Conv (see the module's docstring)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    source = _float_input(out)
    dims = source.type.tensor_type.shape.dim
    scale = 1.0 / (255.0 * np.asarray(IMAGENET_STD, np.float64))
    conv = _foldable_conv(out, source.name)
    if conv is not None:
        _scale_weights(out, conv, scale)
    frame, nodes, constants, reads = _head(source.name, source.type.tensor_type.elem_type, dims[0],
                                           (dims[2].dim_value, dims[3].dim_value), None if conv else scale)
    for node in out.graph.node:
        node.input[:] = [reads if name == source.name else name for name in node.input]
    body = list(out.graph.node)
    del out.graph.node[:]
    out.graph.node.extend([*nodes, *body])
    out.graph.initializer.extend(constants)
    position = list(out.graph.input).index(source)
    out.graph.input[position].CopyFrom(frame)
    onnx.checker.check_model(out)
    return out, conv is not None


def write_frame_input(loaded: LoadedModel, float_onnx: Path, output: Path, evaluation: ImageSet,
                      reference: np.ndarray, batches: Sequence[int] | None = None) -> PrecisionResult:
    """``float_onnx`` (a gnet graph of any precision) as a frame-input graph at ``output``, proven against PyTorch's
    ``reference`` on the same images fed as frames, then written atomically; its metadata records the input type."""
    ensure_writable_dir(output)
    model = onnx.load(str(float_onnx))
    meta = dict(metadata.read(model))
    frames, folded = frame_input_graph(model)
    meta.update(input_type=defaults.FRAME_INPUT, preprocessing=frame_preprocessing(meta.get("preprocessing") or {}),
                normalization_folded=folded, float_onnx_sha256=sha256_file(float_onnx))
    meta.setdefault("source_onnx_sha256", meta["float_onnx_sha256"])  # an FP32 graph's frames: FP32 is the source
    with atomic_output(output) as tmp:
        onnx.save(frames, str(tmp))
        meta = stamp_file(tmp, meta)
        report = prove(tmp, output.name, str(meta["precision"]), loaded, evaluation, reference, batches)
    return PrecisionResult(path=output, parity=report, metadata=meta)
