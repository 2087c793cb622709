"""Where INT8 hurts: the signal-to-quantization-noise ratio at the input of each Conv and Gemm.

Built on ONNX Runtime's own debugging tools (``onnxruntime.quantization.qdq_loss_debug``):
both models are run with every intermediate tensor exposed, then for each
quantized activation we compare the tensor before and after its Q/DQ pair (the
noise this one quantization adds) and, when the FP32 model is at hand, against
the FP32 model's tensor (the noise accumulated up to that point).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import qdq_loss_debug

from gnet.atomic import scratch_dir
from gnet.export.images import ImageSet

SQNR_IMAGES = 16


@dataclass(frozen=True)
class LayerNoise:
    """Quantization noise at the activation input of one weighted layer."""

    node: str
    op_type: str
    tensor: str
    sqnr_db: float  # this tensor's own Q/DQ: pre-quantization vs dequantized
    accumulated_db: float | None  # FP32 model's tensor vs the Q/DQ model's, when the FP32 model is given


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
    name = onnx.load(str(model_path), load_external_data=False).graph.input[0].name
    return qdq_loss_debug.collect_activations(str(augmented), _Reader(name, images))


def layer_noise(qdq_onnx: str | Path, images: ImageSet, fp32_onnx: str | Path | None = None,
                limit: int = SQNR_IMAGES) -> list[LayerNoise]:
    """SQNR (dB) at each quantized Conv/Gemm input, lowest first."""
    data = images.data[:limit]
    qdq_model = onnx.load(str(qdq_onnx), load_external_data=False)
    with scratch_dir("sqnr") as tmp:
        work = Path(tmp)
        qdq_acts = _activations(Path(qdq_onnx), data, work, "qdq")
        float_acts = _activations(Path(fp32_onnx), data, work, "fp32") if fp32_onnx else None
    errors = qdq_loss_debug.compute_activation_error(qdq_loss_debug.create_activation_matching(qdq_acts, float_acts))
    producer = {out: n for n in qdq_model.graph.node for out in n.output}
    rows = []
    for node in qdq_model.graph.node:
        if node.op_type not in ("Conv", "Gemm"):
            continue
        dq = producer.get(node.input[0])
        if dq is None or dq.op_type != "DequantizeLinear":
            continue  # left in floating point (--keep-fp)
        q = producer.get(dq.input[0])
        tensor = q.input[0] if q is not None and q.op_type == "QuantizeLinear" else dq.input[0]
        err = errors.get(tensor)
        if err is None:
            continue
        rows.append(LayerNoise(node.name, node.op_type, tensor, float(err["qdq_err"]),
                               float(err["xmodel_err"]) if "xmodel_err" in err else None))
    return sorted(rows, key=lambda r: r.sqnr_db)
