"""A CUDA device made of host memory, behind gnet's ``CudaBinding`` interface.

It behaves like the real thing where the runtime's logic can go wrong:
- work on a stream is queued and runs only at ``stream_synchronize``/``event_synchronize``
  (reading a pinned output before synchronizing gives stale bytes, as on a GPU);
- copies read and write host arrays when they run, not when they are enqueued;
- device addresses are synthetic; touching bytes outside an allocation is an
  "illegal memory access" reported at the next synchronize;
- graph capture records the stream's work instead of running it; ``graph_launch`` replays it;
  synchronizing a capturing stream is an error;
- everything allocated is counted, so tests can prove a runner frees all it took.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gnet.engines.cuda_binding import CudaBinding, DeviceInfo
from gnet.errors import CudaError

_STREAMS: dict[int, tuple["FakeDevice", "FakeStream"]] = {}
_HANDLES = itertools.count(0x5000)


class FakeCudaError(CudaError):
    """What a failed CUDA call raises (a GnetError, like the real backends' CudaError)."""


@dataclass
class FakeStream:
    handle: int
    queue: list[Callable[[], None]] = field(default_factory=list)
    capture: list[Callable[[], None]] | None = None
    error: str | None = None


@dataclass
class FakeEvent:
    time: float | None = None
    stream: FakeStream | None = None


@dataclass
class FakeGraph:
    ops: list[Callable[[], None]]


def lookup_stream(handle: int) -> tuple["FakeDevice", FakeStream] | None:
    """The device and stream behind a handle passed to ``execute_async_v3``."""
    return _STREAMS.get(int(handle))


class FakeDevice(CudaBinding):
    name = "fake-cuda"
    supports_graphs = True

    def __init__(self, name: str = "Fake GPU (host memory)", compute_capability: str = "9.0",
                 supports_graphs: bool = True) -> None:
        self._info = DeviceInfo(name=name, compute_capability=compute_capability, total_memory_bytes=80 * 2**30,
                                driver_version="13.0", cuda_runtime_version="13.0")
        self.supports_graphs = supports_graphs
        self._next = 0x7F00_0000_0000
        self.device: dict[int, np.ndarray] = {}
        self.pinned: dict[int, np.ndarray] = {}
        self.streams: dict[int, FakeStream] = {}
        self.events: set[int] = set()
        self.graphs: set[int] = set()
        self.pageable_copies = 0
        self.graph_launches = 0
        self.captures = 0
        self.closed = False

    # --- bookkeeping --------------------------------------------------------------------------
    def device_info(self) -> DeviceInfo:
        return self._info

    def leaks(self) -> dict[str, int]:
        """What is still allocated (empty when everything was freed)."""
        counts = {"device": len(self.device), "pinned": len(self.pinned), "streams": len(self.streams),
                  "events": len(self.events), "graphs": len(self.graphs)}
        return {k: v for k, v in counts.items() if v}

    def _find(self, ptr: int, nbytes: int) -> np.ndarray:
        for base, buf in self.device.items():
            if base <= ptr and ptr + nbytes <= base + buf.nbytes:
                return buf[ptr - base: ptr - base + nbytes]
        raise FakeCudaError(f"CUDA call failed with cudaErrorIllegalAddress (an illegal memory access: "
                            f"{nbytes} bytes at {ptr:#x} lie outside every allocation)")

    def read(self, ptr: int, nbytes: int) -> np.ndarray:
        """Device bytes ``[ptr, ptr+nbytes)`` (a view)."""
        return self._find(ptr, nbytes)

    def write(self, ptr: int, data: np.ndarray) -> None:
        raw = np.ascontiguousarray(data).view(np.uint8).reshape(-1)
        self._find(ptr, raw.nbytes)[...] = raw

    def enqueue(self, stream: FakeStream, op: Callable[[], None]) -> None:
        (stream.capture if stream.capture is not None else stream.queue).append(op)

    def _stream(self, stream: Any) -> FakeStream:
        if not isinstance(stream, FakeStream) or stream.handle not in self.streams:
            raise FakeCudaError("CUDA call failed with cudaErrorInvalidResourceHandle (unknown stream)")
        return stream

    # --- memory -------------------------------------------------------------------------------
    def malloc(self, nbytes: int) -> int:
        ptr = self._next
        self._next += (max(int(nbytes), 1) + 511) // 256 * 256  # a gap after each allocation
        self.device[ptr] = np.full(max(int(nbytes), 1), 0xAB, dtype=np.uint8)
        return ptr

    def free(self, ptr: int) -> None:
        if self.device.pop(ptr, None) is None:
            raise FakeCudaError(f"CUDA call cudaFree failed with cudaErrorInvalidValue (no allocation at {ptr:#x})")

    def pinned_empty(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        array = np.empty(shape, dtype)
        array.view(np.uint8).reshape(-1)[...] = 0xCD  # garbage, as fresh memory is
        self.pinned[array.__array_interface__["data"][0]] = array
        return array

    def free_pinned(self, array: np.ndarray) -> None:
        if self.pinned.pop(array.__array_interface__["data"][0], None) is None:
            raise FakeCudaError("CUDA call cudaFreeHost failed with cudaErrorInvalidValue (not pinned memory)")

    def _is_pinned(self, array: np.ndarray) -> bool:
        start = array.__array_interface__["data"][0]
        for base in self.pinned.values():
            lo = base.__array_interface__["data"][0]
            if lo <= start and start + array.nbytes <= lo + base.nbytes:
                return True
        return False

    # --- streams and copies ---------------------------------------------------------------------
    def stream_create(self) -> FakeStream:
        stream = FakeStream(next(_HANDLES))
        self.streams[stream.handle] = stream
        _STREAMS[stream.handle] = (self, stream)
        return stream

    def stream_handle(self, stream: Any) -> int:
        return self._stream(stream).handle

    def stream_synchronize(self, stream: Any) -> None:
        s = self._stream(stream)
        if s.capture is not None:
            raise FakeCudaError("CUDA call cudaStreamSynchronize failed with cudaErrorStreamCaptureUnsupported")
        while s.queue:
            op = s.queue.pop(0)
            try:
                op()
            except FakeCudaError as exc:
                s.queue.clear()
                raise FakeCudaError(str(exc)) from None

    def stream_destroy(self, stream: Any) -> None:
        s = self._stream(stream)
        s.queue.clear()
        del self.streams[s.handle]
        _STREAMS.pop(s.handle, None)

    def copy_htod_async(self, dst_ptr: int, src: np.ndarray, stream: Any) -> None:
        s = self._stream(stream)
        if not self._is_pinned(src):
            self.pageable_copies += 1
        self.enqueue(s, lambda: self.write(dst_ptr, src))

    def copy_dtoh_async(self, dst: np.ndarray, src_ptr: int, stream: Any) -> None:
        s = self._stream(stream)
        if not self._is_pinned(dst):
            self.pageable_copies += 1

        def run() -> None:
            dst.view(np.uint8).reshape(-1)[...] = self.read(src_ptr, dst.nbytes)

        self.enqueue(s, run)

    def copy_dtod_async(self, dst_ptr: int, src_ptr: int, nbytes: int, stream: Any) -> None:
        s = self._stream(stream)
        self.enqueue(s, lambda: self.write(dst_ptr, self.read(src_ptr, nbytes).copy()))

    # --- events ---------------------------------------------------------------------------------
    def event_create(self) -> FakeEvent:
        event = FakeEvent()
        self.events.add(id(event))
        return event

    def event_record(self, event: Any, stream: Any) -> None:
        s = self._stream(stream)
        event.stream = s

        def stamp() -> None:
            event.time = time.perf_counter()

        self.enqueue(s, stamp)

    def event_synchronize(self, event: Any) -> None:
        if event.stream is None:
            raise FakeCudaError("CUDA call cudaEventSynchronize failed: the event was never recorded")
        self.stream_synchronize(event.stream)

    def event_elapsed_ms(self, start: Any, end: Any) -> float:
        if start.time is None or end.time is None:
            raise FakeCudaError("CUDA call cudaEventElapsedTime failed with cudaErrorNotReady")
        return (end.time - start.time) * 1000.0

    def event_destroy(self, event: Any) -> None:
        self.events.discard(id(event))

    # --- graphs -----------------------------------------------------------------------------------
    def begin_capture(self, stream: Any) -> None:
        s = self._stream(stream)
        if s.capture is not None:
            raise FakeCudaError("CUDA call cudaStreamBeginCapture failed: the stream is already capturing")
        if not self.supports_graphs:
            raise FakeCudaError("this fake device has CUDA graphs switched off")
        s.capture = []

    def end_capture(self, stream: Any) -> FakeGraph:
        s = self._stream(stream)
        if s.capture is None:
            raise FakeCudaError("CUDA call cudaStreamEndCapture failed: the stream is not capturing")
        graph = FakeGraph(s.capture)
        s.capture = None
        self.graphs.add(id(graph))
        self.captures += 1
        return graph

    def abort_capture(self, stream: Any) -> None:
        self._stream(stream).capture = None

    def graph_launch(self, graph_exec: Any, stream: Any) -> None:
        if id(graph_exec) not in self.graphs:
            raise FakeCudaError("CUDA call cudaGraphLaunch failed with cudaErrorInvalidResourceHandle")
        s = self._stream(stream)
        self.graph_launches += 1
        for op in graph_exec.ops:
            self.enqueue(s, op)

    def graph_destroy(self, graph_exec: Any) -> None:
        self.graphs.discard(id(graph_exec))

    def close(self) -> None:
        self.closed = True
