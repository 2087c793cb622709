"""pytest fixtures that install the double; test modules import the ones they use."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.trt_double import MODULE_NAMES, DoubleModule, FakeDevice, make_module


def install(monkeypatch: pytest.MonkeyPatch, layout: str = "10.x", version: str | None = None) -> DoubleModule:
    """Make ``import tensorrt`` (``import tensorrt_rtx`` for the rtx layout) return a fresh double for the rest
    of the test."""
    mod = make_module(layout, version)
    monkeypatch.setitem(sys.modules, MODULE_NAMES[layout], mod)
    return mod


@pytest.fixture(params=["10.x", "11.x"], ids=["trt10-STRONGLY_TYPED=1", "trt11-STRONGLY_TYPED=0"])
def trt(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> DoubleModule:
    """The double as ``tensorrt``, once in the 10.x layout and once in the 11.x layout."""
    return install(monkeypatch, request.param)


@pytest.fixture()
def trt10(monkeypatch: pytest.MonkeyPatch) -> DoubleModule:
    return install(monkeypatch, "10.x")


@pytest.fixture()
def rtx_double(monkeypatch: pytest.MonkeyPatch) -> DoubleModule:
    """The double as ``tensorrt_rtx`` (for EngineRunner on TensorRT-RTX plans, which the real module runs only on a GPU)."""
    return install(monkeypatch, "rtx")


@pytest.fixture()
def fake_device() -> Iterator[FakeDevice]:
    device = FakeDevice()
    yield device


def tiny_onnx(tmp_path, precision: str = "fp32", **kwargs):
    """Write one of the tiny models under its gnet artifact name and return the path."""
    from tests.trt_double import models

    name = {"fp32": "googlenet_fp32.onnx", "fp16": "googlenet_fp16.onnx", "int8": "googlenet_int8.qdq.onnx"}[precision]
    make = {"fp32": models.fp32_model, "fp16": models.fp16_model, "int8": models.int8_model}[precision]
    return models.save(make(**kwargs), tmp_path / name)


def build_tiny(tmp_path, precision: str = "fp32", device=None, output=None, **options):
    """Build a tiny model's engine with the double installed (batch 1..8, opt 4 unless given)."""
    from gnet.engines.build import build_engine
    from gnet.engines.build_inputs import BuildOptions

    opts = {"min_batch": 1, "opt_batch": 4, "max_batch": 8, "runtime": "tensorrt", **options}
    return build_engine(tiny_onnx(tmp_path, precision), output, BuildOptions(**opts), device=device or FakeDevice())
