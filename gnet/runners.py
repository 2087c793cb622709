"""One runner per runtime that a user opens and calls outside the bench, after Polygraphy's runners.

    with gnet.runners.OpenVINORunner("artifacts/googlenet_int8_cpu.qdq.onnx") as runner:
        logits = runner.infer(images)            # float32 NCHW in, float32 [batch, classes] out

Loading (``activate``, or entering the ``with``) is apart from running (``infer``), so timing ``infer`` times
inference only. Every runner takes what gnet writes (an :class:`gnet.pipeline.Artifact` or ``Engine``, or a
path) and refuses what it cannot run in one sentence (:class:`gnet.errors.GnetError`). The bench's runners
(``gnet.bench.runners``) open their sessions, compiled models and engines here (:func:`onnxruntime_session`,
:func:`read_openvino` and :func:`compile_openvino`, :class:`TensorRTRunner`) and add variants, tuning and timing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gnet.errors import GnetError, UsageError


def _path(model: Any) -> Path:
    """The file of an Artifact, an Engine or a path."""
    return Path(getattr(model, "path", None) or getattr(model, "plan", None) or model)


class _Runner:
    """``activate`` loads, ``infer`` runs, ``deactivate`` frees; a context manager does the first and last."""

    name = "runner"

    def __init__(self, model: Any) -> None:
        self.path = _path(model)
        self._loaded: Any = None

    def activate(self):
        """Load the model (once); returns the runner, so ``Runner(path).activate().infer(x)`` reads as it runs."""
        if self._loaded is None:
            self._loaded = self._load()
        return self

    def deactivate(self) -> None:
        self._loaded = None

    @property
    def is_active(self) -> bool:
        return self._loaded is not None

    def infer(self, images: np.ndarray) -> np.ndarray:
        """Normalized float NCHW images → float32 logits ``[batch, classes]``; an artifact exported with
        ``--input-type uint8-nhwc`` also takes its uint8 NHWC frames as they are."""
        if self._loaded is None:
            raise GnetError(f"the {self.name} runner of {self.path.name} is not active",
                            remedy="use it in a with-block, or call activate() first")
        array = np.asarray(images)
        if len(array) == 0:
            raise UsageError("a batch must hold at least one image")
        if array.dtype != np.uint8:  # frames go as they are; anything else as float32 images, checked finite
            array = np.ascontiguousarray(array, dtype=np.float32)
            if not np.isfinite(array).all():
                raise UsageError("the images hold NaN or infinite values", remedy="check how they were preprocessed")
        return np.asarray(self._run(array), dtype=np.float32)

    def _load(self) -> Any:
        raise NotImplementedError

    def _run(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __enter__(self):
        self.activate()
        return self

    def __exit__(self, *_: object) -> None:
        self.deactivate()


def onnxruntime_session(path: str | Path, options: Any = None) -> Any:
    """An ONNX Runtime CPU session of ``path`` with ``options`` (None: ONNX Runtime's defaults, as a user gets them,
    its warnings off); a file ONNX Runtime refuses is one sentence (:func:`gnet.checks.ort.cpu_session`, the one
    place sessions are opened). The bench's ``ort-cpu`` rows open every session here."""
    from gnet.checks.ort import cpu_session

    return cpu_session(path, options=options)


class OnnxRuntimeRunner(_Runner):
    """An ONNX file on ONNX Runtime's CPU provider (an FP16-I/O graph gets its input cast here)."""

    name = "ONNX Runtime"

    def __init__(self, model: Any, threads: int | None = None, options: Any = None) -> None:
        super().__init__(model)
        self.threads = threads
        self.options = options  # an onnxruntime.SessionOptions; None: ONNX Runtime's defaults (threads applied)

    @property
    def session(self) -> Any:
        """The loaded ``onnxruntime.InferenceSession`` (None until activated)."""
        return self._loaded

    def _load(self) -> Any:
        options = self.options
        if options is None and self.threads:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
        return onnxruntime_session(self.path, options)

    def _run(self, images: np.ndarray) -> np.ndarray:
        from gnet.checks.ort import run_batched

        return run_batched(self._loaded, images, max(1, len(images)))


def read_openvino(path: str | Path) -> Any:
    """An ONNX file or IR read by OpenVINO; one sentence when it cannot."""
    from gnet.openvino_ir.runtime import core, reason

    try:
        return core().read_model(str(path))
    except RuntimeError as exc:  # OpenVINO raises RuntimeError with a multi-line message
        raise GnetError(f"OpenVINO cannot read {Path(path).name}", reason(exc)) from None


def compile_openvino(model: Any, precision: str, config: dict[str, Any] | None = None, batch: int | None = None,
                     name: str = "the model") -> Any:
    """``model`` compiled for the CPU with ``precision``'s hint forced and ``config``; ``batch`` pins the batch axis
    (OpenVINO then plans memory and kernels for one shape). The bench's ``openvino-cpu`` rows compile here."""
    from gnet.openvino_ir.runtime import compile_cpu

    if batch is not None:
        model = model.clone()
        shape = model.input(0).get_partial_shape()
        shape[0] = batch
        model.reshape({0: shape})
    return compile_cpu(model, precision, config, name=name)


class OpenVINORunner(_Runner):
    """An ONNX file or OpenVINO IR compiled for the CPU with the precision it encodes (OpenVINO's hint forced, as
    ``gnet check`` and the bench do: its default would run an FP32 graph in BF16 on a CPU that has it)."""

    name = "OpenVINO"

    def __init__(self, model: Any, precision: str | None = None, config: dict[str, Any] | None = None,
                 batch: int | None = None) -> None:
        super().__init__(model)
        self.precision = precision
        self.config = config  # OpenVINO compile properties (threads, streams, ...); None: OpenVINO's defaults
        self.batch = batch

    @property
    def compiled(self) -> Any:
        """The ``openvino.CompiledModel`` (None until activated)."""
        return self._loaded

    def _load(self) -> Any:
        from gnet.openvino_ir.ir import ir_precision

        model = read_openvino(self.path)
        return compile_openvino(model, self.precision or ir_precision(model), self.config, self.batch, self.path.name)

    def _run(self, images: np.ndarray) -> np.ndarray:
        from gnet.checks.images import graph_feed

        return self._loaded(graph_feed(images, self._loaded.input(0).get_element_type().to_dtype()))[0]


class TensorRTRunner(_Runner):
    """A gnet plan on the TensorRT edition its manifest names (data-centre TensorRT or TensorRT-RTX), on a GPU:
    :class:`gnet.engines.engine_runner.EngineRunner` with loading apart from running."""

    name = "TensorRT"

    def __init__(self, model: Any, **options: Any) -> None:
        super().__init__(model)
        self.options = options  # EngineRunner's keyword options (cuda_graphs, verify_plan_hash, ...)

    def _load(self) -> Any:
        from gnet.engines.engine_runner import EngineRunner

        return EngineRunner(self.path, **self.options)

    @property
    def engine(self) -> Any:
        """The :class:`~gnet.engines.engine_runner.EngineRunner` (None until activated): its copy-in, execute and
        copy-out steps are what the bench times with CUDA events."""
        return self._loaded

    def _run(self, images: np.ndarray) -> np.ndarray:
        return self._loaded.infer(images)

    def deactivate(self) -> None:
        if self._loaded is not None:
            self._loaded.close()
        super().deactivate()
