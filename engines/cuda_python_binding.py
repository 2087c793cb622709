"""The cuda-python implementation of :class:`~gnet.engines.cuda_binding.CudaBinding` (``cuda.bindings.runtime``)."""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from gnet.engines.cuda_binding import CudaBinding, DeviceInfo, cuda_version_text
from gnet.errors import CudaError


class CudaPythonBinding(CudaBinding):
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
            raise CudaError(f"CUDA device {device} is not available", f"cuda-python sees {count} CUDA device(s)")
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
            raise CudaError(f"CUDA call {call} failed", f"{name}" + (f" ({text})" if text else ""))
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
