"""Strictness: the double answers only to TensorRT Python names of the edition it plays.

Data-centre layouts (10.x, 11.x): the names present in BOTH TensorRT 10.x and 11.x, from
``tests/trt_names/names_all_both.txt`` (machine-made from the pybind sources of TensorRT 10.16 and
11.1; see ../shared/TRT_API.md). Any other public attribute — ``BuilderFlag.FP16``,
``IBuilderConfig.int8_calibrator``, ``NetworkDefinitionCreationFlag.EXPLICIT_BATCH``,
``IExecutionContext.execute_async_v2``, ``ICudaEngine.num_bindings`` ... — raises AttributeError,
as it would on one of the two. The ``rtx`` layout: the names of the real ``tensorrt_rtx`` module,
from ``rtx_names.txt`` (``python -m tests.helpers.rtx_names`` writes it from the installed module).

Enum values: where TensorRT-RTX shares an enum with data-centre TensorRT and their values are known
to agree (``SHARED_VALUES``), the double uses the real values (``rtx_enum_values.txt``); elsewhere
members are numbered alphabetically. ``tests/engines/test_trt_double_vs_real.py`` checks both.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

NAMES_DIR = Path(__file__).resolve().parent.parent / "trt_names"
DATA_CENTRE_NAMES = "names_all_both.txt"
RTX_NAMES = "rtx_names.txt"
RTX_ENUM_VALUES = "rtx_enum_values.txt"
SHARED_VALUES = ("DataType", "ProfilingVerbosity", "LayerInformationFormat", "TensorIOMode", "MemoryPoolType",
                 "ErrorCode", "Severity", "ExecutionContextAllocationStrategy", "LayerType")
"""Enums whose values data-centre TensorRT and TensorRT-RTX share (NVIDIA's NvInfer.h of 10.x agrees with
tensorrt_rtx 1.7 on these); BuilderFlag, for one, differs (VERSION_COMPATIBLE is 13 in 10.x, 12 in RTX)."""
_ACTIVE = [DATA_CENTRE_NAMES]


def activate_names(list_file: str) -> None:
    """Which list the double's strict classes answer to from now on (set when a module is made)."""
    _ACTIVE[0] = list_file


def active_names() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    return allowed_names(_ACTIVE[0])

# Names that are real in both versions but that the pybind-diff lists cannot show, each with its reason.
EXTRA_MODULE_NAMES = {
    "__version__",  # set by tensorrt/__init__.py in every release
    "ILogger",  # the logger interface users subclass (NVIDIA's docs); the list files its members under "Logger"
    "nptype", "volume",  # pure-Python helpers in tensorrt/__init__.py (TRT_API.md §3 "Helpers")
    "float32", "float16", "bfloat16", "int8", "int32", "int64", "bool", "uint8", "fp8", "int4",  # dtype aliases (TRT_API.md)
}
EXTRA_MEMBERS = {
    # ILogger.Severity is bound with export_values(), so its members are also attributes of Logger
    # (TRT_API.md: "Logger.WARNING/ERROR/INFO/VERBOSE/INTERNAL_ERROR"); the list files it under "Severity".
    "Logger": {"WARNING", "ERROR", "INFO", "VERBOSE", "INTERNAL_ERROR", "Severity"},
    # ILogger: the interface NVIDIA documents subclassing (``trt.ILogger.__init__(self)`` in the subclass's
    # __init__, then ``log(severity, msg)``); the lists file its members under "Logger".
    "ILogger": {"__init__", "log", "WARNING", "ERROR", "INFO", "VERBOSE", "INTERNAL_ERROR", "Severity"},
}


@lru_cache(maxsize=None)
def allowed_names(list_file: str = DATA_CENTRE_NAMES) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """(top-level names, {class: members}) from one of the name lists."""
    top: set[str] = set()
    members: dict[str, set[str]] = defaultdict(set)
    for line in (NAMES_DIR / list_file).read_text().splitlines():
        line = line.strip().split()[0] if line.strip() else ""
        if not line or line.startswith("#"):
            continue
        cls, _, member = line.partition(".")
        top.add(cls)
        if member:
            members[cls].add(member)
    if list_file == DATA_CENTRE_NAMES:
        for cls, extra in EXTRA_MEMBERS.items():
            members[cls] |= extra
    return frozenset(top | EXTRA_MODULE_NAMES), {k: frozenset(v) for k, v in members.items()}


def removed_names() -> list[str]:
    """``Class.member`` names present in 10.x and gone in 11.x (tests prove the double refuses them)."""
    lines = (NAMES_DIR / "names_removed_in_11.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def _refuse(owner: str, name: str) -> AttributeError:
    if _ACTIVE[0] == RTX_NAMES:
        return AttributeError(f"tensorrt double: {owner}.{name} is not a TensorRT-RTX name")
    return AttributeError(f"tensorrt double: {owner}.{name} is not a TensorRT name present in both 10.x and 11.x")


def _allowed(obj: Any, name: str) -> bool:
    """``name`` is a member of the object's TensorRT class or of a TensorRT base class (ILayer for a layer)."""
    members = active_names()[1]
    classes = {getattr(k, "_TRT_CLASS", "") for k in type(obj).__mro__}
    return any(name in members.get(cls, frozenset()) for cls in classes if cls)


class Strict:
    """Base of every double class: public attributes must be ``<TRT class>.<name>`` from the lists."""

    _TRT_CLASS = ""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_") and not _allowed(self, name):
            raise _refuse(object.__getattribute__(self, "_TRT_CLASS"), name)
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and not _allowed(self, name):
            raise _refuse(object.__getattribute__(self, "_TRT_CLASS"), name)
        object.__setattr__(self, name, value)


class EnumValue:
    """One member of a pybind11 enum: ``int()`` gives its value, ``str()`` is ``"DataType.HALF"``."""

    __slots__ = ("_enum", "_name", "_value")

    def __init__(self, enum: str, name: str, value: int) -> None:
        self._enum, self._name, self._value = enum, name, value

    @property
    def name(self) -> str:
        return self._name

    @property
    def value(self) -> int:
        return self._value

    def __int__(self) -> int:
        return self._value

    __index__ = __int__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnumValue) and other._enum == self._enum and other._value == self._value

    def __hash__(self) -> int:
        return hash((self._enum, self._value))

    def __repr__(self) -> str:
        return f"<{self._enum}.{self._name}: {self._value}>"

    def __str__(self) -> str:
        return f"{self._enum}.{self._name}"


class _EnumMeta(type):
    def __getattr__(cls, name: str) -> Any:  # only called when the member does not exist
        raise _refuse(cls.__name__, name)

    def __iter__(cls):
        return iter(cls._members.values())


@lru_cache(maxsize=None)
def real_enum_values() -> dict[str, dict[str, int]]:
    """``{"DataType": {"FLOAT": 0, ...}, ...}``: tensorrt_rtx's enum values, from the committed file."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for line in (NAMES_DIR / RTX_ENUM_VALUES).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" = ")
            enum, _, member = key.strip().rpartition(".")  # "ILogger.Severity.ERROR": a nested enum
            out[enum][member] = int(value)
    return dict(out)


def make_enum(name: str, values: dict[str, int] | None = None, real_values: bool = False,
              real_name: str | None = None) -> type:
    """A strict enum class with exactly the members the active list gives ``name``.

    ``real_values``: members take tensorrt_rtx's values of ``real_name`` (default ``name``) — the ``rtx``
    layout, and shared enums of every layout; ``values`` overrides single numbers; the rest are numbered
    alphabetically.
    """
    real = real_enum_values().get(real_name or name, {}) if real_values else {}
    members = sorted(active_names()[1].get(name, frozenset()) or (real if real_name else ()))
    values = {**real, **(values or {})}
    taken = set(values.values())
    numbering = iter(i for i in range(10_000) if i not in taken)
    table = {m: EnumValue(name, m, values[m] if m in values else next(numbering))
             for m in members if not m.startswith("_") and m[0].isupper()}
    return _EnumMeta(name, (), {**table, "_members": table})
