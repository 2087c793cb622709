"""``ort-trt``: ONNX Runtime's TensorRT execution provider (engines cached under the artifacts folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gnet.bench.runners.base import Availability, PrepareContext
from gnet.bench.runners.ort_cuda import OrtCudaRunner


class OrtTensorrtRunner(OrtCudaRunner):
    """ONNX Runtime's TensorRT execution provider (engines cached under the artifacts folder)."""

    backend = "ort-trt"
    runtime = "onnxruntime"
    provider = "TensorrtExecutionProvider"

    def available(self) -> Availability:
        found = super().available()
        if not found.ok:
            return found
        from gnet.engines.availability import tensorrt_support

        trt = tensorrt_support()
        return trt.availability

    def _providers(self, ctx: PrepareContext) -> list[Any]:
        cache = Path(ctx.artifact(self.artifact_kind)).parent / "ort-trt-cache"
        cache.mkdir(parents=True, exist_ok=True)
        options = {"device_id": 0, "trt_engine_cache_enable": True, "trt_engine_cache_path": str(cache),
                   "trt_timing_cache_enable": True, "trt_int8_enable": self.precision == "int8"}
        return [(self.provider, options), ("CUDAExecutionProvider", {"device_id": 0}), "CPUExecutionProvider"]
