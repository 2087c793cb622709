"""``trt-rtx``: our TensorRT-RTX plans (``googlenet_<p>.rtx.plan``) through ``EngineRunner``, on RTX-class GPUs.

The same runner as ``trt``; what differs is the edition's: plans built ahead of time (here, if missing),
a runtime cache beside each plan (``<plan>.rtxcache``, loaded and saved by ``EngineRunner``), and the
``cuda_graphs`` variant handing capture to TensorRT-RTX itself. Where it cannot run (no GPU; a GPU it
does not support, such as the H100's compute capability 9.0) it is listed with that reason, and the
harness still reports what building its plans costs here (``engine_builds``).
"""

from __future__ import annotations

from gnet.bench.runners.base import Availability
from gnet.bench.runners.trt_engine import TrtRunner


class TrtRtxRunner(TrtRunner):
    """A gnet TensorRT-RTX plan; ``cuda_graphs`` asks TensorRT-RTX to capture the whole graph."""

    backend = "trt-rtx"
    runtime = "tensorrt-rtx"

    def available(self) -> Availability:
        from gnet.engines.availability import rtx_availability

        found = rtx_availability()
        return Availability.yes() if found.usable else Availability.no(found.reason)
