"""Import a TensorRT edition lazily, check it is new enough, and say exactly what to install when it is not.

Which edition, which version floor and which install command: the table in ``editions.py``.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType

from gnet import defaults
from gnet.engines.editions import AUTO_ORDER, TENSORRT, TENSORRT_RTX, Edition, spec_for
from gnet.errors import GnetError, NotAvailable, UsageError, first_line

INSTALL_COMMAND = TENSORRT.install
"""Data-centre TensorRT's packages (pyproject's ``tensorrt`` extra), spelled out: gnet itself is not on PyPI."""


def parse_version(text: str) -> tuple[int, ...]:
    """``"10.13.0.35"`` → ``(10, 13, 0, 35)``; anything unparsable → ``()``."""
    parts = re.findall(r"\d+", str(text).split("+")[0])
    return tuple(int(p) for p in parts[:4])


def version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(v) for v in version)


def import_runtime(spec: Edition) -> ModuleType:
    """Return the edition's module, or raise NotAvailable naming what is missing and how to install it.

    The import happens here, never at module import time; tests install a strict double as
    ``sys.modules["tensorrt"]`` (or ``"tensorrt_rtx"``) and this returns it.
    """
    where = "on a machine with an NVIDIA GPU install it" if spec.build_needs_gpu else "install it"
    try:
        trt = importlib.import_module(spec.module)
    except ImportError:
        raise NotAvailable(f"{spec.label} is not installed", f"the Python package {spec.module} cannot be imported",
                           f"{where} with: {spec.install}") from None
    except Exception as exc:  # a broken install (missing library, CUDA mismatch) raises OSError/RuntimeError
        raise NotAvailable(f"{spec.label} is installed but cannot be loaded", first_line(exc, 160),
                           f"reinstall it with: {spec.install}") from None
    check_version(trt, spec)
    return trt


def import_tensorrt() -> ModuleType:
    """Data-centre TensorRT (``tensorrt``)."""
    return import_runtime(TENSORRT)


def check_version(trt: ModuleType, spec: Edition = TENSORRT) -> tuple[int, ...]:
    """Refuse an edition older than its floor in the table."""
    raw = getattr(trt, "__version__", "")
    version = parse_version(raw)
    if not version:
        raise NotAvailable(f"cannot tell which {spec.label} this is", f"{spec.module}.__version__ is {raw!r}",
                           f"reinstall it with: {spec.install}")
    if version[:len(spec.min_version)] < spec.min_version:
        raise NotAvailable(f"{spec.label} {raw} is too old", spec.min_version_why,
                           f"upgrade with: {spec.install.replace('pip install', 'pip install --upgrade', 1)}")
    return version


def choose_runtime(choice: str) -> tuple[Edition, ModuleType]:
    """``--runtime auto|tensorrt|tensorrt-rtx`` → (spec, module).

    auto: data-centre TensorRT if it imports, else TensorRT-RTX, else one NotAvailable naming both causes.
    """
    if choice not in defaults.RUNTIMES:
        raise UsageError(f"--runtime must be one of {', '.join(defaults.RUNTIMES)}, not {choice!r}")
    if choice != "auto":
        spec = spec_for(choice)
        return spec, import_runtime(spec)
    causes = []
    for spec in AUTO_ORDER:
        try:
            return spec, import_runtime(spec)
        except GnetError as exc:
            causes.append(exc.cause)
    raise NotAvailable("no TensorRT is installed", "; and ".join(causes),
                       f"install TensorRT-RTX, which builds engines without a GPU, with: {TENSORRT_RTX.install} "
                       f"(or data-centre TensorRT on a GPU machine with: {TENSORRT.install})")


def strongly_typed_flags(trt: ModuleType) -> int:
    """The ``create_network`` flags for a strongly typed network.

    Built from the enum: ``STRONGLY_TYPED`` is 1 in 10.x and 0 in 11.x and TensorRT-RTX (where it
    is the only member), so a hand-written ``1 << 1`` would be wrong on one of them.
    """
    return 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
