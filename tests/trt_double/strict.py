"""Strictness: the double answers only to TensorRT Python names present in BOTH 10.x and 11.x.

The allowed names come from ``tests/trt_names/names_all_both.txt`` (machine-made from
the pybind sources of TensorRT 10.16 and 11.1; see ../shared/TRT_API.md). Any other
public attribute — ``BuilderFlag.FP16``, ``IBuilderConfig.int8_calibrator``,
``NetworkDefinitionCreationFlag.EXPLICIT_BATCH``, ``IExecutionContext.execute_async_v2``,
``ICudaEngine.num_bindings`` ... — raises AttributeError, as it would on one of the two.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

NAMES_DIR = Path(__file__).resolve().parent.parent / "trt_names"

# Names that are real in both versions but that the pybind-diff lists cannot show, each with its reason.
EXTRA_MODULE_NAMES = {
    "__version__",  # set by tensorrt/__init__.py in every release
    "nptype", "volume",  # pure-Python helpers in tensorrt/__init__.py (TRT_API.md §3 "Helpers")
    "float32", "float16", "bfloat16", "int8", "int32", "int64", "bool", "uint8", "fp8", "int4",  # dtype aliases (TRT_API.md)
}
EXTRA_MEMBERS = {
    # ILogger.Severity is bound with export_values(), so its members are also attributes of Logger
    # (TRT_API.md: "Logger.WARNING/ERROR/INFO/VERBOSE/INTERNAL_ERROR"); the list files it under "Severity".
    "Logger": {"WARNING", "ERROR", "INFO", "VERBOSE", "INTERNAL_ERROR", "Severity"},
}


@lru_cache(maxsize=None)
def allowed_names(list_file: str = "names_all_both.txt") -> tuple[frozenset[str], dict[str, frozenset[str]]]:
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
    for cls, extra in EXTRA_MEMBERS.items():
        members[cls] |= extra
    return frozenset(top | EXTRA_MODULE_NAMES), {k: frozenset(v) for k, v in members.items()}


def removed_names() -> list[str]:
    """``Class.member`` names present in 10.x and gone in 11.x (tests prove the double refuses them)."""
    lines = (NAMES_DIR / "names_removed_in_11.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def _refuse(owner: str, name: str) -> AttributeError:
    return AttributeError(f"tensorrt double: {owner}.{name} is not a TensorRT name present in both 10.x and 11.x")


class Strict:
    """Base of every double class: public attributes must be ``<TRT class>.<name>`` from the lists."""

    _TRT_CLASS = ""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_"):
            cls = object.__getattribute__(self, "_TRT_CLASS")
            if name not in allowed_names()[1].get(cls, frozenset()):
                raise _refuse(cls, name)
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            cls = object.__getattribute__(self, "_TRT_CLASS")
            if name not in allowed_names()[1].get(cls, frozenset()):
                raise _refuse(cls, name)
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


def make_enum(name: str, values: dict[str, int] | None = None) -> type:
    """A strict enum class with exactly the members the lists give ``name``; ``values`` overrides numbers."""
    members = sorted(allowed_names()[1].get(name, frozenset()))
    values = values or {}
    taken = set(values.values())
    numbering = iter(i for i in range(10_000) if i not in taken)
    table = {m: EnumValue(name, m, values[m] if m in values else next(numbering))
             for m in members if not m.startswith("_") and m[0].isupper()}
    return _EnumMeta(name, (), {**table, "_members": table})
