"""``trt``: our data-centre TensorRT engines, through ``gnet.engines`` (build, manifest check, ``EngineRunner``).

Kept thin on purpose: building, loading and running live in ``engines/``; this maps the
runner interface onto ``EngineRunner``'s copy_in / execute / copy_out steps and its CUDA events.
``trt-rtx`` (``TrtRtxRunner``, at the end) is the same runner for TensorRT-RTX plans.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gnet.bench.runners.base import Availability, PrepareContext, Runner
from gnet.pipeline import ensure_plan


class TrtRunner(Runner):
    """A gnet TensorRT engine (``googlenet_<precision>.plan``); ``cuda_graphs`` launches a captured graph."""

    backend = "trt"
    runtime = "tensorrt"  # the manifest's runtime of the plans this runner builds and loads
    device = "cuda"
    variants = ("default", "cuda_graphs")
    supports_stages = True

    def __init__(self, variant: str, precision: str) -> None:
        super().__init__(variant, precision)
        self._runner: Any = None  # gnet.runners.TensorRTRunner
        self._engine: Any = None  # its EngineRunner

    @property
    def artifact_kind(self) -> str:
        return self.precision  # fp32, fp16, or the TensorRT-format symmetric int8 Q/DQ

    def available(self) -> Availability:
        from gnet.engines.availability import tensorrt_support

        found = tensorrt_support()
        return found.availability

    def prepare(self, ctx: PrepareContext) -> None:
        from gnet.runners import TensorRTRunner

        start = time.perf_counter()
        plan = ensure_plan(ctx.artifact(self.artifact_kind), self.precision, self.runtime, ctx.batches)
        if plan.built_now:
            self.notes.append(f"built {plan.path.name}")
        self.artifact_path = plan.path
        self._runner = TensorRTRunner(plan.path, cuda_graphs=self.variant == "cuda_graphs").activate()
        self._engine = self._runner.engine
        self._engine.reserve(max(ctx.batches) if ctx.batches else 1)
        self.settings = {"plan": plan.path.name, "runtime": self.runtime, "cuda_graphs": self.variant == "cuda_graphs",
                         "profile_batches": list(self._engine.batch_range), "opt_batch": self._engine.opt_batch,
                         "build_s": plan.manifest["build"]["seconds"]}
        if self._engine.runtime_cache_path is not None:
            self.settings["runtime_cache"] = str(self._engine.runtime_cache_path)
        self.notes.extend(self._engine.warnings)
        self.setup_s += time.perf_counter() - start

    def prepare_batch(self, batch: int) -> None:
        self._engine.prepare(batch)
        if self.variant == "cuda_graphs":
            self._engine.copy_in(np.zeros(self._engine.input_shape(batch), np.float32))
            self._engine.execute()  # captures the graph now, outside the timing
            self._engine.synchronize()
            if self._engine.graph_fallback and self._engine.graph_fallback not in self.notes:
                self.notes.append(self._engine.graph_fallback)

    def upload(self, images: np.ndarray) -> None:
        self._engine.copy_in(images)

    def compute(self) -> None:
        self._engine.execute()

    def download(self) -> np.ndarray:
        return self._engine.copy_out()

    def synchronize(self) -> None:
        self._engine.synchronize()

    def new_event(self) -> Any:
        return self._engine.new_event()

    def record(self, event: Any) -> None:
        self._engine.record(event)

    def elapsed_ms(self, start: Any, end: Any) -> float:
        return float(self._engine.elapsed_ms(start, end))

    def run(self, images: np.ndarray) -> np.ndarray:
        return self._engine.infer(images)

    def close(self) -> None:
        if self._runner is not None:
            self._runner.deactivate()
        self._runner = self._engine = None


# ``trt-rtx``: the same runner on TensorRT-RTX plans (``googlenet_<p>.rtx.plan``), on RTX-class GPUs. What differs is
# the edition's: plans built ahead of time (here, if missing), a runtime cache beside each plan (``<plan>.rtxcache``,
# loaded and saved by ``EngineRunner``), and the ``cuda_graphs`` variant handing capture to TensorRT-RTX itself.
# Where it cannot run (no GPU; a GPU it does not support, such as the H100's compute capability 9.0) it is listed
# with that reason, and the harness still reports what building its plans costs here (``engine_builds``).


class TrtRtxRunner(TrtRunner):
    """A gnet TensorRT-RTX plan; ``cuda_graphs`` asks TensorRT-RTX to capture the whole graph."""

    backend = "trt-rtx"
    runtime = "tensorrt-rtx"

    def available(self) -> Availability:
        from gnet.engines.availability import rtx_support

        found = rtx_support()
        return found.availability
