"""``openvino-cpu``: OpenVINO's CPU plugin on gnet's ONNX files (read directly; ``gnet openvino`` writes the IR).

Rows (variant × precision):

* ``default`` fp32: the FP32 graph with ``INFERENCE_PRECISION_HINT=f32`` (without it OpenVINO runs FP32 in
  BF16 on CPUs that have BF16, and the row would be mislabelled);
* ``default`` bf16 / fp16: the FP32 graph with the hint ``bf16`` / ``f16``, only where OpenVINO's
  OPTIMIZATION_CAPABILITIES lists BF16 / FP16 (asked anyway, OpenVINO silently runs f32);
* ``default`` int8: gnet's CPU-format INT8 (``googlenet_int8_cpu.qdq.onnx``: u8/s8, 7-bit weights);
* ``trt-qdq`` int8: the TensorRT-format INT8 (``googlenet_int8.qdq.onnx``: s8/s8, 8-bit weights), one
  artifact for GPU engines and CPUs where it passes parity. OpenVINO has run it wrong on every CPU measured
  (docs/tolerances.md): the harness's parity marks the row failed, and it is never the best CPU path;
* ``tuned``: the default's artifact, per batch size the fastest of :func:`~openvino_options.layouts`,
  measured here; OpenVINO's defaults are kept unless another is at least 5% faster.

Every row records what the compiled model really runs (``settings.read_back``, ``settings.executed_precision``)
and refuses to run when that is not the row's precision: a "bf16" row that ran in f32 is not a bf16 row.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gnet import runners
from gnet.bench.runners.base import Availability, PrepareContext, Runner
from gnet.bench.runners.openvino_options import DEFAULT, TUNED_MARGIN, UNTUNED, OvTuning, compile_config, layouts
from gnet.defaults import BENCH_PRECISIONS
from gnet.errors import NotAvailable
from gnet.openvino_ir import runtime as ovr
from gnet.system import physical_cores

_GRAPH = {"fp32": "fp32", "fp16": "fp32", "bf16": "fp32", "int8": "int8-cpu"}
"""fp16 and bf16 are OpenVINO's own execution of the FP32 graph (the precision hint), never a file."""
ARTIFACTS = {**{(variant, p): a for variant in ("default", "tuned") for p, a in _GRAPH.items()},
             ("trt-qdq", "int8"): "int8"}
"""The ``prepare_artifacts`` variant each row reads; combinations missing here are not rows."""


class _Compiled:
    """One compiled model and its infer requests; ``run`` splits a batch over the requests in flight."""

    def __init__(self, compiled: Any, requests: int) -> None:
        self.compiled = compiled
        self.requests = [compiled.create_infer_request() for _ in range(max(1, requests))]

    def run(self, images: np.ndarray) -> np.ndarray:
        import openvino as ov

        if len(self.requests) == 1:
            out = self.requests[0].infer({0: ov.Tensor(images, shared_memory=True)})[0]
            return np.array(out, dtype=np.float32, copy=True)
        bounds = np.array_split(np.arange(len(images)), min(len(self.requests), len(images)))
        busy = list(zip(self.requests, bounds))
        for request, index in busy:  # contiguous slices of a C-contiguous batch: no copy
            request.start_async({0: ov.Tensor(images[index[0]:index[-1] + 1], shared_memory=True)})
        parts = []
        for request, _ in busy:
            request.wait()
            parts.append(np.array(request.get_output_tensor(0).data, dtype=np.float32, copy=True))
        return np.concatenate(parts)


class OpenVinoCpuRunner(Runner):
    """OpenVINO's CPU plugin (see the module docstring for the rows)."""

    backend = "openvino-cpu"
    runtime = "openvino"
    device = "cpu"
    variants = ("default", "tuned", "trt-qdq")
    precisions = BENCH_PRECISIONS

    def __init__(self, variant: str, precision: str, tuning: OvTuning | None = None) -> None:
        super().__init__(variant, precision)
        self.tuning = tuning
        self._autotune = variant == "tuned" and tuning is None
        self._model: Any = None
        self._compiled: dict[int | None, _Compiled] = {}
        self._chosen: dict[int, OpenVinoCpuRunner] = {}
        self._ctx: PrepareContext | None = None

    @classmethod
    def is_row(cls, variant: str, precision: str) -> bool:
        return (variant, precision) in ARTIFACTS  # trt-qdq is INT8 only

    @property
    def artifact_kind(self) -> str:
        return ARTIFACTS[(self.variant, self.precision)]

    def available(self) -> Availability:
        if ovr.version() is None:
            return Availability.no(f"OpenVINO is not installed ({ovr.INSTALL})")
        devices = ovr.core().available_devices
        if ovr.DEVICE not in devices:
            return Availability.no(f"OpenVINO lists no CPU device (it lists {', '.join(devices) or 'none'})")
        missing = ovr.precision_missing_reason(self.precision)
        return Availability.no(missing) if missing else Availability.yes()

    def prepare(self, ctx: PrepareContext) -> None:
        start = time.perf_counter()
        self.artifact_path = ctx.artifact(self.artifact_kind)
        self._ctx = ctx
        self._model = runners.read_openvino(self.artifact_path)
        if not self._autotune:
            self.tuning = self.tuning or DEFAULT.replace(threads=ctx.threads)
            if not self.tuning.static_batch:
                self._compile(None)  # prove the precision (or fail) before any batch
        self.setup_s += time.perf_counter() - start

    def _slice(self, batch: int | None) -> int | None:
        """The batch axis each request is compiled for: an even share of ``batch`` with ``static_batch``, else
        None (one dynamic-batch compiled model for every size)."""
        assert self.tuning is not None
        if batch is None or not self.tuning.static_batch:
            return None
        requests = min(self.tuning.requests, batch)
        return batch // requests if batch % requests == 0 else None

    def _compile(self, batch: int | None) -> _Compiled:
        """The compiled model for a batch size, compiled once; records and checks what it really runs."""
        assert self.tuning is not None and self.artifact_path is not None
        key = self._slice(batch)
        found = self._compiled.get(key)
        if found is not None:
            return found
        start = time.perf_counter()
        compiled = runners.compile_openvino(self._model, self.precision, compile_config(self.tuning), key,
                                            self.artifact_path.name)
        self.setup_s += time.perf_counter() - start
        self._record(ovr.read_back(compiled))
        found = self._compiled[key] = _Compiled(compiled, self.tuning.requests)
        return found

    def _record(self, back: dict[str, Any]) -> None:
        """Put what really runs into ``settings``; refuse a row whose label would be wrong."""
        assert self.tuning is not None
        self.settings.update({"options": self.tuning.describe() or "OpenVINO defaults",
                              "inference_precision_hint": ovr.HINT[self.precision],
                              "requests_in_flight": self.tuning.requests,
                              "executed_precision": ovr.executed(back), "read_back": back})
        if not ovr.runs_as(back, self.precision):
            raise NotAvailable(f"OpenVINO would run the {self.precision} row in {back['runtime_precision'] or '?'}",
                               f"its convolutions compiled as {back['convolutions_by_precision']}",
                               f"the row is not reported as {self.precision}")

    def prepare_batch(self, batch: int) -> None:
        if self._autotune:
            self._pick(batch)
        else:
            self._compile(batch)

    def _pick(self, batch: int) -> OpenVinoCpuRunner:
        """The configuration kept at this batch size, measured once, briefly, outside the timing."""
        from gnet.bench.runners.autotune import fastest_layout

        if batch in self._chosen:
            return self._chosen[batch]
        assert self._ctx is not None
        start = time.perf_counter()
        candidates: dict[str, Runner] = {}
        for name, tuning in layouts(self._ctx.threads or physical_cores(), self._ctx.threads).items():
            runner = candidates[name] = OpenVinoCpuRunner("tuned", self.precision, tuning)
            runner.prepare(self._ctx)
            runner.prepare_batch(batch)
        choice = fastest_layout(candidates, batch, self._ctx.image_size, default=UNTUNED, margin=TUNED_MARGIN)
        chosen = self._chosen[batch] = choice.runner
        assert isinstance(chosen, OpenVinoCpuRunner) and chosen.tuning is not None
        self.setup_s += time.perf_counter() - start
        self.settings.setdefault("layout_by_batch", {})[str(batch)] = choice.name
        self.settings.setdefault("options_by_batch", {})[str(batch)] = chosen.tuning.describe() or "OpenVINO defaults"
        self.settings.setdefault("autotune_img_s_by_batch", {})[str(batch)] = choice.img_s
        for key in ("inference_precision_hint", "executed_precision", "read_back"):
            self.settings[key] = chosen.settings[key]
        return chosen

    def run(self, images: np.ndarray) -> np.ndarray:
        if self._autotune:
            return self._pick(int(images.shape[0])).run(images)
        return self._compile(int(images.shape[0])).run(np.ascontiguousarray(images, dtype=np.float32))

    def close(self) -> None:
        for runner in self._chosen.values():
            runner.close()
        self._chosen.clear()
        self._compiled.clear()  # the last reference gone, OpenVINO frees the compiled model and its threads
        self._model = None
