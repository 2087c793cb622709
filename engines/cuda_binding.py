"""The few CUDA operations an engine runner needs, behind one small interface (:class:`CudaBinding`).

Two real implementations exist, one per file: cuda-python (``cuda_python_binding``, preferred)
and pycuda (``pycuda_binding``, where only that is installed); ``cuda_choice.get_binding`` opens
the first usable one. Tests on a machine without a GPU pass a host-memory implementation of the
same interface (``tests/trt_double/fake_cuda.py``), so the runtime's buffer logic runs end to end
on the CPU; the GPU tests exercise the cuda-python one.
"""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class DeviceInfo:
    """What a manifest records about the GPU an engine was built on (and what the loader compares)."""

    name: str
    compute_capability: str  # "major.minor", e.g. "9.0"
    total_memory_bytes: int
    driver_version: str
    cuda_runtime_version: str
    index: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cuda_version_text(value: int) -> str:
    """CUDA encodes versions as ``1000 * major + 10 * minor``: 12080 → ``"12.8"``."""
    if value <= 0:
        return "none"
    return f"{value // 1000}.{(value % 1000) // 10}"


class CudaBinding(abc.ABC):
    """The few CUDA operations an engine runner needs. Pointers and sizes are plain ints."""

    name: str = "abstract"
    supports_graphs: bool = True

    @abc.abstractmethod
    def device_info(self) -> DeviceInfo: ...

    # --- memory -------------------------------------------------------------------------
    @abc.abstractmethod
    def malloc(self, nbytes: int) -> int:
        """Allocate ``nbytes`` of device memory; return its address."""

    @abc.abstractmethod
    def free(self, ptr: int) -> None: ...

    @abc.abstractmethod
    def pinned_empty(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        """A page-locked host array (needed for truly asynchronous copies)."""

    @abc.abstractmethod
    def free_pinned(self, array: np.ndarray) -> None: ...

    # --- streams and copies -----------------------------------------------------------------
    @abc.abstractmethod
    def stream_create(self) -> Any:
        """A new non-default (non-blocking) stream."""

    @abc.abstractmethod
    def stream_handle(self, stream: Any) -> int:
        """The ``cudaStream_t`` as an int, what ``execute_async_v3`` takes."""

    @abc.abstractmethod
    def stream_synchronize(self, stream: Any) -> None: ...

    @abc.abstractmethod
    def stream_destroy(self, stream: Any) -> None: ...

    @abc.abstractmethod
    def copy_htod_async(self, dst_ptr: int, src: np.ndarray, stream: Any) -> None: ...

    @abc.abstractmethod
    def copy_dtoh_async(self, dst: np.ndarray, src_ptr: int, stream: Any) -> None: ...

    @abc.abstractmethod
    def copy_dtod_async(self, dst_ptr: int, src_ptr: int, nbytes: int, stream: Any) -> None: ...

    # --- events -------------------------------------------------------------------------------
    @abc.abstractmethod
    def event_create(self) -> Any: ...

    @abc.abstractmethod
    def event_record(self, event: Any, stream: Any) -> None: ...

    @abc.abstractmethod
    def event_synchronize(self, event: Any) -> None: ...

    @abc.abstractmethod
    def event_elapsed_ms(self, start: Any, end: Any) -> float: ...

    @abc.abstractmethod
    def event_destroy(self, event: Any) -> None: ...

    # --- CUDA graphs ----------------------------------------------------------------------------
    @abc.abstractmethod
    def begin_capture(self, stream: Any) -> None: ...

    @abc.abstractmethod
    def end_capture(self, stream: Any) -> Any:
        """End the capture and return an instantiated, launchable graph."""

    @abc.abstractmethod
    def abort_capture(self, stream: Any) -> None:
        """End a capture that went wrong and discard what it recorded."""

    @abc.abstractmethod
    def graph_launch(self, graph_exec: Any, stream: Any) -> None: ...

    @abc.abstractmethod
    def graph_destroy(self, graph_exec: Any) -> None: ...

    def close(self) -> None:
        """Release what the binding itself holds (a pycuda context); allocations are freed by their owners."""
