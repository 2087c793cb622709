"""``ort-cuda``: ONNX Runtime's CUDA execution provider, with I/O binding so the steps can be timed apart."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gnet.bench.runners.base import Availability, PrepareContext, Runner
from gnet.errors import GnetError, first_line
from gnet.system import gpu_missing_reason


class OrtCudaRunner(Runner):
    """ONNX Runtime's CUDA execution provider, with I/O binding so the three steps can be timed apart.

    ORT's Python API exposes no CUDA events and ``run_with_iobinding`` returns when the GPU is done,
    so each step is timed with the host clock (every step is synchronous).
    """

    backend = "ort-cuda"
    runtime = "onnxruntime"
    device = "cuda"
    provider = "CUDAExecutionProvider"
    supports_stages = True

    def __init__(self, variant: str, precision: str) -> None:
        super().__init__(variant, precision)
        self._session: Any = None
        self._binding: Any = None
        self._input: Any = None

    @property
    def artifact_kind(self) -> str:
        return self.precision

    def available(self) -> Availability:
        try:
            import onnxruntime as ort
        except ImportError:
            return Availability.no("onnxruntime is not installed")
        if self.provider not in ort.get_available_providers():
            return Availability.no(f"this onnxruntime ({ort.__version__}, {ort.get_device()} build) has no "
                                   f"{self.provider}; install onnxruntime-gpu")
        reason = gpu_missing_reason()
        return Availability.no(reason) if reason else Availability.yes()

    def _providers(self, ctx: PrepareContext) -> list[Any]:
        return [(self.provider, {"device_id": 0}), "CPUExecutionProvider"]

    def prepare(self, ctx: PrepareContext) -> None:
        import onnxruntime as ort

        start = time.perf_counter()
        self.artifact_path = ctx.artifact(self.artifact_kind)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(self.artifact_path), options, providers=self._providers(ctx))
        except Exception as exc:
            raise GnetError(f"ONNX Runtime cannot load {self.artifact_path.name} with {self.provider}", first_line(exc)) from None
        used = self._session.get_providers()
        if used[0] != self.provider:
            raise GnetError(f"ONNX Runtime fell back to {used[0]} for {self.artifact_path.name}")
        self._binding = self._session.io_binding()
        self.settings = {"providers": used, "io_binding": True, "stage_timer": "host clock (each ORT step is synchronous)"}
        self.setup_s += time.perf_counter() - start

    def upload(self, images: np.ndarray) -> None:
        import onnxruntime as ort

        images = np.ascontiguousarray(images, dtype=np.float32)
        if self._input is None or tuple(self._input.shape()) != images.shape:
            self._input = ort.OrtValue.ortvalue_from_numpy(images, "cuda", 0)
        else:
            self._input.update_inplace(images)
        name = self._session.get_inputs()[0].name
        self._binding.bind_ortvalue_input(name, self._input)
        self._binding.bind_output(self._session.get_outputs()[0].name, "cuda", 0)

    def compute(self) -> None:
        self._session.run_with_iobinding(self._binding)

    def download(self) -> np.ndarray:
        return np.asarray(self._binding.copy_outputs_to_cpu()[0], dtype=np.float32)

    def synchronize(self) -> None:
        pass

    def new_event(self) -> list[float]:
        return [0.0]

    def record(self, event: list[float]) -> None:
        event[0] = time.perf_counter()

    def elapsed_ms(self, start: list[float], end: list[float]) -> float:
        return (end[0] - start[0]) * 1000.0

    def run(self, images: np.ndarray) -> np.ndarray:
        return self.run_staged(images)

    def close(self) -> None:
        self._session = self._binding = self._input = None
