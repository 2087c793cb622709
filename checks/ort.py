"""ONNX Runtime sessions on the CPU, for parity checks (the benchmark has its own tuned runners)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from gnet.checks.images import graph_feed
from gnet.errors import GnetError, first_line


def load_onnx(path: str | Path) -> onnx.ModelProto:
    """Load and fully check an ONNX file, turning any defect into one sentence."""
    file = Path(path)
    if not file.is_file():
        raise GnetError(f"ONNX file {file} does not exist")
    try:
        model = onnx.load(str(file))
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # DecodeError, ValidationError, InferenceError: all mean "not a valid model"
        raise GnetError(f"{file} is not a valid ONNX model", first_line(exc)) from None
    return model


def cpu_session(model: str | Path | bytes, threads: int | None = None,
                options: ort.SessionOptions | None = None) -> ort.InferenceSession:
    """A CPU InferenceSession of ``model`` (a path, or the bytes of one) with ``options`` (None: ONNX Runtime's
    defaults, logging warnings off, ``threads`` intra-op threads when given); a file ONNX Runtime refuses becomes
    a GnetError. The one place gnet opens ONNX Runtime sessions: checks, the runners and the bench's rows."""
    if options is None:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
    source = model if isinstance(model, bytes) else str(model)
    try:
        return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own Fail/InvalidGraph types
        raise GnetError(f"ONNX Runtime cannot load {model if not isinstance(model, bytes) else 'the model'}",
                        first_line(exc)) from None


_DTYPES = {"tensor(float16)": np.float16, "tensor(uint8)": np.uint8}


def input_dtype(session: ort.InferenceSession) -> type:
    """The numpy type of the session's first input: float32, float16 (FP16 I/O) or uint8 (camera frames)."""
    return _DTYPES.get(session.get_inputs()[0].type, np.float32)


def run_batched(session: ort.InferenceSession, data: np.ndarray, batch: int) -> np.ndarray:
    """Run ``data`` (normalized float NCHW) through a single-input, single-output session ``batch`` images at a time,
    fed as the session's input takes it (:func:`gnet.checks.images.graph_feed`)."""
    feed = session.get_inputs()[0]
    dtype = input_dtype(session)
    outputs = []
    for start in range(0, len(data), batch):
        chunk = graph_feed(data[start:start + batch], dtype)
        outputs.append(session.run(None, {feed.name: chunk})[0])
    return np.concatenate(outputs).astype(np.float32)
