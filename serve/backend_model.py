"""gnet's Triton python-backend model: copied as ``model.py`` into the repository ``gnet serve`` generates.

It runs inside Triton's python-backend stub, one stub process per model instance, where only the
standard library, numpy<2, onnxruntime and Triton's ``triton_python_backend_utils`` exist: it imports
nothing from gnet (the names below repeat ``gnet.defaults``; ``tests/serve/test_backend_model.py``
checks they agree).

Each instance keeps one ONNX Runtime CPU session. ``execute`` receives the requests Triton's dynamic
batcher grouped and answers **each request with its own response**: a request with NaN/Inf pixels gets
an ``INVALID_ARG`` error naming the problem, and the other requests of the same batch are answered
normally (PyTriton, by contrast, has one error per call: one bad request failed every request batched
with it). Triton itself refuses a wrong shape, dtype, input name or a batch over the maximum before
the model sees it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence

import numpy as np

INPUT = "input"
OUTPUT = "logits"
PARAM_ONNX_FILE = "onnx_file"
PARAM_THREADS = "intra_op_threads"
FAILURE_METRIC = "gnet_inference_request_failure"


class Invalid(str):
    """The text of an error the client caused (answered ``INVALID_ARG``)."""


class Failed(str):
    """The text of an error the model hit on a valid request (answered ``INTERNAL``)."""


def problem(array: np.ndarray) -> str:
    """Why a request cannot be answered ("" when it can): non-finite pixels (a sum is the fast path)."""
    if np.isfinite(array.sum(dtype=np.float64)):
        return ""
    bad = int(array.size - np.count_nonzero(np.isfinite(array)))
    if not bad:
        return ""  # finite values whose sum overflowed
    return f"input '{INPUT}' has {bad} NaN/Inf value(s) in this request; send finite float32 pixels"


def bad_output(logits: np.ndarray) -> str:
    """Why a request's logits cannot be answered ("" when they can)."""
    if np.isfinite(logits).all():
        return ""
    return (f"the model's '{OUTPUT}' for this request are NaN/Inf: its pixels are finite but far outside what the "
            "model takes (send normalised float32 pixels)")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def answer(arrays: Sequence[np.ndarray], run: Callable[[np.ndarray], np.ndarray]) -> list[np.ndarray | str]:
    """Per request: its logits, or the text of its error (:class:`Invalid` or :class:`Failed`).

    Every valid request goes through one ``run`` together. If that run fails, each is run on its own,
    so that only a request the model cannot answer gets an error.
    """
    results: list[np.ndarray | str] = [Invalid(p) if (p := problem(a)) else "" for a in arrays]
    good = [i for i, r in enumerate(results) if not r]
    if not good:
        return results
    try:
        logits = run(arrays[good[0]] if len(good) == 1 else np.concatenate([arrays[i] for i in good]))
    except Exception as exc:  # noqa: BLE001 - answered per request below, never a whole batch's failure
        if len(good) == 1:
            results[good[0]] = Failed(f"the model failed on this request: {_first_line(exc)}")
            return results
        for i in good:
            results[i] = answer([arrays[i]], run)[0]
        return results
    start = 0
    for i in good:
        size = int(arrays[i].shape[0])
        mine = logits[start:start + size]
        results[i] = Invalid(why) if (why := bad_output(mine)) else mine
        start += size
    return results


def parameters(model_config: dict) -> dict[str, str]:
    """The config's ``parameters`` as plain strings."""
    return {key: value.get("string_value", "") for key, value in model_config.get("parameters", {}).items()}


class TritonPythonModel:
    """The class Triton's python backend instantiates once per model instance."""

    def initialize(self, args: dict) -> None:
        import onnxruntime as ort

        params = parameters(json.loads(args["model_config"]))
        path = os.path.join(args["model_repository"], args["model_version"], params[PARAM_ONNX_FILE])
        options = ort.SessionOptions()
        options.log_severity_level = 3
        threads = int(params.get(PARAM_THREADS) or 0)
        if threads > 0:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        feed = self.session.get_inputs()[0]
        self.dtype = np.float16 if feed.type == "tensor(float16)" else np.float32  # fp16-I/O graphs: cast here
        import triton_python_backend_utils as pb_utils

        # the family must outlive its metrics, so the instance keeps both
        self.failure_family = pb_utils.MetricFamily(name=FAILURE_METRIC, kind=pb_utils.MetricFamily.COUNTER,
                                                    description="Requests answered with an error (Triton counts "
                                                                "them as successes)")
        self.failures = {reason: self.failure_family.Metric(labels={"model": args["model_name"], "reason": reason})
                         for reason in ("invalid", "failed")}

    def _run(self, batch: np.ndarray) -> np.ndarray:
        out = self.session.run([OUTPUT], {INPUT: np.ascontiguousarray(batch, dtype=self.dtype)})[0]
        return np.ascontiguousarray(out, dtype=np.float32)

    def execute(self, requests: list) -> list:
        import triton_python_backend_utils as pb_utils

        arrays = [pb_utils.get_input_tensor_by_name(request, INPUT).as_numpy() for request in requests]
        responses = []
        for result in answer(arrays, self._run):
            if isinstance(result, str):
                invalid = isinstance(result, Invalid)
                self.failures["invalid" if invalid else "failed"].increment(1)
                code = pb_utils.TritonError.INVALID_ARG if invalid else pb_utils.TritonError.INTERNAL
                error = pb_utils.TritonError(result, code)
                responses.append(pb_utils.InferenceResponse(output_tensors=[], error=error))
            else:
                responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor(OUTPUT, result)]))
        return responses

    def finalize(self) -> None:
        self.session = None
        self.failures = {}
        self.failure_family = None
