"""ONNX Runtime runners: ``ort-cpu`` (default and tuned), ``ort-cuda`` and ``ort-trt``.

``ort-cpu:default`` is ``InferenceSession(path)`` with nothing set: the reference the
tuned rows are measured against. ``ort-cpu:tuned`` applies :data:`TUNED`, whose every
field is one documented option, so ``gnet bench --ort-ablation`` can say what each buys.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gnet.bench.runners.base import Availability, PrepareContext, Runner
from gnet.bench.runners.torch_runner import physical_cores
from gnet.errors import GnetError, first_line

GRAPH_LEVELS = ("disable", "basic", "extended", "layout", "all")
AUTOTUNE_ITERATIONS = 6


@dataclass(frozen=True)
class OrtTuning:
    """Every ONNX Runtime CPU option gnet tunes; the defaults are ONNX Runtime's own."""

    threads: int | None = None
    """intra_op_num_threads; None is ORT's default (one per physical core)."""
    graph_optimization: str = "all"
    """Graph optimization level (ORT's default is all: constant folding, fusions, NCHWc layout)."""
    parallel_execution: bool = False
    """ORT_PARALLEL runs independent branches (GoogLeNet's inception arms) on the inter-op pool."""
    fixed_batch: bool = False
    """add_free_dimension_override_by_name("batch", N): one session per batch size with static shapes,
    so shape-dependent planning (memory pattern, kernel choice) happens once at load time."""
    io_binding: bool = False
    """Bind the input in place and write logits into a preallocated output (no per-run allocation)."""
    cpu_mem_arena: bool = True
    """ORT's CPU memory arena (on by default)."""
    mem_pattern: bool = True
    """Memory-pattern planning (on by default)."""
    allow_spinning: bool = True
    """Intra-op threads spin-wait between parallel sections instead of sleeping (on by default)."""
    denormal_as_zero: bool = False
    """Flush denormal floats to zero (FP32 graphs with tiny activations slow down without it)."""
    dynamic_block_base: int = 0
    """session.dynamic_block_base: hand out parallel work in shrinking blocks (0 = ORT's static split)."""
    optimized_model_cache: bool = False
    """Save the graph optimized at level extended beside the artifact and load that next time
    (only session creation gets faster; kept out of the timing, reported as setup)."""
    workers: int = 1
    """Sessions run side by side, each on threads / workers cores, each on its share of the batch."""
    sub_batch: int = 0
    """Each worker runs its share in chunks of this many images (0: all at once); smaller chunks keep
    the activations in cache."""

    def describe(self) -> dict[str, Any]:
        """The fields that differ from ORT's defaults (what the reports print)."""
        default = OrtTuning()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}

    def replace(self, **changes: Any) -> OrtTuning:
        return dataclasses.replace(self, **changes)


DEFAULT = OrtTuning()


def tuned(threads: int | None = None) -> OrtTuning:
    """The tuned CPU configuration (see docs/bench.md for what each option bought here)."""
    cores = threads or physical_cores()
    return OrtTuning(
        threads=cores,
        fixed_batch=True,
        io_binding=True,
        denormal_as_zero=True,
        workers=cores,
        sub_batch=16,
    )


UNTUNED = "ONNX Runtime's default options"


def layouts(base: OrtTuning, cores: int) -> dict[str, OrtTuning]:
    """The configurations ``ort-cpu:tuned`` chooses from: ``base`` with each way of spreading a batch over
    the cores (which is fastest depends on the CPU, the image size and the precision), and ORT's own
    defaults, so the tuned row never settles for something it measured slower than doing nothing
    (see :meth:`OrtCpuRunner.prepare_batch`)."""
    spreads = {
        f"{cores} intra-op threads": {"workers": 1, "sub_batch": 0},
        f"{cores} intra-op threads, chunks of 16": {"workers": 1, "sub_batch": 16},
        f"{cores} intra-op threads, chunks of 32": {"workers": 1, "sub_batch": 32},
        f"{cores} workers": {"workers": cores, "sub_batch": 0},
        f"{cores} workers, chunks of 16": {"workers": cores, "sub_batch": 16},
    }
    found = {name: base.replace(**spread) for name, spread in spreads.items()}
    found[UNTUNED] = DEFAULT.replace(threads=base.threads)
    return found


def _level(ort: Any, name: str) -> Any:
    levels = ort.GraphOptimizationLevel
    mapping = {"disable": levels.ORT_DISABLE_ALL, "basic": levels.ORT_ENABLE_BASIC,
               "extended": levels.ORT_ENABLE_EXTENDED, "all": levels.ORT_ENABLE_ALL}
    if name == "layout":
        mapping["layout"] = getattr(levels, "ORT_ENABLE_LAYOUT", levels.ORT_ENABLE_ALL)
    try:
        return mapping[name]
    except KeyError:
        raise GnetError(f"unknown graph optimization level {name!r}; use one of {', '.join(GRAPH_LEVELS)}") from None


def session_options(ort: Any, tuning: OrtTuning, batch: int | None, threads: int | None) -> Any:
    """SessionOptions carrying ``tuning`` (for one batch size when ``fixed_batch``)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    options.graph_optimization_level = _level(ort, tuning.graph_optimization)
    if tuning.parallel_execution:
        options.execution_mode = ort.ExecutionMode.ORT_PARALLEL
        options.inter_op_num_threads = threads or physical_cores()
    options.enable_cpu_mem_arena = tuning.cpu_mem_arena
    options.enable_mem_pattern = tuning.mem_pattern
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if tuning.allow_spinning else "0")
    if tuning.denormal_as_zero:
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
    if tuning.dynamic_block_base:
        options.add_session_config_entry("session.dynamic_block_base", str(tuning.dynamic_block_base))
    if tuning.fixed_batch and batch:
        options.add_free_dimension_override_by_name("batch", batch)
    return options


def optimized_cache_path(artifact: Path) -> Path:
    """Where the extended-level optimized graph of ``artifact`` is cached (keyed by ORT's version)."""
    import onnxruntime as ort

    return artifact.with_name(f"{artifact.stem}.ort{ort.__version__}.opt.onnx")


def ensure_optimized(artifact: Path) -> Path:
    """Write (atomically) and return the extended-level optimized copy of ``artifact``, reusing a fresh one.

    Level extended is portable across CPUs; the NCHWc layout pass (level all) stays at load time.
    """
    import onnxruntime as ort

    from gnet.atomic import atomic_output

    cached = optimized_cache_path(artifact)
    if cached.is_file() and cached.stat().st_mtime >= artifact.stat().st_mtime:
        return cached
    with atomic_output(cached) as tmp:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(tmp)  # a name not ending in .ort: ONNX format
        ort.InferenceSession(str(artifact), options, providers=["CPUExecutionProvider"])
    return cached


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
    def artifact_variant(self) -> str:
        return {"fp32": "fp32", "fp16": "fp16", "int8": "int8-cpu"}[self.precision]

    def available(self) -> Availability:
        try:
            import onnxruntime as ort
        except ImportError:
            return Availability.no("onnxruntime is not installed")
        if "CPUExecutionProvider" not in ort.get_available_providers():
            return Availability.no("this onnxruntime has no CPUExecutionProvider")
        return Availability.yes()

    def prepare(self, ctx: PrepareContext) -> None:
        import onnxruntime as ort

        start = time.perf_counter()
        self._path = ctx.artifact(self.artifact_variant)
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
        self.setup_s += time.perf_counter() - start

    def _session(self, path: str, options: Any) -> Any:
        import onnxruntime as ort

        try:
            return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph types
            raise GnetError(f"ONNX Runtime cannot load {Path(path).name} ({first_line(exc)})") from None

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
        """Time every layout briefly at this batch size and keep the fastest (the others are closed)."""
        from gnet.bench.timing import TimingConfig, round_robin

        if batch in self._chosen:
            return self._chosen[batch]
        assert self.tuning is not None and self._ctx is not None
        start = time.perf_counter()
        cores = self.tuning.threads or physical_cores()
        names, candidates = [], []
        for name, tuning in layouts(self.tuning, cores).items():
            if tuning.workers > batch:
                continue
            runner = OrtCpuRunner("tuned", self.precision, tuning)
            runner.prepare(self._ctx)
            runner.prepare_batch(batch)
            names.append(name)
            candidates.append(runner)
        size = self._ctx.image_size
        data = np.random.default_rng(0).standard_normal((batch, 3, size, size)).astype(np.float32)
        # Interleaved, at least AUTOTUNE_ITERATIONS batches each: at 224 px a batch of 64 takes ~0.7 s on
        # 2 cores, and three samples per layout picked by noise rather than by speed.
        latencies = round_robin(candidates, data, TimingConfig(warmup_ms=50.0, duration_s=0.4,
                                                               min_iterations=AUTOTUNE_ITERATIONS))
        medians = [float(np.median(v)) for v in latencies]
        best = int(np.argmin(medians))
        for index, runner in enumerate(candidates):
            if index != best:
                runner.close()
        self._chosen[batch] = candidates[best]
        self.artifact_path = candidates[best].artifact_path
        self.setup_s += time.perf_counter() - start
        self.settings.setdefault("layout_by_batch", {})[str(batch)] = names[best]
        self.settings.setdefault("options_by_batch", {})[str(batch)] = candidates[best].tuning.describe()
        self.settings.setdefault("autotune_img_s_by_batch", {})[str(batch)] = {
            name: round(batch / (median / 1000.0), 1) for name, median in zip(names, medians)}
        return candidates[best]

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


class OrtCudaRunner(Runner):
    """ONNX Runtime's CUDA execution provider, with I/O binding so the three steps can be timed apart.

    ORT's Python API exposes no CUDA events and ``run_with_iobinding`` returns when the GPU is done,
    so each step is timed with the host clock (every step is synchronous).
    """

    backend = "ort-cuda"
    device = "cuda"
    provider = "CUDAExecutionProvider"
    supports_stages = True

    def __init__(self, variant: str, precision: str) -> None:
        super().__init__(variant, precision)
        self._session: Any = None
        self._binding: Any = None
        self._input: Any = None

    @property
    def artifact_variant(self) -> str:
        return self.precision

    def available(self) -> Availability:
        try:
            import onnxruntime as ort
        except ImportError:
            return Availability.no("onnxruntime is not installed")
        if self.provider not in ort.get_available_providers():
            return Availability.no(f"this onnxruntime ({ort.__version__}, {ort.get_device()} build) has no "
                                   f"{self.provider}; install onnxruntime-gpu")
        reason = _gpu_missing()
        return Availability.no(reason) if reason else Availability.yes()

    def _providers(self, ctx: PrepareContext) -> list[Any]:
        return [(self.provider, {"device_id": 0}), "CPUExecutionProvider"]

    def prepare(self, ctx: PrepareContext) -> None:
        import onnxruntime as ort

        start = time.perf_counter()
        self.artifact_path = ctx.artifact(self.artifact_variant)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(self.artifact_path), options, providers=self._providers(ctx))
        except Exception as exc:
            raise GnetError(f"ONNX Runtime cannot load {self.artifact_path.name} with {self.provider} ({first_line(exc)})") from None
        used = self._session.get_providers()
        if used[0] != self.provider:
            raise GnetError(f"ONNX Runtime fell back to {used[0]} for {self.artifact_path.name}")
        self._binding = self._session.io_binding()
        self.settings = {"providers": used, "io_binding": True, "stage_timer": "host clock (each ORT step is synchronous)"}
        self.setup_s += time.perf_counter() - start

    def upload(self, images: np.ndarray) -> None:
        import onnxruntime as ort

        images = np.ascontiguousarray(images, dtype=np.float32)
        if self._input is None or tuple(self._input.shape()) != images.shape:
            self._input = ort.OrtValue.ortvalue_from_numpy(images, "cuda", 0)
        else:
            self._input.update_inplace(images)
        name = self._session.get_inputs()[0].name
        self._binding.bind_ortvalue_input(name, self._input)
        self._binding.bind_output(self._session.get_outputs()[0].name, "cuda", 0)

    def compute(self) -> None:
        self._session.run_with_iobinding(self._binding)

    def download(self) -> np.ndarray:
        return np.asarray(self._binding.copy_outputs_to_cpu()[0], dtype=np.float32)

    def synchronize(self) -> None:
        pass

    def new_event(self) -> list[float]:
        return [0.0]

    def record(self, event: list[float]) -> None:
        event[0] = time.perf_counter()

    def elapsed_ms(self, start: list[float], end: list[float]) -> float:
        return (end[0] - start[0]) * 1000.0

    def run(self, images: np.ndarray) -> np.ndarray:
        return self.run_staged(images)

    def close(self) -> None:
        self._session = self._binding = self._input = None


class OrtTensorrtRunner(OrtCudaRunner):
    """ONNX Runtime's TensorRT execution provider (engines cached under the artifacts folder)."""

    backend = "ort-trt"
    provider = "TensorrtExecutionProvider"

    def available(self) -> Availability:
        found = super().available()
        if not found.ok:
            return found
        from gnet.engines.runtime import tensorrt_availability

        trt = tensorrt_availability()
        return Availability.yes() if trt.usable else Availability.no(trt.reason.split(";")[0])

    def _providers(self, ctx: PrepareContext) -> list[Any]:
        cache = Path(ctx.artifact(self.artifact_variant)).parent / "ort-trt-cache"
        cache.mkdir(parents=True, exist_ok=True)
        options = {"device_id": 0, "trt_engine_cache_enable": True, "trt_engine_cache_path": str(cache),
                   "trt_timing_cache_enable": True, "trt_int8_enable": self.precision == "int8"}
        return [(self.provider, options), ("CUDAExecutionProvider", {"device_id": 0}), "CPUExecutionProvider"]


def _gpu_missing() -> str:
    """Why no NVIDIA GPU can be used here ("" when one can)."""
    try:
        import torch

        if torch.cuda.is_available():
            return ""
    except Exception:  # noqa: BLE001 - a broken torch install only means we cannot tell this way
        pass
    import shutil

    if shutil.which("nvidia-smi") is None:
        return "no NVIDIA GPU or driver here (no nvidia-smi on the PATH)"
    return "no CUDA GPU is visible (torch.cuda.is_available() is False)"
