"""Whether engines can run here, and the one clause saying why not (no TensorRT, no GPU)."""

from __future__ import annotations

import sys

from gnet.engines import cuda_choice
from gnet.engines.availability import tensorrt_support
from gnet.errors import GnetError
from tests.trt_double import FakeDevice, make_module


def test_availability_reports_why_not(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    missing = tensorrt_support()
    assert not missing.ok and missing.reason.startswith("TensorRT is not installed")
    mod = make_module("11.x")
    monkeypatch.setitem(sys.modules, "tensorrt", mod)

    def no_gpu():
        raise GnetError("no CUDA GPU is usable through cuda-python (cudaErrorNoDevice)")

    monkeypatch.setattr(cuda_choice, "get_binding", no_gpu)
    gpu_less = tensorrt_support()
    assert not gpu_less.ok and gpu_less.tensorrt_version == "11.1.0.106"
    assert gpu_less.reason == "TensorRT 11.1.0.106 is installed but no CUDA GPU is usable through cuda-python (cudaErrorNoDevice)"
    device = FakeDevice()
    monkeypatch.setattr(cuda_choice, "get_binding", lambda: device)
    ok = tensorrt_support()
    assert ok.ok and ok.reason == "" and ok.device.compute_capability == "9.0" and device.closed


def test_tensorrt_rtx_builds_here_and_says_why_it_cannot_run(monkeypatch):
    """The real tensorrt_rtx: no GPU here; an H100-like GPU (compute capability 9.0) is not one it supports."""
    from gnet.engines.availability import rtx_support

    def no_gpu():
        raise GnetError("no CUDA GPU is usable through cuda-python (cudaErrorNoDevice)")

    monkeypatch.setattr(cuda_choice, "get_binding", no_gpu)
    here = rtx_support()
    assert not here.ok and here.can_build and here.tensorrt_version.startswith("1.7")
    assert here.reason == (f"TensorRT-RTX {here.tensorrt_version} builds plans here, but running them needs an NVIDIA GPU: "
                           "no CUDA GPU is usable through cuda-python (cudaErrorNoDevice)")
    monkeypatch.setattr(cuda_choice, "get_binding", lambda: FakeDevice("NVIDIA H100 80GB HBM3", "9.0"))
    h100 = rtx_support()
    assert not h100.ok and h100.can_build
    assert h100.reason == (f"TensorRT-RTX {h100.tensorrt_version} cannot run on NVIDIA H100 80GB HBM3: it runs only on GPUs "
                           "of compute capability 7.5, 8.0, 8.6, 8.9, 12.0 and 12.1, and this GPU has 9.0")
    monkeypatch.setattr(cuda_choice, "get_binding", lambda: FakeDevice("NVIDIA GeForce RTX 4090", "8.9"))
    assert rtx_support().ok
    monkeypatch.setitem(sys.modules, "tensorrt_rtx", None)
    missing = rtx_support()
    assert not missing.ok and not missing.can_build and missing.reason.startswith("TensorRT-RTX is not installed")
