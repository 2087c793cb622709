"""Everything one owner allocated through a CUDA backend, freed together in reverse order."""

from __future__ import annotations

from typing import Any

import numpy as np

from gnet.engines.cuda_backend import CudaBackend


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
