"""Which TensorRT edition ``--runtime`` gets, and the one sentence when none can be imported or one is too old."""

from __future__ import annotations

import sys

import pytest

from gnet.engines.editions import TENSORRT, TENSORRT_RTX
from gnet.engines.trt_import import choose_runtime, import_runtime, parse_version
from gnet.errors import NotAvailable, UsageError
from tests.trt_double.fixtures import install


def test_auto_takes_data_centre_tensorrt_first(monkeypatch):
    double = install(monkeypatch, "11.x")
    spec, module = choose_runtime("auto")
    assert spec is TENSORRT and module is double


def test_auto_falls_back_to_the_real_tensorrt_rtx(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    spec, module = choose_runtime("auto")
    assert spec is TENSORRT_RTX and module.__name__ == "tensorrt_rtx" and parse_version(module.__version__) >= (1, 7)


def test_auto_with_neither_names_both_causes_and_both_commands(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    monkeypatch.setitem(sys.modules, "tensorrt_rtx", None)
    with pytest.raises(NotAvailable) as err:
        choose_runtime("auto")
    assert err.value.what == "no TensorRT is installed"
    assert err.value.why == ("TensorRT is not installed: the Python package tensorrt cannot be imported; and "
                             "TensorRT-RTX is not installed: the Python package tensorrt_rtx cannot be imported")
    assert TENSORRT_RTX.install in err.value.remedy and TENSORRT.install in err.value.remedy


def test_an_explicit_runtime_is_never_swapped_for_the_other(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(NotAvailable, match="^TensorRT is not installed"):
        choose_runtime("tensorrt")
    with pytest.raises(UsageError, match="--runtime must be one of auto, tensorrt, tensorrt-rtx, not 'onnxruntime'"):
        choose_runtime("onnxruntime")


def test_too_old_editions_are_refused_with_their_floor(monkeypatch):
    install(monkeypatch, "rtx", version="1.5.0.1")
    with pytest.raises(NotAvailable, match=r"^TensorRT-RTX 1.5.0.1 is too old: gnet is tested with TensorRT-RTX 1.7 .*"
                                           r"upgrade with: pip install --upgrade \"tensorrt-rtx>=1.7,<2\""):
        import_runtime(TENSORRT_RTX)
    install(monkeypatch, "10.x", version="10.8.0.43")
    with pytest.raises(NotAvailable, match="TensorRT 10.8.0.43 is too old: gnet builds strongly typed networks"):
        import_runtime(TENSORRT)
