"""Choosing a CUDA backend: cuda-python if it works here, else pycuda, else one sentence saying why neither."""

from __future__ import annotations

import importlib

from gnet.engines.cuda_backend import CudaBackend
from gnet.engines.cuda_python_backend import CudaPythonBackend
from gnet.engines.pycuda_backend import PyCudaBackend
from gnet.engines.trt_import import INSTALL_COMMAND
from gnet.errors import CudaError, GnetError, NotAvailable

_OPENERS: dict[str, tuple[str, type[CudaBackend]]] = {
    "cuda-python": ("cuda.bindings.runtime", CudaPythonBackend),
    "pycuda": ("pycuda.driver", PyCudaBackend),
}
"""Each device-buffer backend, in order of preference: the module that says it is installed, its class."""
BACKENDS = tuple(_OPENERS)


def _module_present(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    except Exception:  # present but broken still counts as present; opening it reports why
        return True
    return True


def get_backend(prefer: str | None = None, device: int = 0) -> CudaBackend:
    """Open the first usable backend (cuda-python, then pycuda), or raise one sentence saying why none is."""
    order = [prefer] if prefer else list(BACKENDS)
    missing: list[str] = []
    failed: list[str] = []
    for name in order:
        if name not in _OPENERS:
            raise GnetError(f"unknown CUDA backend {name!r}", remedy=f"use one of {', '.join(BACKENDS)}")
        module, backend = _OPENERS[name]
        if not _module_present(module):
            missing.append(name)
            continue
        try:
            return backend(device)
        except CudaError as exc:
            failed.append(f"no CUDA GPU is usable through {name} ({exc})")
    if failed:
        raise NotAvailable("; ".join(failed))
    what = f"{missing[0]} is not installed" if len(missing) == 1 else f"neither {' nor '.join(missing)} is installed"
    raise NotAvailable(what, remedy=f"install them with: {INSTALL_COMMAND}")
