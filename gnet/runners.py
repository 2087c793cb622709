"""One runner per runtime that a user opens and calls outside the bench, after Polygraphy's runners.

    with gnet.runners.OpenVINORunner("artifacts/googlenet_int8_cpu.qdq.onnx") as runner:
        logits = runner.infer(images)            # float32 NCHW in, float32 [batch, classes] out

Loading (``activate``, or entering the ``with``) is apart from running (``infer``), so timing ``infer`` times
inference only. Every runner takes what gnet writes (an :class:`gnet.pipeline.Artifact` or ``Engine``, or a
path) and refuses what it cannot run in one sentence (:class:`gnet.errors.GnetError`). The bench's runners
(``gnet.bench.runners``) add variants, tuning and timing around the same runtime calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gnet.errors import GnetError


def _path(model: Any) -> Path:
    """The file of an Artifact, an Engine or a path."""
    return Path(getattr(model, "path", None) or getattr(model, "plan", None) or model)


class _Runner:
    """``activate`` loads, ``infer`` runs, ``deactivate`` frees; a context manager does the first and last."""

    name = "runner"

    def __init__(self, model: Any) -> None:
        self.path = _path(model)
        self._loaded: Any = None

    def activate(self) -> None:
        if self._loaded is None:
            self._loaded = self._load()

    def deactivate(self) -> None:
        self._loaded = None

    @property
    def is_active(self) -> bool:
        return self._loaded is not None

    def infer(self, images: np.ndarray) -> np.ndarray:
        """Float32 NCHW images → float32 logits ``[batch, classes]``."""
        if self._loaded is None:
            raise GnetError(f"the {self.name} runner of {self.path.name} is not active",
                            remedy="use it in a with-block, or call activate() first")
        return np.asarray(self._run(np.ascontiguousarray(images, dtype=np.float32)), dtype=np.float32)

    def _load(self) -> Any:
        raise NotImplementedError

    def _run(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __enter__(self):
        self.activate()
        return self

    def __exit__(self, *_: object) -> None:
        self.deactivate()


class OnnxRuntimeRunner(_Runner):
    """An ONNX file on ONNX Runtime's CPU provider (an FP16-I/O graph gets its input cast here)."""

    name = "ONNX Runtime"

    def __init__(self, model: Any, threads: int | None = None) -> None:
        super().__init__(model)
        self.threads = threads

    def _load(self) -> Any:
        from gnet.export.ort import cpu_session

        return cpu_session(self.path, self.threads)

    def _run(self, images: np.ndarray) -> np.ndarray:
        from gnet.export.ort import run_batched

        return run_batched(self._loaded, images, max(1, len(images)))


class OpenVINORunner(_Runner):
    """An ONNX file or OpenVINO IR compiled for the CPU with the precision it encodes (OpenVINO's hint forced, as
    ``gnet check`` and the bench do: its default would run an FP32 graph in BF16 on a CPU that has it)."""

    name = "OpenVINO"

    def __init__(self, model: Any, precision: str | None = None) -> None:
        super().__init__(model)
        self.precision = precision

    def _load(self) -> Any:
        from gnet.export.openvino_ir import ir_precision
        from gnet.export.openvino_runtime import compile_cpu, core

        try:
            model = core().read_model(str(self.path))
        except RuntimeError as exc:
            from gnet.export.openvino_runtime import reason

            raise GnetError(f"OpenVINO cannot read {self.path}", reason(exc)) from None
        return compile_cpu(model, self.precision or ir_precision(model), name=self.path.name)

    def _run(self, images: np.ndarray) -> np.ndarray:
        return self._loaded(images)[0]


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

    def _run(self, images: np.ndarray) -> np.ndarray:
        return self._loaded.infer(images)

    def deactivate(self) -> None:
        if self._loaded is not None:
            self._loaded.close()
        super().deactivate()
