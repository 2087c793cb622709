"""Where a graph that fails its parity check broke: the first layer, in graph order, that leaves the FP32 graph.

A parity failure says that the logits are wrong, not where. gnet's FP16 and INT8 graphs keep the FP32 graph's
node and tensor names, so every tensor of the candidate can be held against its FP32 namesake on a few of the
parity images. Three kinds of evidence, in this order:

* a tensor that is NaN or infinite (an FP16 layer whose output left FP16's range): the first one is the culprit,
  and no FP32 graph is needed to find it;
* a layer's weights as the graph computes them (an INT8 graph's dequantized weights, an FP16 graph's weights)
  against the FP32 graph's: a swapped or collapsed per-channel scale shows here and nowhere earlier;
* activations: the first tensor whose SQNR against the FP32 graph falls below :data:`ACTIVATION_FLOOR_DB`.

Without the FP32 graph beside the candidate, a Q/DQ graph still shows its own quantizers (each one's input
against its dequantized output): a scale or zero point that its QuantizeLinear and DequantizeLinear disagree on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from gnet.checks.images import IMAGENET_STD, ImageSet, graph_feed
from gnet.checks.ort import cpu_session, input_dtype
from gnet.checks.sqnr import LayerNoise, graph_constants, sqnr_db
from gnet.defaults import FRAME_HEAD
from gnet.errors import GnetError

DIAGNOSIS_IMAGES = 4
CHUNK_IMAGES = 8  # every tensor of a chunk is held at once (tens of MB per image at 224 px)
OVERFLOW_IMAGES = 32  # the FP16 range is read on this many parity images: every tensor of each, uncompiled
ACTIVATION_FLOOR_DB = 10.0
WEIGHT_FLOOR_DB = 25.0
"""Floors set between gnet's good graphs and graphs broken on purpose (docs/tolerances.md has the figures): a
good INT8 graph's activations stay well above the first, its per-channel weights above the second."""
HEAD_FLOOR_DB = 50.0
"""A frame graph's head computes what the caller's normalization computed, so only rounding may separate them
(float16's own is about 70 dB below the signal); a mean or scale off by a percent is about 30 dB."""

_FLOAT = ("tensor(float)", "tensor(float16)")


@dataclass(frozen=True)
class Divergence:
    """The first place a candidate graph leaves the FP32 graph."""

    kind: str  # "non-finite", "weights", "activations", "quantizer", or "runtime" (no layer departs)
    node: str  # the node whose output (or, for weights and quantizers, whose input) departs
    op_type: str
    tensor: str
    sqnr_db: float | None = None

    def sentence(self) -> str:
        where = f"{self.node} ({self.op_type})"
        if self.kind == "non-finite":
            return f"the first NaN or infinite tensor is {self.tensor}, the output of {where}"
        if self.kind == "weights":
            return (f"the weights of {where} differ from the FP32 graph's: SQNR {self.sqnr_db:.1f} dB "
                    f"(needs {WEIGHT_FLOOR_DB:.0f})")
        if self.kind == "runtime":
            return ("run operator by operator, no layer departs from the FP32 graph: the error comes from how the "
                    "runtime fuses or computes the graph (its integer kernels?)")
        if self.kind == "quantizer":
            return (f"the quantizer of {where}'s input does not give back what it was given: SQNR "
                    f"{self.sqnr_db:.1f} dB (its scale or zero point differs between QuantizeLinear and "
                    f"DequantizeLinear?)")
        return (f"the first layer that departs from the FP32 graph is {where}: its output {self.tensor} has SQNR "
                f"{self.sqnr_db:.1f} dB against the FP32 graph's (needs {ACTIVATION_FLOOR_DB:.0f})")


def _exposed(path: Path) -> tuple[onnx.ModelProto, list[tuple[str, onnx.NodeProto]]]:
    """The model at ``path`` with every node output made a graph output, and those tensors in graph order (the
    runtime says which are floating point: shape inference cannot type every tensor)."""
    model = onnx.load(str(path))
    tensors = [(out, n) for n in model.graph.node for out in n.output if out]
    known = {o.name for o in model.graph.output}
    model.graph.output.extend(onnx.ValueInfoProto(name=name) for name, _ in tensors if name not in known)
    return model, tensors


def _run_all(model: onnx.ModelProto, data: np.ndarray, chunk: int = CHUNK_IMAGES):
    """{floating-point tensor: values} for each chunk of ``data`` (fed as the graph takes it: float16, uint8 frames)."""
    session = cpu_session(model.SerializeToString())
    feed, dtype = session.get_inputs()[0], input_dtype(session)
    names = [o.name for o in session.get_outputs() if o.type in _FLOAT]
    for start in range(0, len(data), chunk):
        values = session.run(names, {feed.name: graph_feed(data[start:start + chunk], dtype)})
        yield {n: np.asarray(v) for n, v in zip(names, values)}


def _all_tensors(path: Path, data: np.ndarray) -> tuple[dict[str, np.ndarray], list[tuple[str, onnx.NodeProto]]]:
    """Every floating-point tensor of ``path`` on ``data`` ({name: values}), and the tensors in graph order."""
    model, order = _exposed(path)
    values = next(_run_all(model, data, len(data)))
    return values, [(tensor, node) for tensor, node in order if tensor in values]


def first_overflow(path: str | Path, images: ImageSet, limit: int = OVERFLOW_IMAGES) -> Divergence | None:
    """The first tensor, in graph order, that is NaN or infinite on any of the first ``limit`` of ``images`` as
    the graph types it.

    CPU runtimes compute most FP16 operators in FP32 and cast back, so an FP16 layer that leaves FP16's range
    (65504) gives right logits on a CPU and NaN on a GPU; reading every tensor in its own type finds it here."""
    model, order = _exposed(Path(path))
    first = len(order)
    for values in _run_all(model, images.data[:limit]):
        first = _first_nonfinite(values, order[:first], first)
    return _nonfinite(order, first)


def _first_nonfinite(values: dict[str, np.ndarray], order: list[tuple[str, onnx.NodeProto]], default: int) -> int:
    """The index in ``order`` of the first tensor ``values`` holds a NaN or infinity in, else ``default``."""
    return next((i for i, (tensor, _) in enumerate(order)
                 if tensor in values and not np.isfinite(values[tensor]).all()), default)


def _nonfinite(order: list[tuple[str, onnx.NodeProto]], index: int) -> Divergence | None:
    if index >= len(order):
        return None
    tensor, node = order[index]
    return Divergence("non-finite", node.name, node.op_type, tensor)


def _weights(model: onnx.ModelProto) -> dict[str, tuple[str, np.ndarray]]:
    """{Conv/Gemm name: (weight tensor, its values as the graph computes them)} (a DequantizeLinear of constants
    is evaluated; an FP16 weight is read as is). Unnamed layers cannot be matched across graphs and are left out,
    and so is a Conv fed by a frame graph's head, whose weights carry the normalization's scale (the head itself
    is checked by :func:`_head_divergence`, its output by the activations)."""
    constants = graph_constants(model)
    producer = {out: n for n in model.graph.node for out in n.output}
    weights = {}
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm") or len(node.input) < 2 or not node.name:
            continue
        if node.input[0].startswith(FRAME_HEAD + "/"):  # carries the frame head's folded scale, by design
            continue
        name = node.input[1]
        if name in constants:
            weights[node.name] = (name, constants[name].astype(np.float64))
        elif (dq := producer.get(name)) is not None and dq.op_type == "DequantizeLinear":
            values = _dequantize(dq, constants)
            if values is not None:
                weights[node.name] = (dq.input[0], values)
    return weights


def _dequantize(dq: onnx.NodeProto, constants: dict[str, np.ndarray]) -> np.ndarray | None:
    """The DequantizeLinear's output, when its inputs are all constants (None otherwise)."""
    named = [name for name in dq.input if name]
    if any(name not in constants for name in named):
        return None
    q = constants[dq.input[0]].astype(np.float64)
    scale = constants[dq.input[1]].astype(np.float64)
    zp = constants[dq.input[2]].astype(np.float64) if len(dq.input) > 2 and dq.input[2] else np.zeros_like(scale)
    axis = next((a.i for a in dq.attribute if a.name == "axis"), 1)
    if scale.ndim == 1 and scale.size > 1:
        shape = [1] * q.ndim
        shape[axis] = scale.size
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return (q - zp) * scale


def _first_bad_weights(candidate: onnx.ModelProto, fp32: onnx.ModelProto) -> Divergence | None:
    reference = _weights(fp32)
    kinds = {n.name: n.op_type for n in candidate.graph.node}
    for layer, (tensor, weights) in _weights(candidate).items():
        expected = reference.get(layer, (None, None))[1]
        if expected is not None and expected.shape == weights.shape:
            db = sqnr_db(expected, weights) if np.isfinite(weights).all() else -math.inf
            if db < WEIGHT_FLOOR_DB:
                return Divergence("weights", layer, kinds[layer], tensor, db)
    return None


def _head_divergence(values: dict[str, np.ndarray], order: list[tuple[str, onnx.NodeProto]],
                     data: np.ndarray) -> Divergence | None:
    """A frame-input graph's head (cast, layout, normalization) against the normalized images it must give back:
    ``frames/normalized`` is the images themselves, ``frames/centred`` (the scale folded into the first Conv) the
    images times 255 × std. Exact arithmetic, so any loss beyond rounding is the head's own fault."""
    std = 255.0 * np.asarray(IMAGENET_STD, np.float64).reshape(1, 3, 1, 1)
    expected = {f"{FRAME_HEAD}/normalized": data, f"{FRAME_HEAD}/centred": data * std}
    for tensor, node in order:
        if tensor in expected and tensor in values:
            db = sqnr_db(expected[tensor], values[tensor])
            if db < HEAD_FLOOR_DB:
                return Divergence("activations", node.name, node.op_type, tensor, db)
    return None


def locate_divergence(candidate: str | Path, fp32: str | Path | None, images: ImageSet,
                      noise: list[LayerNoise] | None = None, limit: int = DIAGNOSIS_IMAGES) -> Divergence | None:
    """The first place ``candidate`` leaves ``fp32`` (both ONNX files) on the first ``limit`` of ``images``,
    or None when nothing stands out; ``noise``: the candidate's own quantizer SQNRs (:func:`layer_noise`),
    the evidence left when no FP32 graph is at hand."""
    data = images.data[:limit]
    values, order = _all_tensors(Path(candidate), data)
    nonfinite = _nonfinite(order, _first_nonfinite(values, order, len(order)))
    if nonfinite is not None:
        return nonfinite
    head = _head_divergence(values, order, data)
    if head is not None:
        return head
    if fp32 is None:
        position = {n.name: i for i, (_, n) in enumerate(order)}
        broken = [row for row in noise or [] if row.sqnr_db < ACTIVATION_FLOOR_DB]
        first = min(broken, key=lambda r: position.get(r.node, len(position)), default=None)
        return None if first is None else Divergence("quantizer", first.node, first.op_type, first.tensor,
                                                     first.sqnr_db)
    bad_weights = _first_bad_weights(onnx.load(str(candidate)), onnx.load(str(fp32)))
    if bad_weights is not None:
        return bad_weights
    reference, reference_order = _all_tensors(Path(fp32), data)
    relu = {tensor for tensor, node in reference_order if node.op_type == "Relu"}
    for tensor, node in order:
        if tensor in reference and reference[tensor].shape == values[tensor].shape:
            # The CPU format folds a ReLU into the quantizer after it: its Conv writes the ReLU's tensor unclipped.
            observed = np.maximum(values[tensor], 0) if tensor in relu and node.op_type != "Relu" else values[tensor]
            db = sqnr_db(reference[tensor], observed)
            if db < ACTIVATION_FLOOR_DB:
                return Divergence("activations", node.name, node.op_type, tensor, db)
    return None


def diagnose(candidate: str | Path, fp32: str | Path | None, images: ImageSet,
             noise: list[LayerNoise] | None = None) -> Divergence | None:
    """For a graph that failed parity: :func:`locate_divergence`, else "the runtime" when no layer departs; None
    when the diagnosis itself cannot run (the parity failure still stands and is reported whole)."""
    try:
        return locate_divergence(candidate, fp32, images, noise) or Divergence("runtime", "", "", "")
    except GnetError:
        return None
