"""The double's TensorRT-RTX runtime side: the runtime config, its runtime cache (``rtx`` layout only).

The real objects need a GPU (TensorRT-RTX compiles kernels when a context first runs a shape); the
double records those "kernels" per input shape in the runtime cache, so gnet's load-and-save of the
cache file can be tested. ``Behaviour.cache_rejects`` makes ``deserialize`` refuse a cache, as
TensorRT-RTX does for one made on another GPU, driver or version.
"""

from __future__ import annotations

import json
from typing import Any

from tests.trt_double.strict import Strict

CACHE_MAGIC = b"GNET-TRT-DOUBLE-RUNTIME-CACHE\n"


def _ctx() -> Any:
    from tests.trt_double.core import _Ctx

    return _Ctx


class IRuntimeCache(Strict):
    _TRT_CLASS = "IRuntimeCache"

    def __init__(self) -> None:
        self._entries: dict[str, str] = {}

    def serialize(self) -> Any:
        from tests.trt_double.core import IHostMemory

        body = json.dumps({"version": str(_ctx().trt.__version__), "entries": self._entries}, sort_keys=True)
        return IHostMemory(CACHE_MAGIC + body.encode())

    def deserialize(self, blob: Any) -> bool:
        data = bytes(memoryview(blob))
        if _ctx().behaviour.cache_rejects or not data.startswith(CACHE_MAGIC):
            return False
        doc = json.loads(data[len(CACHE_MAGIC):])
        if doc["version"] != str(_ctx().trt.__version__):
            return False
        self._entries = dict(doc["entries"])
        return True

    def reset(self) -> bool:
        self._entries.clear()
        return True


class IRuntimeConfig(Strict):
    _TRT_CLASS = "IRuntimeConfig"

    def __init__(self) -> None:
        self._cache: IRuntimeCache | None = None
        self._graphs = _ctx().trt.CudaGraphStrategy.DISABLED

    def create_runtime_cache(self) -> IRuntimeCache:
        return IRuntimeCache()

    def set_runtime_cache(self, cache: IRuntimeCache | None = None) -> bool:
        self._cache = cache
        return True

    def get_runtime_cache(self) -> IRuntimeCache | None:
        return self._cache

    @property
    def cuda_graph_strategy(self) -> Any:
        return self._graphs

    @cuda_graph_strategy.setter
    def cuda_graph_strategy(self, value: Any) -> None:
        self._graphs = value

    def _compiled(self, shapes: dict[str, tuple[int, ...]]) -> None:
        """A context ran these shapes: TensorRT-RTX compiled (and cached) kernels for them."""
        if self._cache is not None:
            self._cache._entries.setdefault(json.dumps(shapes, sort_keys=True), "jit kernels")


def engine_validity(data: bytes, plan_magic: bytes) -> tuple[Any, int]:
    """What ``Runtime.get_engine_validity`` answers: malformed for anything but a double plan, else the knob."""
    trt = _ctx().trt
    if not data.startswith(plan_magic):
        return trt.EngineValidity.INVALID, int(trt.EngineInvalidityDiagnostics.MALFORMED_ENGINE)
    name, bits = _ctx().behaviour.validity
    return getattr(trt.EngineValidity, name), int(bits)
