"""A strict TensorRT double for tests on machines without TensorRT or a GPU.

``make_module("10.x")`` / ``make_module("11.x")`` returns a module object that
answers only to names present in both TensorRT 10.x and 11.x (see ``strict.py``);
``NetworkDefinitionCreationFlag.STRONGLY_TYPED`` is 1 in the 10.x layout and 0 in the
11.x one, and the engine inspector speaks the matching JSON layout. ``make_module("rtx")``
plays TensorRT-RTX 1.7 (its names, its enum values, engine validity, the runtime config
and cache): for the runtime side, which the real ``tensorrt_rtx`` runs only on a GPU. Tests
install it as ``sys.modules["tensorrt"]`` (``"tensorrt_rtx"``) with monkeypatch
(``fixtures.py``), never globally. Shared enums carry the real values
(``tests/engines/test_trt_double_vs_real.py`` fails when the double drifts from tensorrt_rtx).
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from tests.trt_double import core, network, rtx
from tests.trt_double.core import Behaviour
from tests.trt_double.fake_cuda import FakeDevice
from tests.trt_double.strict import (
    DATA_CENTRE_NAMES,
    RTX_NAMES,
    SHARED_VALUES,
    activate_names,
    active_names,
    make_enum,
)

LAYOUTS = {"10.x": "10.13.0.35", "11.x": "11.1.0.106", "rtx": "1.7.1.116"}
MODULE_NAMES = {"10.x": "tensorrt", "11.x": "tensorrt", "rtx": "tensorrt_rtx"}
STRONGLY_TYPED_VALUE = {"10.x": 1, "11.x": 0, "rtx": 0}
ENUMS = ("NetworkDefinitionCreationFlag", "BuilderFlag", "DataType", "TensorIOMode", "MemoryPoolType",
         "ProfilingVerbosity", "LayerInformationFormat", "HardwareCompatibilityLevel", "ErrorCode",
         "ExecutionContextAllocationStrategy", "TensorLocation", "TensorFormat", "LayerType")
RTX_ENUMS = ("ComputeCapability", "EngineValidity", "EngineInvalidityDiagnostics", "CudaGraphStrategy")

__all__ = ["Behaviour", "FakeDevice", "LAYOUTS", "make_module"]


class DoubleModule(types.ModuleType):
    """``import tensorrt`` → this; public names outside the both-versions lists raise AttributeError."""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_") and name not in active_names()[0]:
            edition = "a TensorRT-RTX name" if super().__getattribute__("_layout") == "rtx" else \
                "a TensorRT name present in both 10.x and 11.x"
            raise AttributeError(f"tensorrt double: module attribute {name} is not {edition}")
        return super().__getattribute__(name)


_NPTYPE = {"FLOAT": np.float32, "HALF": np.float16, "INT8": np.int8, "INT32": np.int32, "INT64": np.int64,
           "BOOL": np.bool_, "UINT8": np.uint8}


def make_module(layout: str = "10.x", version: str | None = None, behaviour: Behaviour | None = None) -> DoubleModule:
    """A fresh double in the given enum/inspector layout (``version`` overrides ``__version__``).

    The newest module made is the active one: the double's objects consult it for enums and knobs.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {sorted(LAYOUTS)}")
    names_file = RTX_NAMES if layout == "rtx" else DATA_CENTRE_NAMES
    activate_names(names_file)
    mod = DoubleModule(MODULE_NAMES[layout], "strict TensorRT double (gnet tests)")
    mod.__version__ = version or LAYOUTS[layout]
    mod._layout = layout
    mod._names_file = names_file
    mod._log = []
    mod._behaviour = behaviour or Behaviour()
    rtx_layout = layout == "rtx"
    severity = make_enum("Severity", real_values=True, real_name="ILogger.Severity")
    flag_values = {"STRONGLY_TYPED": STRONGLY_TYPED_VALUE[layout]}
    for name in ENUMS + (RTX_ENUMS if rtx_layout else ()):
        setattr(mod, name, make_enum(name, flag_values if name == "NetworkDefinitionCreationFlag" else None,
                                     real_values=rtx_layout or name in SHARED_VALUES))
    if not rtx_layout:
        mod.Severity = severity  # what the lists name the logger's severities (tensorrt_rtx: ILogger.Severity)

    class Logger(core.Logger):
        Severity = severity
        WARNING, ERROR, INFO = severity.WARNING, severity.ERROR, severity.INFO
        VERBOSE, INTERNAL_ERROR = severity.VERBOSE, severity.INTERNAL_ERROR

    class ILogger(core.ILogger):
        Severity = severity
        WARNING, ERROR, INFO = severity.WARNING, severity.ERROR, severity.INFO
        VERBOSE, INTERNAL_ERROR = severity.VERBOSE, severity.INTERNAL_ERROR

    mod.Logger, mod.ILogger = Logger, ILogger
    for cls in (core.Builder, core.Runtime, core.OnnxParser, core.ParserError, core.ICudaEngine, core.IExecutionContext,
                core.IBuilderConfig, core.IOptimizationProfile, core.ITimingCache, core.IHostMemory,
                core.EngineInspector, core.INetworkDefinition, core.Dims, network.ITensor, network.ILayer,
                network.IConvolutionLayer, network.IDequantizeLayer, network.IQuantizeLayer):
        setattr(mod, cls.__name__, cls)
    if rtx_layout:
        mod.IRuntimeConfig, mod.IRuntimeCache = rtx.IRuntimeConfig, rtx.IRuntimeCache

    def nptype(trt_type: Any) -> type:
        try:
            return _NPTYPE[trt_type.name]
        except KeyError:
            raise TypeError(f"Could not resolve TensorRT datatype to an equivalent numpy datatype: {trt_type}") from None

    def volume(iterable: Any) -> int:
        return int(np.prod([int(d) for d in iterable], dtype=np.int64))

    mod.nptype = nptype
    mod.volume = volume
    activate(mod)
    return mod


def activate(mod: DoubleModule) -> None:
    """Point the double's classes at ``mod`` (the module the code under test imported)."""
    activate_names(mod._names_file)
    core._Ctx.trt = mod
    core._Ctx.behaviour = mod._behaviour
