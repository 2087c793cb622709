"""Choosing a CUDA binding: cuda-python if it works here, else pycuda, else one sentence saying why neither."""

from __future__ import annotations

import importlib

from gnet.engines.cuda_binding import CudaBinding
from gnet.engines.cuda_python_binding import CudaPythonBinding
from gnet.engines.pycuda_binding import PyCudaBinding
from gnet.engines.trt_import import INSTALL_COMMAND
from gnet.errors import CudaError, GnetError, NotAvailable

_OPENERS: dict[str, tuple[str, type[CudaBinding]]] = {
    "cuda-python": ("cuda.bindings.runtime", CudaPythonBinding),
    "pycuda": ("pycuda.driver", PyCudaBinding),
}
"""Each device-buffer binding, in order of preference: the module that says it is installed, its class."""
BINDINGS = tuple(_OPENERS)


def _module_present(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    except Exception:  # present but broken still counts as present; opening it reports why
        return True
    return True


def get_binding(prefer: str | None = None, device: int = 0) -> CudaBinding:
    """Open the first usable binding (cuda-python, then pycuda), or raise one sentence saying why none is."""
    order = [prefer] if prefer else list(BINDINGS)
    missing: list[str] = []
    failed: list[str] = []
    for name in order:
        if name not in _OPENERS:
            raise GnetError(f"unknown CUDA binding {name!r}", remedy=f"use one of {', '.join(BINDINGS)}")
        module, binding = _OPENERS[name]
        if not _module_present(module):
            missing.append(name)
            continue
        try:
            return binding(device)
        except CudaError as exc:
            failed.append(f"no CUDA GPU is usable through {name} ({exc})")
    if failed:
        raise NotAvailable("; ".join(failed))
    what = f"{missing[0]} is not installed" if len(missing) == 1 else f"neither {' nor '.join(missing)} is installed"
    raise NotAvailable(what, remedy=f"install them with: {INSTALL_COMMAND}")
