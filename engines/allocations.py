"""Everything one owner allocated through a CUDA binding, freed together in reverse order."""

from __future__ import annotations

from typing import Any

import numpy as np

from gnet.engines.cuda_binding import CudaBinding


class Allocations:
    """Everything one owner allocated through a binding, freed together in reverse order.

    ``close()`` is idempotent and keeps going past a failing free, so a runner's
    ``__exit__`` releases all it can even after a CUDA error.
    """

    def __init__(self, binding: CudaBinding) -> None:
        self.binding = binding
        self._items: list[tuple[str, Any]] = []

    def malloc(self, nbytes: int) -> int:
        ptr = self.binding.malloc(nbytes)
        self._items.append(("device", ptr))
        return ptr

    def pinned(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        array = self.binding.pinned_empty(shape, dtype)
        self._items.append(("pinned", array))
        return array

    def stream(self) -> Any:
        stream = self.binding.stream_create()
        self._items.append(("stream", stream))
        return stream

    def event(self) -> Any:
        event = self.binding.event_create()
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
        b = self.binding
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
