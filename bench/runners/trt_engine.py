"""``trt``: our TensorRT engines, through ``gnet.engines`` (build, manifest check, ``EngineRunner``).

Kept thin on purpose: building, loading and running live in ``engines/``; this maps the
runner interface onto ``EngineRunner``'s copy_in / execute / copy_out steps and its CUDA events.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from gnet import defaults
from gnet.bench.runners.base import Availability, PrepareContext, Runner
from gnet.errors import GnetError


def _plan_covers(plan: Path, onnx: Path, max_batch: int) -> bool:
    """True when ``plan`` exists, was built from this very ONNX, and its profile reaches ``max_batch``."""
    from gnet.engines import manifest as manifest_mod
    from gnet.export.hashing import sha256_file

    manifest_path = manifest_mod.manifest_path_for(plan)
    if not plan.is_file() or not manifest_path.is_file():
        return False
    try:
        doc = manifest_mod.read(manifest_path)
    except GnetError:
        return False
    if doc.get("model", {}).get("onnx_sha256") != sha256_file(onnx):
        return False
    profile = (doc.get("inputs") or [{}])[0].get("profile") or {}
    top = profile.get("max") or [0]
    return int(top[0]) >= max_batch


class TrtRunner(Runner):
    """A gnet TensorRT engine (``googlenet_<precision>.plan``); ``cuda_graphs`` launches a captured graph."""

    backend = "trt"
    runtime = "TensorRT"
    device = "cuda"
    variants = ("default", "cuda_graphs")
    supports_stages = True

    def __init__(self, variant: str, precision: str) -> None:
        super().__init__(variant, precision)
        self._engine: Any = None

    @property
    def artifact_variant(self) -> str:
        return self.precision  # fp32, fp16, or the TensorRT-format symmetric int8 Q/DQ

    def available(self) -> Availability:
        from gnet.engines.availability import tensorrt_availability

        found = tensorrt_availability()
        return Availability.yes() if found.usable else Availability.no(found.reason)

    def prepare(self, ctx: PrepareContext) -> None:
        from gnet.engines.build import build_engine
        from gnet.engines.build_inputs import BuildOptions, default_plan_path
        from gnet.engines.runtime import EngineRunner

        start = time.perf_counter()
        onnx = ctx.artifact(self.artifact_variant)
        max_batch = max([defaults.MAX_BATCH, *ctx.batches])
        plan = default_plan_path(onnx, self.precision)
        if not _plan_covers(plan, onnx, max_batch):
            opt = max(ctx.batches) if ctx.batches else defaults.OPT_BATCH
            build_engine(onnx, plan, BuildOptions(min_batch=1, opt_batch=opt, max_batch=max_batch))
            self.notes.append(f"built {plan.name}")
        self.artifact_path = plan
        self._engine = EngineRunner(plan, cuda_graphs=self.variant == "cuda_graphs")
        self._engine.reserve(max(ctx.batches) if ctx.batches else 1)
        self.settings = {"plan": plan.name, "cuda_graphs": self.variant == "cuda_graphs",
                         "profile_batches": list(self._engine.batch_range), "opt_batch": self._engine.opt_batch}
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
        if self._engine is not None:
            self._engine.close()
            self._engine = None
