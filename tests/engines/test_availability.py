"""Whether engines can run here, and the one clause saying why not (no TensorRT, no GPU)."""

from __future__ import annotations

import sys

from gnet.engines import cuda_choice
from gnet.engines.availability import tensorrt_availability
from gnet.errors import GnetError
from tests.trt_double import FakeDevice, make_module


def test_availability_reports_why_not(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    missing = tensorrt_availability()
    assert not missing.usable and missing.reason.startswith("TensorRT is not installed")
    mod = make_module("11.x")
    monkeypatch.setitem(sys.modules, "tensorrt", mod)

    def no_gpu():
        raise GnetError("no CUDA GPU is usable through cuda-python (cudaErrorNoDevice)")

    monkeypatch.setattr(cuda_choice, "get_backend", no_gpu)
    gpu_less = tensorrt_availability()
    assert not gpu_less.usable and gpu_less.tensorrt_version == "11.1.0.106"
    assert gpu_less.reason == "TensorRT 11.1.0.106 is installed but no CUDA GPU is usable through cuda-python (cudaErrorNoDevice)"
    device = FakeDevice()
    monkeypatch.setattr(cuda_choice, "get_backend", lambda: device)
    ok = tensorrt_availability()
    assert ok.usable and ok.reason == "" and ok.device.compute_capability == "9.0" and device.closed
