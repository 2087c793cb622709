"""Choosing a CUDA binding: the first usable one, or why none is (installed or not, GPU or not)."""

from __future__ import annotations

import pytest

from gnet.engines import cuda_choice
from gnet.errors import CudaError, GnetError, NotAvailable


def test_neither_library_installed_names_the_install_command(monkeypatch):
    monkeypatch.setattr(cuda_choice, "_module_present", lambda name: False)
    with pytest.raises(NotAvailable) as err:
        cuda_choice.get_binding()
    assert err.value.what == "neither cuda-python nor pycuda is installed"
    assert "cuda-python>=12.6.1" in err.value.remedy


def test_installed_without_a_gpu_says_which_library_saw_no_gpu(monkeypatch):
    class NoGpu:
        def __init__(self, device: int) -> None:
            raise CudaError("CUDA device 0 is not available", "cuda-python sees 0 CUDA device(s)")

    monkeypatch.setattr(cuda_choice, "_module_present", lambda name: name == "cuda.bindings.runtime")
    monkeypatch.setitem(cuda_choice._OPENERS, "cuda-python", ("cuda.bindings.runtime", NoGpu))
    with pytest.raises(NotAvailable, match="no CUDA GPU is usable through cuda-python"):
        cuda_choice.get_binding()


def test_unknown_backend_name():
    with pytest.raises(GnetError, match="unknown CUDA binding 'opencl'"):
        cuda_choice.get_binding("opencl")
