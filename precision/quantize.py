"""FP32 ONNX → INT8 Q/DQ ONNX with ONNX Runtime's quantizer, for TensorRT or for CPUs.

Two targets, one calibration:

* ``tensorrt`` (default): what TensorRT's explicit quantization wants
  (../shared/TRT_API.md §4): symmetric int8 with zero point 0, per-channel
  weights, per-tensor activations, Q/DQ on the inputs of Conv and Gemm (and of
  the pooling and Concat ops they feed through), never on their outputs, no
  INT32 bias.
* ``cpu``: uint8 activations and int8 weights (per channel), every op type ONNX
  Runtime's CPU provider can run quantized; that format is what its AVX2 kernels
  (u8s8) are fast at.

For both, gnet edits the calibrated ranges before quantizing, which ONNX
Runtime's quantizer cannot express itself: all inputs and the output of each
Concat share one range (one scale, so the concatenation is a copy, not a
re-quantization: TensorRT needs no reformatting, and ONNX Runtime's
QLinearConcat time drops by two thirds), and each MaxPool's output keeps its
input's range (MaxPool commutes with Q/DQ, so it runs in int8 unchanged).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import onnx
import onnxruntime
from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.calibrate import save_tensors_data

from gnet.atomic import scratch_dir
from gnet.checks.sqnr import qdq_pairs
from gnet.defaults import INT8_TARGETS
from gnet.errors import UsageError
from gnet.precision.calibration import CALIBRATION_METHODS, Calibration

TRT_OP_TYPES = ["Conv", "Gemm", "MaxPool", "AveragePool", "GlobalAveragePool", "Concat"]


@dataclass(frozen=True)
class QuantRecipe:
    """The quantizer settings of one target, recorded in the artifact's metadata."""

    target: str
    activation_type: str
    weight_type: str
    per_channel: bool
    reduce_range: bool
    op_types: tuple[str, ...] | None
    extra_options: dict

    def to_dict(self) -> dict:
        return {
            "target": self.target, "activation_type": self.activation_type, "weight_type": self.weight_type,
            "per_channel": self.per_channel, "reduce_range": self.reduce_range,
            "op_types": list(self.op_types) if self.op_types else "all", "extra_options": self.extra_options,
        }


def recipe_for(target: str) -> QuantRecipe:
    """The quantizer settings for ``tensorrt`` or ``cpu``."""
    if target == "tensorrt":
        return QuantRecipe(
            target="tensorrt", activation_type="QInt8", weight_type="QInt8", per_channel=True, reduce_range=False,
            op_types=tuple(TRT_OP_TYPES),
            extra_options={
                "ActivationSymmetric": True,  # zero point 0: TensorRT rejects any other
                "WeightSymmetric": True,
                "QuantizeBias": False,  # TensorRT cannot import an INT32 bias DequantizeLinear
                "QDQOpTypePerChannelSupportToAxis": {"Conv": 0},
                "OpTypesToExcludeOutputQuantization": list(TRT_OP_TYPES),  # inputs only
                "ForceQuantizeNoInputCheck": True,
            },
        )
    if target == "cpu":
        return QuantRecipe(
            # reduce_range: 7-bit weights, so AVX2's u8*s8 pair sums (vpmaddubsw) cannot saturate int16;
            # ORT's advice for CPUs without VNNI, and measured on the fixture: cosine 0.9987 instead of 0.968.
            target="cpu", activation_type="QUInt8", weight_type="QInt8", per_channel=True, reduce_range=True,
            op_types=None, extra_options={},
        )
    raise UsageError(f"unknown INT8 target {target!r}", remedy=f"use one of {', '.join(INT8_TARGETS)}")


def shared_ranges(model: onnx.ModelProto, ranges: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Give each Concat's inputs and output one range, and each MaxPool's output its input's range."""
    out = dict(ranges)
    for node in model.graph.node:
        if node.op_type == "Concat":
            names = [n for n in [*node.input, *node.output] if n in out]
            if names:
                low = min(out[n][0] for n in names)
                high = max(out[n][1] for n in names)
                for n in names:
                    out[n] = (low, high)
    # MaxPool after the Concat pass, walking in graph order so chains inherit the shared range.
    for node in model.graph.node:
        if node.op_type == "MaxPool" and node.input[0] in out:
            out[node.output[0]] = out[node.input[0]]
    return out


def quantize(
    fp32_onnx: str | Path,
    output: str | Path,
    calibration: Calibration,
    target: str = "tensorrt",
    keep_fp: Sequence[str] = (),
) -> QuantRecipe:
    """Write the Q/DQ model of ``fp32_onnx`` to ``output`` using the calibrated ranges."""
    recipe = recipe_for(target)
    model = onnx.load(str(fp32_onnx))
    known = {n.name for n in model.graph.node}
    unknown = [n for n in keep_fp if n not in known]
    if unknown:
        raise UsageError(f"--keep-fp names no node of the model: {', '.join(unknown)}",
                         remedy="see `gnet check` for node names")
    calib = Calibration(calibration.key, shared_ranges(model, calibration.ranges), calibration.cache_path, calibration.reused)
    with scratch_dir("quant") as tmp:
        cache = Path(tmp) / "ranges.json"
        save_tensors_data(calib.tensors_data(), cache)
        logger = logging.getLogger()
        level = logger.level
        logger.setLevel(logging.ERROR)  # the quantizer logs advice that does not apply (pre-processing)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                quantize_static(
                    str(fp32_onnx), str(output), None,
                    quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=list(recipe.op_types) if recipe.op_types else None,
                    per_channel=recipe.per_channel,
                    reduce_range=recipe.reduce_range,
                    activation_type=getattr(QuantType, recipe.activation_type),
                    weight_type=getattr(QuantType, recipe.weight_type),
                    nodes_to_exclude=list(keep_fp) or None,
                    calibrate_method=CALIBRATION_METHODS[calibration.key.method],
                    extra_options=dict(recipe.extra_options),
                    calibration_cache_path=str(cache),
                )
        finally:
            logger.setLevel(level)
    if keep_fp:
        kept = onnx.load(str(output))
        read_in_float(kept, keep_fp)
        onnx.save(kept, str(output))
    return recipe


def read_in_float(model: onnx.ModelProto, keep_fp: Sequence[str]) -> None:
    """Make each kept layer read its activation in floating point, as ``--keep-fp`` promises.

    ONNX Runtime leaves a kept Conv's weights in floating point, but where the layer before it quantizes its
    output (the CPU format quantizes every op) the kept layer still reads that tensor through a Q/DQ pair: the
    very noise `gnet check` measured. The layer is rewired to the tensor before the pair, through a ReLU where
    the quantizer did the ReLU's clipping (the CPU format removes ReLUs into u8 quantizers); pairs left unread
    are removed."""
    for pair in qdq_pairs(model):
        if pair.node.name not in keep_fp:
            continue
        source = pair.tensor
        if pair.folds_relu:
            source = f"{pair.tensor}_relu_for_{pair.node.name}"
            model.graph.node.insert(list(model.graph.node).index(pair.node),
                                    onnx.helper.make_node("Relu", [pair.tensor], [source], name=source))
        pair.node.input[0] = source
    _drop_unread(model)


def _drop_unread(model: onnx.ModelProto) -> None:
    """Remove Q/DQ nodes whose outputs nothing reads any more (repeated: a Q is unread once its DQs are gone), then
    the initializers nothing reads."""
    outputs = {o.name for o in model.graph.output}
    while True:
        read = {name for n in model.graph.node for name in n.input} | outputs
        unread = [n for n in model.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")
                  and not any(o in read for o in n.output)]
        if not unread:
            break
        for node in unread:
            model.graph.node.remove(node)
    read = {name for n in model.graph.node for name in n.input}
    for tensor in [t for t in model.graph.initializer if t.name not in read]:
        model.graph.initializer.remove(tensor)  # the removed pairs' scales and zero points


def onnxruntime_version() -> str:
    return onnxruntime.__version__
