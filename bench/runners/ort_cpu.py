"""``ort-cpu``: ONNX Runtime's CPU execution provider, ``default`` (the reference) and ``tuned``."""

from __future__ import annotations

import functools
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from gnet.bench.runners.autotune import fastest_layout
from gnet.bench.runners.base import Availability, PrepareContext, Runner
from gnet.bench.runners.ort_options import OrtTuning, ensure_optimized, layouts, session_options, tuned
from gnet.defaults import artifact_kind
from gnet.runners import OnnxRuntimeRunner
from gnet.system import physical_cores


@functools.lru_cache(maxsize=1)
def fp16_runs_as_fp32() -> bool:
    """Whether ONNX Runtime's CPU provider runs an FP16 Conv on this machine in FP32, between Casts it inserts
    where it has no FP16 kernel. Asked of ONNX Runtime itself: the graph it optimizes from a one-Conv FP16
    graph. A probe that fails answers False (the rows stay in)."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, load, numpy_helper

    from gnet.checks.ort import cpu_session

    shape = [1, 1, 4, 4]
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"])], "fp16_probe",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT16, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT16, shape)],
        [numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float16), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    try:
        with tempfile.TemporaryDirectory(prefix="gnet-fp16-probe-") as tmp:
            options = ort.SessionOptions()
            options.log_severity_level = 3
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
            options.optimized_model_filepath = str(Path(tmp) / "probe.onnx")
            cpu_session(model.SerializeToString(), options=options)
            optimized = load(options.optimized_model_filepath)
    except Exception:  # noqa: BLE001 - no answer keeps the rows in the run
        return False
    return any(node.op_type == "Cast" for node in optimized.graph.node)


def chunk_sizes(count: int, sub_batch: int) -> list[int]:
    """``count`` images in chunks of ``sub_batch`` (the last one smaller); one chunk when ``sub_batch`` is 0."""
    if sub_batch <= 0 or sub_batch >= count:
        return [count]
    return [sub_batch] * (count // sub_batch) + ([count % sub_batch] if count % sub_batch else [])


class _Session:
    """One InferenceSession and its I/O binding."""

    def __init__(self, session: Any, io_binding: bool) -> None:
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.output_name = session.get_outputs()[0].name
        self.binding = session.io_binding() if io_binding else None

    def run_into(self, images: np.ndarray, out: np.ndarray) -> None:
        if self.binding is None:
            out[...] = self.session.run([self.output_name], {self.input_name: images})[0]
            return
        import onnxruntime as ort

        self.binding.bind_cpu_input(self.input_name, images)
        self.binding.bind_ortvalue_output(self.output_name, ort.OrtValue.ortvalue_from_numpy(out))
        self.session.run_with_iobinding(self.binding)


class OrtCpuRunner(Runner):
    """ONNX Runtime's CPU execution provider.

    ``tuned`` without an explicit tuning takes :func:`tuned`'s options and, per batch size, times
    each of :func:`layouts` briefly on this machine (interleaved, median latency; outside the
    timing, counted in ``setup_s``) and keeps the fastest — as TensorRT picks tactics.
    """

    backend = "ort-cpu"
    runtime = "onnxruntime"
    device = "cpu"
    variants = ("default", "tuned")

    def __init__(self, variant: str, precision: str, tuning: OrtTuning | None = None) -> None:
        super().__init__(variant, precision)
        self.tuning = tuning
        self._path: Path | None = None
        self._threads: int | None = None
        self._sessions: dict[tuple[int, int, int | None], _Session] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._out: dict[int, np.ndarray] = {}
        self._plain: Any = None
        self._autotune = variant == "tuned" and tuning is None
        self._ctx: PrepareContext | None = None
        self._chosen: dict[int, OrtCpuRunner] = {}

    @property
    def artifact_kind(self) -> str:
        return artifact_kind(self.precision, "cpu")  # INT8 on a CPU: gnet's CPU-format graph

    def available(self) -> Availability:
        try:
            import onnxruntime as ort
        except ImportError:
            return Availability.no("onnxruntime is not installed")
        if "CPUExecutionProvider" not in ort.get_available_providers():
            return Availability.no("this onnxruntime has no CPUExecutionProvider")
        return Availability.yes()

    def left_out_by_default(self) -> str | None:
        if self.precision != "fp16" or not fp16_runs_as_fp32():
            return None
        return ("not in a run that names no precision: ONNX Runtime's CPU provider has no FP16 convolution on this "
                "CPU and runs the FP16 graph in FP32 between casts it inserts, so the row would time FP32 and "
                "conversions (the graph is still proven at export); --precision fp16 runs it")

    def prepare(self, ctx: PrepareContext) -> None:
        import onnxruntime as ort

        start = time.perf_counter()
        self._path = ctx.artifact(self.artifact_kind)
        self.artifact_path = self._path
        if self.variant == "default" and self.tuning is None:
            # The reference row: ORT exactly as a user gets it, unless --threads asks otherwise.
            options = None
            if ctx.threads:
                options = ort.SessionOptions()
                options.intra_op_num_threads = ctx.threads
            self._plain = self._session(str(self._path), options)
            self.settings = {"session_options": "ONNX Runtime defaults", "threads": ctx.threads or "ORT default"}
        else:
            self.tuning = self.tuning or tuned(ctx.threads)
            self._threads = self.tuning.threads or ctx.threads
            self._ctx = ctx
            if self.tuning.optimized_model_cache:
                self._path = ensure_optimized(self._path)
            self.settings = {"session_options": self.tuning.describe(), "threads": self._threads or "ORT default"}
            if self._autotune:
                self.settings["session_options"] = {k: v for k, v in self.tuning.describe().items()
                                                    if k not in ("workers", "sub_batch")}
        if self.precision == "fp16" and fp16_runs_as_fp32():
            self.settings["executed_precision"] = "fp32 between the casts ONNX Runtime inserts"
        self.setup_s += time.perf_counter() - start

    def _session(self, path: str, options: Any) -> Any:
        return OnnxRuntimeRunner(path, options=options).activate().session

    def _split(self, batch: int) -> list[int]:
        """Contiguous slice sizes of a batch across the workers (never more workers than images)."""
        assert self.tuning is not None
        workers = max(1, min(self.tuning.workers, batch))
        base, extra = divmod(batch, workers)
        return [base + (1 if i < extra else 0) for i in range(workers)]

    def _session_for(self, worker: int, workers: int, fixed: int | None) -> _Session:
        """Worker ``worker``'s session, with the batch dimension pinned to ``fixed`` when given (built once)."""
        import onnxruntime as ort

        assert self.tuning is not None and self._path is not None
        key = (worker, workers, fixed)
        found = self._sessions.get(key)
        if found is None:
            start = time.perf_counter()
            threads = max(1, (self._threads or physical_cores()) // workers) if workers > 1 else self._threads
            options = session_options(ort, self.tuning, fixed, threads)
            found = self._sessions[key] = _Session(self._session(str(self._path), options), self.tuning.io_binding)
            self.setup_s += time.perf_counter() - start
        return found

    def _plan(self, batch: int) -> list[tuple[int, int, list[int], _Session]]:
        """(start, size, chunk sizes, session) per worker for a batch."""
        assert self.tuning is not None
        plan = []
        start = 0
        slices = self._split(batch)
        for index, size in enumerate(slices):
            chunks = chunk_sizes(size, self.tuning.sub_batch)
            fixed = chunks[0] if self.tuning.fixed_batch and len(set(chunks)) == 1 else None
            plan.append((start, size, chunks, self._session_for(index, len(slices), fixed)))
            start += size
        return plan

    def prepare_batch(self, batch: int) -> None:
        if self._autotune:
            self._pick_layout(batch)
        elif self._plain is None:
            self._plan(batch)  # create the sessions now, outside the timing

    def _pick_layout(self, batch: int) -> OrtCpuRunner:
        """The fastest layout at this batch size, measured once (see :func:`gnet.bench.runners.ort_options.layouts`)."""
        if batch in self._chosen:
            return self._chosen[batch]
        assert self.tuning is not None and self._ctx is not None
        start = time.perf_counter()
        cores = self.tuning.threads or physical_cores()
        candidates: dict[str, Runner] = {}
        for name, tuning in layouts(self.tuning, cores).items():
            if tuning.workers > batch:
                continue
            runner = OrtCpuRunner("tuned", self.precision, tuning)
            runner.prepare(self._ctx)
            runner.prepare_batch(batch)
            candidates[name] = runner
        choice = fastest_layout(candidates, batch, self._ctx.image_size)
        chosen = self._chosen[batch] = choice.runner
        assert isinstance(chosen, OrtCpuRunner) and chosen.tuning is not None
        self.artifact_path = chosen.artifact_path
        self.setup_s += time.perf_counter() - start
        self.settings.setdefault("layout_by_batch", {})[str(batch)] = choice.name
        self.settings.setdefault("options_by_batch", {})[str(batch)] = chosen.tuning.describe()
        self.settings.setdefault("autotune_img_s_by_batch", {})[str(batch)] = choice.img_s
        return chosen

    @staticmethod
    def _run_worker(session: _Session, chunks: list[int], images: np.ndarray, out: np.ndarray) -> None:
        start = 0
        for size in chunks:
            session.run_into(images[start:start + size], out[start:start + size])
            start += size

    def run(self, images: np.ndarray) -> np.ndarray:
        if self._plain is not None:
            feed = self._plain.get_inputs()[0]
            dtype = np.float16 if feed.type == "tensor(float16)" else np.float32
            return np.asarray(self._plain.run(None, {feed.name: images.astype(dtype, copy=False)})[0], dtype=np.float32)
        batch = int(images.shape[0])
        if self._autotune:
            return self._pick_layout(batch).run(images)
        plan = self._plan(batch)
        out = self._out.get(batch)
        if out is None:
            classes = plan[0][3].session.get_outputs()[0].shape[1]
            out = self._out[batch] = np.empty((batch, int(classes)), np.float32)
        if len(plan) == 1:
            self._run_worker(plan[0][3], plan[0][2], images, out)
            return out.copy()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=len(plan), thread_name_prefix="gnet-ort")
        jobs = [self._pool.submit(self._run_worker, session, chunks, images[a:a + n], out[a:a + n])
                for a, n, chunks, session in plan]
        for job in jobs:
            job.result()
        return out.copy()

    def close(self) -> None:
        for runner in self._chosen.values():
            runner.close()
        self._chosen.clear()
        self._sessions.clear()
        self._out.clear()
        self._plain = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
