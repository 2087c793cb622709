"""Import TensorRT lazily, check it is new enough, and say exactly what to install when it is not."""

from __future__ import annotations

import importlib
import re
from types import ModuleType

from gnet.errors import NotAvailable, first_line

MIN_VERSION = (10, 12)
"""Weak typing was deprecated in 10.12; from there on one strongly typed code path serves 10.x and 11.x."""

INSTALL_COMMAND = 'pip install "tensorrt>=10.12" "cuda-python>=12.6.1"'
"""The packages of pyproject's ``tensorrt`` extra, spelled out: gnet itself is not on PyPI (from a
checkout, ``pip install -e ".[tensorrt]"`` is the same), and square brackets would be eaten as
markup by the rich console that prints error sentences."""


def parse_version(text: str) -> tuple[int, ...]:
    """``"10.13.0.35"`` → ``(10, 13, 0, 35)``; anything unparsable → ``()``."""
    parts = re.findall(r"\d+", str(text).split("+")[0])
    return tuple(int(p) for p in parts[:4])


def version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(v) for v in version)


def import_tensorrt() -> ModuleType:
    """Return the ``tensorrt`` module, or raise a GnetError naming what is missing and how to install it.

    The import happens here, never at module import time; tests install a strict
    double as ``sys.modules["tensorrt"]`` and this returns it.
    """
    try:
        trt = importlib.import_module("tensorrt")
    except ImportError:
        raise NotAvailable("TensorRT is not installed", "the Python package tensorrt cannot be imported",
                           f"on a machine with an NVIDIA GPU install it with: {INSTALL_COMMAND}") from None
    except Exception as exc:  # a broken install (missing libnvinfer, CUDA mismatch) raises OSError/RuntimeError
        raise NotAvailable("TensorRT is installed but cannot be loaded", first_line(exc, 160),
                           f"reinstall it with: {INSTALL_COMMAND}") from None
    check_version(trt)
    return trt


def check_version(trt: ModuleType) -> tuple[int, ...]:
    """Refuse TensorRT older than 10.12 (the strongly typed path needs it)."""
    raw = getattr(trt, "__version__", "")
    version = parse_version(raw)
    if not version:
        raise NotAvailable("cannot tell which TensorRT this is", f"tensorrt.__version__ is {raw!r}",
                           f"reinstall it with: {INSTALL_COMMAND}")
    if version[:2] < MIN_VERSION:
        raise NotAvailable(
            f"TensorRT {raw} is too old",
            f"gnet builds strongly typed networks, which need TensorRT {version_text(MIN_VERSION)} or newer",
            f"upgrade with: pip install --upgrade \"tensorrt>={version_text(MIN_VERSION)}\"",
        )
    return version


def strongly_typed_flags(trt: ModuleType) -> int:
    """The ``create_network`` flags for a strongly typed network.

    Built from the enum: ``STRONGLY_TYPED`` is 1 in 10.x and 0 in 11.x (where it is
    deprecated and always on), so a hand-written ``1 << 1`` would be wrong on one of them.
    """
    return 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
