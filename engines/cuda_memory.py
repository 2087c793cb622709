"""Device memory, pinned host memory, streams, events and CUDA graphs behind one small interface.

The runtime talks only to :class:`CudaBackend`. Two real implementations exist:
cuda-python (``cuda.bindings.runtime``, preferred) and pycuda (where only that is
installed). Tests on a machine without a GPU pass a host-memory implementation of
the same interface (``gnet.tests.trt_double.fake_cuda``), so the runtime's buffer
logic runs end to end on the CPU; the GPU tests exercise the cuda-python one.
"""

from __future__ import annotations

import abc
import ctypes
import importlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gnet.errors import GnetError
from gnet.engines.trt_import import INSTALL_COMMAND


class CudaError(GnetError):
    """A CUDA call failed; the message names the call and CUDA's own error name."""


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


class CudaBackend(abc.ABC):
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
        """Release what the backend itself holds (a pycuda context); allocations are freed by their owners."""


# ----------------------------------------------------------------------------------------------
# cuda-python
# ----------------------------------------------------------------------------------------------
class CudaPythonBackend(CudaBackend):
    """``cuda.bindings.runtime`` (cuda-python ≥ 12.6.1; ``from cuda import cudart`` is gone in 13.0)."""

    name = "cuda-python"
    supports_graphs = True

    def __init__(self, device: int = 0) -> None:
        from cuda.bindings import runtime as cudart

        try:
            from cuda.bindings.utils import get_cuda_native_handle as native_handle
        except ImportError:  # older cuda-python: int(stream) is the handle
            native_handle = int
        self._rt = cudart
        self._native_handle = native_handle
        self._pinned: dict[int, int] = {}  # data address → pinned allocation address
        count = self._check(cudart.cudaGetDeviceCount(), "cudaGetDeviceCount")
        if count < 1 or device >= count:
            raise CudaError(f"cuda-python sees {count} CUDA device(s), so device {device} is not available")
        self._check(cudart.cudaSetDevice(device), "cudaSetDevice")
        self._device = device

    def _check(self, result: Any, call: str) -> Any:
        err, *rest = result if isinstance(result, tuple) else (result,)
        if err != self._rt.cudaError_t.cudaSuccess:
            name = getattr(err, "name", str(err))
            try:
                text = self._rt.cudaGetErrorString(err)[1]
                text = text.decode() if isinstance(text, bytes) else str(text)
            except Exception:  # the error string is a courtesy; the name is enough
                text = ""
            raise CudaError(f"CUDA call {call} failed with {name}" + (f" ({text})" if text else ""))
        if not rest:
            return None
        return rest[0] if len(rest) == 1 else tuple(rest)

    def device_info(self) -> DeviceInfo:
        rt = self._rt
        props = self._check(rt.cudaGetDeviceProperties(self._device), "cudaGetDeviceProperties")
        name = props.name.decode(errors="replace") if isinstance(props.name, bytes) else str(props.name)
        driver = self._check(rt.cudaDriverGetVersion(), "cudaDriverGetVersion")
        runtime = self._check(rt.cudaRuntimeGetVersion(), "cudaRuntimeGetVersion")
        return DeviceInfo(
            name=name.split("\x00")[0].strip(),
            compute_capability=f"{props.major}.{props.minor}",
            total_memory_bytes=int(props.totalGlobalMem),
            driver_version=cuda_version_text(int(driver)),
            cuda_runtime_version=cuda_version_text(int(runtime)),
            index=self._device,
        )

    def malloc(self, nbytes: int) -> int:
        return int(self._check(self._rt.cudaMalloc(max(int(nbytes), 1)), "cudaMalloc"))

    def free(self, ptr: int) -> None:
        self._check(self._rt.cudaFree(ptr), "cudaFree")

    def pinned_empty(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        dt = np.dtype(dtype)
        nbytes = max(int(np.prod(shape, dtype=np.int64)) * dt.itemsize, 1)
        ptr = int(self._check(self._rt.cudaMallocHost(nbytes), "cudaMallocHost"))
        raw = (ctypes.c_ubyte * nbytes).from_address(ptr)
        array = np.frombuffer(raw, dtype=np.uint8, count=nbytes)[: int(np.prod(shape)) * dt.itemsize]
        array = array.view(dt).reshape(shape)
        self._pinned[array.__array_interface__["data"][0]] = ptr
        return array

    def free_pinned(self, array: np.ndarray) -> None:
        ptr = self._pinned.pop(array.__array_interface__["data"][0], None)
        if ptr is not None:
            self._check(self._rt.cudaFreeHost(ptr), "cudaFreeHost")

    def stream_create(self) -> Any:
        flag = self._rt.cudaStreamNonBlocking
        return self._check(self._rt.cudaStreamCreateWithFlags(flag), "cudaStreamCreateWithFlags")

    def stream_handle(self, stream: Any) -> int:
        return int(self._native_handle(stream))

    def stream_synchronize(self, stream: Any) -> None:
        self._check(self._rt.cudaStreamSynchronize(stream), "cudaStreamSynchronize")

    def stream_destroy(self, stream: Any) -> None:
        self._check(self._rt.cudaStreamDestroy(stream), "cudaStreamDestroy")

    def _copy(self, dst: int, src: int, nbytes: int, kind: Any, stream: Any, call: str) -> None:
        self._check(self._rt.cudaMemcpyAsync(dst, src, nbytes, kind, stream), call)

    def copy_htod_async(self, dst_ptr: int, src: np.ndarray, stream: Any) -> None:
        kind = self._rt.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._copy(dst_ptr, src.ctypes.data, src.nbytes, kind, stream, "cudaMemcpyAsync(host→device)")

    def copy_dtoh_async(self, dst: np.ndarray, src_ptr: int, stream: Any) -> None:
        kind = self._rt.cudaMemcpyKind.cudaMemcpyDeviceToHost
        self._copy(dst.ctypes.data, src_ptr, dst.nbytes, kind, stream, "cudaMemcpyAsync(device→host)")

    def copy_dtod_async(self, dst_ptr: int, src_ptr: int, nbytes: int, stream: Any) -> None:
        kind = self._rt.cudaMemcpyKind.cudaMemcpyDeviceToDevice
        self._copy(dst_ptr, src_ptr, nbytes, kind, stream, "cudaMemcpyAsync(device→device)")

    def event_create(self) -> Any:
        return self._check(self._rt.cudaEventCreate(), "cudaEventCreate")

    def event_record(self, event: Any, stream: Any) -> None:
        self._check(self._rt.cudaEventRecord(event, stream), "cudaEventRecord")

    def event_synchronize(self, event: Any) -> None:
        self._check(self._rt.cudaEventSynchronize(event), "cudaEventSynchronize")

    def event_elapsed_ms(self, start: Any, end: Any) -> float:
        return float(self._check(self._rt.cudaEventElapsedTime(start, end), "cudaEventElapsedTime"))

    def event_destroy(self, event: Any) -> None:
        self._check(self._rt.cudaEventDestroy(event), "cudaEventDestroy")

    def begin_capture(self, stream: Any) -> None:
        mode = self._rt.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal
        self._check(self._rt.cudaStreamBeginCapture(stream, mode), "cudaStreamBeginCapture")

    def end_capture(self, stream: Any) -> Any:
        graph = self._check(self._rt.cudaStreamEndCapture(stream), "cudaStreamEndCapture")
        try:
            return self._check(self._rt.cudaGraphInstantiate(graph, 0), "cudaGraphInstantiate")
        finally:
            self._check(self._rt.cudaGraphDestroy(graph), "cudaGraphDestroy")

    def abort_capture(self, stream: Any) -> None:
        err, graph = self._rt.cudaStreamEndCapture(stream)
        if err == self._rt.cudaError_t.cudaSuccess and graph is not None:
            self._rt.cudaGraphDestroy(graph)
        self._rt.cudaGetLastError()  # clear the (non-sticky) capture error so later calls start clean

    def graph_launch(self, graph_exec: Any, stream: Any) -> None:
        self._check(self._rt.cudaGraphLaunch(graph_exec, stream), "cudaGraphLaunch")

    def graph_destroy(self, graph_exec: Any) -> None:
        self._check(self._rt.cudaGraphExecDestroy(graph_exec), "cudaGraphExecDestroy")


# ----------------------------------------------------------------------------------------------
# pycuda
# ----------------------------------------------------------------------------------------------
class PyCudaBackend(CudaBackend):
    """pycuda's driver API, for machines that have pycuda but not cuda-python. No CUDA graphs."""

    name = "pycuda"
    supports_graphs = False

    def __init__(self, device: int = 0) -> None:
        import pycuda.driver as drv

        self._drv = drv
        try:
            drv.init()
            count = drv.Device.count()
            if count < 1 or device >= count:
                raise CudaError(f"pycuda sees {count} CUDA device(s), so device {device} is not available")
            self._dev = drv.Device(device)
            self._ctx = self._dev.retain_primary_context()
            self._ctx.push()
        except drv.Error as exc:
            raise CudaError(f"pycuda cannot open CUDA device {device} ({str(exc).strip()[:160]})") from None
        self._index = device
        self._device_allocs: dict[int, Any] = {}
        self._pinned: dict[int, np.ndarray] = {}

    def device_info(self) -> DeviceInfo:
        major, minor = self._dev.compute_capability()
        version = self._drv.get_version()
        return DeviceInfo(
            name=self._dev.name(),
            compute_capability=f"{major}.{minor}",
            total_memory_bytes=int(self._dev.total_memory()),
            driver_version=cuda_version_text(int(self._drv.get_driver_version())),
            cuda_runtime_version=".".join(str(v) for v in version[:2]),
            index=self._index,
        )

    def malloc(self, nbytes: int) -> int:
        alloc = self._drv.mem_alloc(max(int(nbytes), 1))
        self._device_allocs[int(alloc)] = alloc
        return int(alloc)

    def free(self, ptr: int) -> None:
        alloc = self._device_allocs.pop(ptr, None)
        if alloc is not None:
            alloc.free()

    def pinned_empty(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        array = self._drv.pagelocked_empty(shape, dtype)
        self._pinned[array.__array_interface__["data"][0]] = array
        return array

    def free_pinned(self, array: np.ndarray) -> None:
        owner = self._pinned.pop(array.__array_interface__["data"][0], None)
        base = getattr(owner, "base", None)
        if base is not None and hasattr(base, "free"):
            base.free()

    def stream_create(self) -> Any:
        return self._drv.Stream()

    def stream_handle(self, stream: Any) -> int:
        return int(stream.handle)

    def stream_synchronize(self, stream: Any) -> None:
        stream.synchronize()

    def stream_destroy(self, stream: Any) -> None:
        stream.synchronize()

    def copy_htod_async(self, dst_ptr: int, src: np.ndarray, stream: Any) -> None:
        self._drv.memcpy_htod_async(dst_ptr, src, stream)

    def copy_dtoh_async(self, dst: np.ndarray, src_ptr: int, stream: Any) -> None:
        self._drv.memcpy_dtoh_async(dst, src_ptr, stream)

    def copy_dtod_async(self, dst_ptr: int, src_ptr: int, nbytes: int, stream: Any) -> None:
        self._drv.memcpy_dtod_async(dst_ptr, src_ptr, nbytes, stream)

    def event_create(self) -> Any:
        return self._drv.Event()

    def event_record(self, event: Any, stream: Any) -> None:
        event.record(stream)

    def event_synchronize(self, event: Any) -> None:
        event.synchronize()

    def event_elapsed_ms(self, start: Any, end: Any) -> float:
        return float(end.time_since(start))

    def event_destroy(self, event: Any) -> None:
        return None

    def _no_graphs(self) -> CudaError:
        return CudaError("CUDA graphs need cuda-python; install it with: pip install \"cuda-python>=12.6.1\"")

    def begin_capture(self, stream: Any) -> None:
        raise self._no_graphs()

    def end_capture(self, stream: Any) -> Any:
        raise self._no_graphs()

    def abort_capture(self, stream: Any) -> None:
        return None

    def graph_launch(self, graph_exec: Any, stream: Any) -> None:
        raise self._no_graphs()

    def graph_destroy(self, graph_exec: Any) -> None:
        return None

    def close(self) -> None:
        if getattr(self, "_ctx", None) is not None:
            self._ctx.pop()
            self._ctx = None


# ----------------------------------------------------------------------------------------------
# choosing one
# ----------------------------------------------------------------------------------------------
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
    reasons: list[str] = []
    for name in order:
        if name not in _OPENERS:
            raise GnetError(f"unknown CUDA backend {name!r}; use one of {', '.join(BACKENDS)}")
        module, backend = _OPENERS[name]
        if not _module_present(module):
            reasons.append(f"{name} is not installed")
            continue
        try:
            return backend(device)
        except CudaError as exc:
            reasons.append(f"no CUDA GPU is usable through {name} ({exc})")
    if all("not installed" in r for r in reasons):
        raise GnetError(f"neither cuda-python nor pycuda is installed; install them with: {INSTALL_COMMAND}")
    raise GnetError("; ".join(r for r in reasons if "not installed" not in r) or "no CUDA GPU is usable")


class Allocations:
    """Everything one owner allocated through a backend, freed together in reverse order.

    ``close()`` is idempotent and keeps going past a failing free, so a runner's
    ``__exit__`` releases all it can even after a CUDA error.
    """

    def __init__(self, backend: CudaBackend) -> None:
        self.backend = backend
        self._items: list[tuple[str, Any]] = []

    def malloc(self, nbytes: int) -> int:
        ptr = self.backend.malloc(nbytes)
        self._items.append(("device", ptr))
        return ptr

    def pinned(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        array = self.backend.pinned_empty(shape, dtype)
        self._items.append(("pinned", array))
        return array

    def stream(self) -> Any:
        stream = self.backend.stream_create()
        self._items.append(("stream", stream))
        return stream

    def event(self) -> Any:
        event = self.backend.event_create()
        self._items.append(("event", event))
        return event

    def adopt_graph(self, graph_exec: Any) -> Any:
        self._items.append(("graph", graph_exec))
        return graph_exec

    def release(self, item: Any) -> None:
        """Free one item now (a buffer being replaced by a larger one, an outdated graph)."""
        for i, (kind, held) in enumerate(self._items):
            if held is item:
                del self._items[i]
                self._free(kind, held)
                return

    def _free(self, kind: str, item: Any) -> None:
        b = self.backend
        {"device": b.free, "pinned": b.free_pinned, "stream": b.stream_destroy,
         "event": b.event_destroy, "graph": b.graph_destroy}[kind](item)

    def close(self) -> None:
        first_error: Exception | None = None
        while self._items:
            kind, item = self._items.pop()
            try:
                self._free(kind, item)
            except Exception as exc:  # keep freeing the rest; report the first failure afterwards
                first_error = first_error or exc
        if first_error is not None:
            raise first_error
