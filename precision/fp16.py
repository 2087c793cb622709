"""FP32 ONNX → FP16 ONNX with onnxconverter-common.

Every Conv, Gemm and pooling op computes in FP16; by default the graph keeps an
FP32 ``input`` and ``logits`` (one Cast at each end, nothing in the body), so
callers feed the same arrays as for FP32. ``io_dtype="fp16"`` makes the I/O FP16
too (no Cast at all), for pipelines that already hold half-precision images.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import onnx
import onnxconverter_common
from onnxconverter_common import float16

from gnet.defaults import IO_DTYPES
from gnet.errors import UsageError


def convert_fp16(fp32: onnx.ModelProto, io_dtype: str = "fp32") -> onnx.ModelProto:
    """The FP16 version of an FP32 model (weights, activations and, with ``io_dtype='fp16'``, I/O)."""
    if io_dtype not in IO_DTYPES:
        raise UsageError(f"unknown --io-dtype {io_dtype!r}", remedy=f"use one of {', '.join(IO_DTYPES)}")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        model = float16.convert_float_to_float16(fp32, keep_io_types=io_dtype == "fp32")
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model


def body_casts(model: onnx.ModelProto) -> list[str]:
    """Cast nodes that are not the I/O boundary (the graph input's or output's own Cast)."""
    inputs = {i.name for i in model.graph.input}
    outputs = {o.name for o in model.graph.output}
    return [n.name for n in model.graph.node
            if n.op_type == "Cast" and not (set(n.input) & inputs or set(n.output) & outputs)]


def converter_version() -> str:
    return f"onnxconverter-common {onnxconverter_common.__version__}"
