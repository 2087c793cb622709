"""Where INT8 hurts: the signal-to-quantization-noise ratio at the input of each Conv and Gemm.

Both models are run with every intermediate tensor exposed (ONNX Runtime's own
``onnxruntime.quantization.qdq_loss_debug`` augments and runs them), then for
each quantized activation we compare the tensor before and after its Q/DQ pair
(the noise this one quantization adds) and, when the FP32 model is at hand, the
FP32 model's tensor with the dequantized one (the noise accumulated up to that
point). The ratio is gnet's own, not ``qdq_loss_debug``'s: computed in float64
(FP16 tensors would overflow numpy's float16 dot product), and against the
signal the quantizer is meant to carry: the CPU format folds each ReLU into a
u8 quantizer (zero point 0) fed by the pre-ReLU Conv output, and the negatives
it clips are the ReLU's work, not quantization noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime.quantization import qdq_loss_debug

from gnet.atomic import scratch_dir
from gnet.checks.images import ImageSet, graph_feed
from gnet.checks.ort import cpu_session, run_batched
from gnet.errors import GnetError

SQNR_IMAGES = 16

# The integer range of each QuantizeLinear output type (ONNX TensorProto element types).
_QRANGE = {
    onnx.TensorProto.UINT8: (0, 255), onnx.TensorProto.INT8: (-128, 127),
    onnx.TensorProto.UINT16: (0, 65535), onnx.TensorProto.INT16: (-32768, 32767),
}


@dataclass(frozen=True)
class LayerNoise:
    """Quantization noise at the activation input of one weighted layer."""

    node: str
    op_type: str
    tensor: str
    sqnr_db: float  # this tensor's own Q/DQ: the signal it should carry vs dequantized
    accumulated_db: float | None  # FP32 model's tensor vs the Q/DQ model's, when the FP32 model is given


@dataclass(frozen=True)
class QdqPair:
    """One quantized Conv/Gemm activation input: what was quantized and what the layer reads."""

    node: onnx.NodeProto
    tensor: str  # the QuantizeLinear's input (its name is the FP32 model's tensor of the same meaning)
    dequantized: str  # the DequantizeLinear's output, the layer's input
    folds_relu: bool  # the quantizer represents no negatives: it also does the ReLU the quantizer removed


def sqnr_db(signal: Sequence[np.ndarray] | np.ndarray, candidate: Sequence[np.ndarray] | np.ndarray) -> float:
    """10·log10(‖signal‖² / ‖candidate − signal‖²) in float64; +inf when they are equal.

    Float64 because FP16 tensors squared and summed overflow float16 (and float32 sums lose the noise of a
    large tensor); non-finite values (an FP16 graph that overflowed) are refused, not turned into warnings.
    """
    s = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in _listed(signal)])
    c = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in _listed(candidate)])
    if s.shape != c.shape:
        raise GnetError("cannot compare tensors for SQNR", f"{s.size} values against {c.size}")
    if not (np.isfinite(s).all() and np.isfinite(c).all()):
        raise GnetError("cannot compute an SQNR", "a tensor holds inf or NaN (did an FP16 graph overflow?)")
    power = float(np.dot(s, s))
    noise = float(np.dot(c - s, c - s))
    if noise == 0.0:
        return math.inf
    return -math.inf if power == 0.0 else 10.0 * math.log10(power / noise)


def _listed(x: Sequence[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    return [x] if isinstance(x, np.ndarray) else list(x)


def graph_constants(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """{name: value} of every initializer and Constant node."""
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:  # exporters also write scales as Constant nodes
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def _folds_relu(q: onnx.NodeProto, constants: dict[str, np.ndarray]) -> bool:
    """True when the quantizer's lowest representable value, (qmin − zero point)·scale, is 0 everywhere.

    ONNX Runtime gives a tensor such a quantizer only when its calibrated range starts at 0, i.e. after a
    ReLU; in the CPU format the ReLU node is then removed and this quantizer clips the negatives instead."""
    scale = constants.get(q.input[1])
    zp = constants.get(q.input[2]) if len(q.input) > 2 and q.input[2] else np.zeros((), np.uint8)
    if scale is None or zp is None:
        return False  # a computed scale: nothing to read, so no clipping is assumed
    element = onnx.helper.np_dtype_to_tensor_dtype(zp.dtype)
    if element not in _QRANGE:
        return False  # float8/int4 types: not produced by gnet
    qmin = _QRANGE[element][0]
    floor = (qmin - zp.astype(np.float64)) * scale.astype(np.float64)
    return bool(np.all(floor == 0.0))


def qdq_pairs(model: onnx.ModelProto) -> list[QdqPair]:
    """Each Conv/Gemm whose activation input comes through QuantizeLinear → DequantizeLinear, in graph order."""
    producer = {out: n for n in model.graph.node for out in n.output}
    constants = graph_constants(model)
    pairs = []
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm"):
            continue
        dq = producer.get(node.input[0])
        if dq is None or dq.op_type != "DequantizeLinear":
            continue  # left in floating point (--keep-fp)
        q = producer.get(dq.input[0])
        if q is None or q.op_type != "QuantizeLinear":
            continue  # a stored integer tensor: no floating-point original to compare with
        pairs.append(QdqPair(node, q.input[0], dq.output[0], _folds_relu(q, constants)))
    return pairs


class _Reader:
    def __init__(self, name: str, data: np.ndarray) -> None:
        self._items = iter([{name: data[i:i + 1]} for i in range(len(data))])

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._items)


def _activations(model_path: Path, images: np.ndarray, work: Path, tag: str) -> dict[str, list[np.ndarray]]:
    augmented = work / f"{tag}.onnx"
    qdq_loss_debug.modify_model_output_intermediate_tensors(str(model_path), str(augmented))
    feed = onnx.load(str(model_path), load_external_data=False).graph.input[0]
    dtype = onnx.helper.tensor_dtype_to_np_dtype(feed.type.tensor_type.elem_type)  # float16 (FP16 I/O) or uint8
    return qdq_loss_debug.collect_activations(str(augmented), _Reader(feed.name, graph_feed(images, dtype)))


def layer_noise(qdq_onnx: str | Path, images: ImageSet, fp32_onnx: str | Path | None = None,
                limit: int = SQNR_IMAGES) -> list[LayerNoise]:
    """SQNR (dB) at each quantized Conv/Gemm input, lowest first."""
    data = images.data[:limit]
    pairs = qdq_pairs(onnx.load(str(qdq_onnx), load_external_data=False))
    with scratch_dir("sqnr") as tmp:
        work = Path(tmp)
        qdq_acts = _activations(Path(qdq_onnx), data, work, "qdq")
        float_acts = _activations(Path(fp32_onnx), data, work, "fp32") if fp32_onnx else {}
    rows = []
    for pair in pairs:
        pre, post = qdq_acts.get(pair.tensor), qdq_acts.get(pair.dequantized)
        if pre is None or post is None:
            continue  # not a float tensor the debugger could expose
        # The signal this quantizer should carry: the pre-ReLU tensor through the ReLU it also does.
        signal = [np.maximum(np.asarray(a, np.float64), 0.0) for a in pre] if pair.folds_relu else pre
        reference = float_acts.get(pair.tensor)
        rows.append(LayerNoise(pair.node.name, pair.node.op_type, pair.tensor, sqnr_db(signal, post),
                               None if reference is None else sqnr_db(reference, post)))
    return sorted(rows, key=lambda r: r.sqnr_db)


def output_sqnr_db(onnx_path: str | Path, images: ImageSet, reference: np.ndarray, batch: int = 8) -> float:
    """End to end: SQNR of the model's logits on ``images`` against ``reference`` logits on the same images
    (PyTorch FP32's, or the FP32 ONNX's): what keeping a layer in floating point must raise."""
    logits = run_batched(cpu_session(onnx_path), images.data[:len(reference)], batch)
    return sqnr_db(reference, logits)


# A layer is worth ``--keep-fp`` only when its own Q/DQ noise is at least this share of all the layers' own noise
# (each as power, 10^(-SQNR/10)): removing it then removes at least a quarter of the noise the quantizers add. Own
# SQNRs are Q/DQ round trips in float, the same on every CPU, unlike the logits' SQNR, which ONNX Runtime's int8
# kernels make CPU-dependent. The bound sits between good graphs and graphs with one or two coarse layers
# (docs/precisions.md, "--keep-fp", has the measurements).
KEEP_FP_MIN_SHARE = 0.25


def noise_shares(rows: list[LayerNoise]) -> list[float]:
    """Each row's share of the summed own quantization noise power (10^(-SQNR/10), relative to each signal).

    Powers are taken relative to the loudest row's, so none overflows; a row with no signal at all (−inf dB)
    holds all the noise (shared with any others like it), and rows without noise (+inf dB) hold none."""
    loudest = min((row.sqnr_db for row in rows), default=math.inf)
    if loudest == math.inf:
        return [0.0] * len(rows)
    if loudest == -math.inf:
        powers = [1.0 if row.sqnr_db == -math.inf else 0.0 for row in rows]
    else:
        powers = [10.0 ** ((loudest - row.sqnr_db) / 10.0) for row in rows]  # +inf dB gives 0.0
    total = sum(powers)
    return [power / total for power in powers]


def keep_fp_candidates(rows: list[LayerNoise], output_db: float | None) -> list[LayerNoise]:
    """The layers worth ``--keep-fp``: those whose own quantization noise is a large share of all the layers' own
    noise (at least ``KEEP_FP_MIN_SHARE``) and louder than all the noise that reaches the logits (own SQNR below
    the logits' SQNR against FP32). Many layers of similar noise (a good INT8 graph) mark none: keeping any one of
    them in floating point gains next to nothing, whatever their SQNR against the logits' (docs/precisions.md has
    the measurements); when the logits are unknown or not finite there is nothing to compare."""
    if output_db is None or not math.isfinite(output_db):
        return []
    return [row for row, share in zip(rows, noise_shares(rows))
            if share >= KEEP_FP_MIN_SHARE and row.sqnr_db < output_db]
