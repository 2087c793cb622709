"""The pycuda implementation of :class:`~gnet.engines.cuda_binding.CudaBinding`, for machines without cuda-python."""

from __future__ import annotations

from typing import Any

import numpy as np

from gnet.engines.cuda_binding import CudaBinding, DeviceInfo, cuda_version_text
from gnet.errors import CudaError, first_line


class PyCudaBinding(CudaBinding):
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
                raise CudaError(f"CUDA device {device} is not available", f"pycuda sees {count} CUDA device(s)")
            self._dev = drv.Device(device)
            self._ctx = self._dev.retain_primary_context()
            self._ctx.push()
        except drv.Error as exc:
            raise CudaError(f"pycuda cannot open CUDA device {device}", first_line(exc, 160)) from None
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
        return CudaError("CUDA graphs need cuda-python", remedy="install it with: pip install \"cuda-python>=12.6.1\"")

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
