"""The strict TensorRT double checked against the real tensorrt_rtx bindings (installed by ``make install``).

For every name both the double and the real module expose: enum values agree, and the parameter names of
the double's methods are those of one of the real overloads. Names the double has for data-centre TensorRT
that TensorRT-RTX lacks are listed below with the reason. The committed name lists the double's ``rtx``
layout answers to must equal the installed module's. Any drift fails here.
"""

from __future__ import annotations

import inspect
import re

import pytest

from tests.helpers.rtx import real_rtx
from tests.helpers.rtx_names import ENUMS_FILE, NAMES_FILE, module_names, read_enum_values
from tests.trt_double import core, make_module, network, rtx
from tests.trt_double.strict import SHARED_VALUES

DOUBLE_CLASSES = (core.Builder, core.Runtime, core.OnnxParser, core.ParserError, core.ICudaEngine, core.IExecutionContext,
                  core.IBuilderConfig, core.IOptimizationProfile, core.ITimingCache, core.EngineInspector,
                  core.INetworkDefinition, core.ILogger, network.ITensor, network.ILayer, network.IConvolutionLayer,
                  network.IDequantizeLayer, network.IQuantizeLayer, rtx.IRuntimeConfig, rtx.IRuntimeCache)

DATA_CENTRE_VALUES = {
    "NetworkDefinitionCreationFlag": "STRONGLY_TYPED is 1 in 10.x, 0 in 11.x and TensorRT-RTX; the double plays each",
    "BuilderFlag": "numbered differently per edition (VERSION_COMPATIBLE: 13 in 10.x, 12 in TensorRT-RTX)",
    "HardwareCompatibilityLevel": "not verified against data-centre TensorRT; gnet never persists its int()",
    "TensorLocation": "not verified against data-centre TensorRT; gnet never reads it",
    "TensorFormat": "not verified against data-centre TensorRT; gnet never reads it",
}
"""Enums whose data-centre values the double does not take from TensorRT-RTX, each with the reason."""

DATA_CENTRE_ONLY_MEMBERS = {
    "NetworkDefinitionCreationFlag.PREFER_AOT_PYTHON_PLUGINS": "Python plugins: data-centre TensorRT only",
    "NetworkDefinitionCreationFlag.PREFER_JIT_PYTHON_PLUGINS": "Python plugins: data-centre TensorRT only",
}


def _real_enum(trt, name: str):
    return getattr(trt, name, None) if name != "Severity" else trt.ILogger.Severity


@pytest.mark.parametrize("layout", ["10.x", "11.x", "rtx"])
def test_enum_values_agree_with_tensorrt_rtx(layout: str):
    trt = real_rtx()
    double = make_module(layout)
    checked = 0
    for name in (*[n for n in vars(double) if not n.startswith("_")], "Severity"):
        enum = getattr(double.Logger, "Severity") if name == "Severity" else vars(double)[name]
        if not hasattr(enum, "_members"):
            continue
        real = _real_enum(trt, name)
        if real is None:
            continue
        real_values = {k: int(v) for k, v in real.__members__.items()}
        for member in enum._members.values():
            key = f"{name}.{member.name}"
            if member.name not in real_values:
                assert layout != "rtx" and key in DATA_CENTRE_ONLY_MEMBERS, key
            elif layout == "rtx" or name in SHARED_VALUES or name == "Severity":
                assert int(member) == real_values[member.name], key
                checked += 1
            else:
                assert name in DATA_CENTRE_VALUES, key
        if layout == "rtx":
            assert set(enum._members) == set(real_values), name
    assert checked > 100


def _real_overloads(func) -> list[list[str]]:
    """Parameter names of each overload, from the pybind11 docstring's signature lines."""
    out = []
    for line in (func.__doc__ or "").splitlines():
        match = re.match(r"\s*(?:\d+\.\s*)?\w+\((.*)\)\s*->", line)
        if match:
            params = [p.split(":")[0].strip() for p in re.split(r",\s*(?![^\[]*\])", match.group(1)) if p.strip()]
            out.append([p for p in params if p != "self"])
    return out


def _public(cls) -> dict[str, object]:
    found: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("tests.trt_double"):
            found.update({k: v for k, v in vars(klass).items() if not k.startswith("_")})
    return found


DATA_CENTRE_ONLY_METHODS: dict[str, str] = {}
"""Double members the real TensorRT-RTX class lacks (none today; add each with its reason)."""


def test_every_member_the_double_implements_exists_in_tensorrt_rtx_with_the_same_parameter_names():
    trt = real_rtx()
    compared = 0
    for cls in DOUBLE_CLASSES:
        real_cls = getattr(trt, cls.__name__)
        for name, member in _public(cls).items():
            key = f"{cls.__name__}.{name}"
            if not hasattr(real_cls, name):
                assert key in DATA_CENTRE_ONLY_METHODS, f"{key}: the double has it, tensorrt_rtx does not"
                continue
            if isinstance(member, property) or not callable(member):
                continue
            overloads = _real_overloads(getattr(real_cls, name))
            mine = [p for p in inspect.signature(member).parameters if p != "self"]
            assert any(mine == params[:len(mine)] for params in overloads), f"{key}: double {mine}, real {overloads}"
            compared += 1
    assert compared > 40


def test_the_committed_name_lists_are_the_installed_tensorrt_rtxs():
    """If this fails after upgrading tensorrt_rtx: run ``python -m tests.helpers.rtx_names`` and review the diff."""
    trt = real_rtx()
    names, enums = module_names(trt)
    committed = [line for line in NAMES_FILE.read_text().splitlines() if line and not line.startswith("#")]
    assert committed == names
    assert read_enum_values(ENUMS_FILE) == enums
    assert trt.__version__ in NAMES_FILE.read_text().splitlines()[0]
