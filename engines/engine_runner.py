"""Load a gnet engine (manifest first) and run it: pinned host memory, a non-default stream,
``execute_async_v3``, optional CUDA graphs per batch size, everything freed on exit.

The bench times the steps separately with CUDA events::

    with EngineRunner("artifacts/googlenet_fp16.plan", cuda_graphs=True) as r:
        logits = r.infer(images)                  # end to end: copy in, execute, copy out, sync
        r.copy_in(images)                         # or step by step ...
        start, end = r.new_event(), r.new_event()
        r.record(start); r.execute(); r.record(end)   # on-device: the input already sits on the GPU
        r.synchronize(); print(r.elapsed_ms(start, end))
        out = r.copy_out(); r.synchronize()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gnet.engines import cuda_choice
from gnet.engines.allocations import Allocations
from gnet.engines.cuda_binding import CudaBinding
from gnet.engines.engine_io import TensorSpec, dims, numpy_dtype, tensor_specs
from gnet.engines.plan_loader import load_plan, read_manifest
from gnet.engines.rtx_runtime import default_cache_path
from gnet.engines.trt_import import import_runtime
from gnet.errors import GnetError, UsageError


class EngineRunner:
    """One engine, one execution context, one stream; a context manager that frees everything.

    ``device`` is a :class:`~gnet.engines.cuda_binding.CudaBinding`; by default
    cuda-python (or pycuda) on GPU 0. Tests pass a host-memory binding. The manifest's ``runtime``
    decides the edition; for a TensorRT-RTX plan ``runtime_cache`` is its cache file (default
    ``<plan>.rtxcache`` beside it; False: none) and ``cuda_graphs`` asks TensorRT-RTX to capture
    the graphs itself.
    """

    def __init__(self, plan: str | Path, *, device: CudaBinding | None = None, cuda_graphs: bool = False,
                 verify_plan_hash: bool = True, runtime_cache: str | Path | bool | None = None) -> None:
        self.plan = Path(plan)
        self._closed = False
        self._device: CudaBinding | None = None
        self._owns_device = device is None
        self._alloc: Allocations | None = None
        self._context: Any = None
        self._engine: Any = None
        self._runtime: Any = None
        self._graphs: dict[int, Any] = {}
        self.stream: Any = None
        self.use_cuda_graphs = cuda_graphs
        self.graph_fallback: str | None = None  # why CUDA graphs are off, if they were asked for and failed
        self.runtime_graphs = False  # TensorRT-RTX captures the CUDA graphs itself (IRuntimeConfig)
        self.runtime_cache_path: Path | None = None  # TensorRT-RTX: its runtime cache file, saved on close
        self._runtime_cache: Any = None
        self.warnings: list[str] = []
        try:
            self._open(device, verify_plan_hash, runtime_cache)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------------------------------
    def _open(self, device: CudaBinding | None, verify_plan_hash: bool, runtime_cache: str | Path | bool | None) -> None:
        self.manifest, self.spec = read_manifest(self.plan)  # read first: refuse before touching the plan
        trt = import_runtime(self.spec)
        self._device = device if device is not None else cuda_choice.get_binding()
        if self.use_cuda_graphs and not self._device.supports_graphs and not self.spec.rtx:
            self.graph_fallback = f"the {self._device.name} binding cannot capture CUDA graphs"
        self.device_info = self._device.device_info()
        if self.spec.rtx and runtime_cache is not False:
            self.runtime_cache_path = (Path(runtime_cache) if isinstance(runtime_cache, (str, Path))
                                       else default_cache_path(self.plan))
        loaded = load_plan(trt, self.spec, self.plan, self.manifest, self.device_info, verify_hash=verify_plan_hash,
                           cuda_graphs=self.use_cuda_graphs, runtime_cache=self.runtime_cache_path,
                           warnings=self.warnings)
        self._runtime, self._engine, self._context = loaded.runtime, loaded.engine, loaded.context
        self._runtime_cache, self.runtime_graphs = loaded.cache, loaded.runtime_graphs
        specs = tensor_specs(trt, self._engine)
        inputs = [s for s in specs if s.is_input]
        outputs = [s for s in specs if not s.is_input]
        if len(inputs) != 1 or len(outputs) != 1:
            raise GnetError(f"{self.plan.name} has {len(inputs)} inputs and {len(outputs)} outputs",
                            "gnet runs engines with one input and one output")
        self.input: TensorSpec = inputs[0]
        self.output: TensorSpec = outputs[0]
        recorded = ([t["name"] for t in self.manifest["inputs"]], [t["name"] for t in self.manifest["outputs"]])
        if recorded != ([self.input.name], [self.output.name]):
            raise GnetError(f"{self.plan.name} does not match its manifest",
                            f"the engine's tensors are {self.input.name!r} → {self.output.name!r}, "
                            f"the manifest records {recorded[0]} → {recorded[1]}")
        self.input_dtype = numpy_dtype(trt, self._engine.get_tensor_dtype(self.input.name), self.input.name)
        self.output_dtype = numpy_dtype(trt, self._engine.get_tensor_dtype(self.output.name), self.output.name)
        self._alloc = Allocations(self._device)
        self.stream = self._alloc.stream()
        self._capacity = 0
        self._batch: int | None = None
        self._d_in = self._d_out = 0
        self._h_in: np.ndarray | None = None
        self._h_out: np.ndarray | None = None

    # ------------------------------------------------------------------------------------------
    @property
    def batch_range(self) -> tuple[int, int]:
        """The smallest and largest batch the engine's optimization profile accepts."""
        assert self.input.profile is not None
        return self.input.profile[0][0], self.input.profile[2][0]

    @property
    def opt_batch(self) -> int:
        assert self.input.profile is not None
        return self.input.profile[1][0]

    @property
    def device(self) -> CudaBinding:
        if self._device is None:
            raise GnetError("this EngineRunner is closed")
        return self._device

    def input_shape(self, batch: int) -> tuple[int, ...]:
        return (batch, *self.input.shape[1:])

    def _check_open(self) -> None:
        if self._closed or self._context is None:
            raise GnetError(f"the EngineRunner for {self.plan.name} is closed")

    def _check_batch(self, batch: int) -> None:
        lo, hi = self.batch_range
        if not lo <= batch <= hi:
            raise UsageError(f"batch {batch} is outside the optimization profile of {self.plan.name}",
                             f"it accepts batches {lo} to {hi}", "rebuild with --min-batch/--max-batch to change it")

    def reserve(self, batch: int) -> None:
        """Allocate buffers for up to ``batch`` images now (a larger batch later reallocates and drops CUDA graphs)."""
        self._check_open()
        self._check_batch(batch)
        if batch <= self._capacity:
            return
        assert self._alloc is not None
        self.synchronize()
        self._drop_graphs()
        for old in (self._h_in, self._h_out):
            if old is not None:
                self._alloc.release(old)
        for ptr in (self._d_in, self._d_out):
            if ptr:
                self._alloc.release(ptr)
        self._h_in, self._h_out, self._d_in, self._d_out = None, None, 0, 0
        self._capacity = 0
        out_shape = self._output_shape_for(batch)
        self._h_in = self._alloc.pinned(self.input_shape(batch), self.input_dtype)
        self._h_out = self._alloc.pinned(out_shape, self.output_dtype)
        self._d_in = self._alloc.malloc(self._h_in.nbytes)
        self._d_out = self._alloc.malloc(self._h_out.nbytes)
        for name, ptr in ((self.input.name, self._d_in), (self.output.name, self._d_out)):
            if not self._context.set_tensor_address(name, ptr):
                raise GnetError(f"TensorRT refused the device address of {name!r} for {self.plan.name}")
        self._capacity = batch
        self._batch = None

    def _output_shape_for(self, batch: int) -> tuple[int, ...]:
        return tuple(batch if d < 0 else d for d in self.output.shape)

    def prepare(self, batch: int) -> None:
        """Make the context ready for ``batch`` images: profile check, buffers, input shape."""
        self._check_open()
        self._check_batch(batch)
        if batch > self._capacity:
            self.reserve(batch)
        if batch != self._batch:
            if not self._context.set_input_shape(self.input.name, self.input_shape(batch)):
                raise GnetError(f"TensorRT refused the input shape {list(self.input_shape(batch))} for {self.plan.name}")
            got = dims(self._context.get_tensor_shape(self.output.name))
            if got != self._output_shape_for(batch):
                raise GnetError(f"{self.plan.name} produces an output of shape {list(got)} for batch {batch}, "
                                f"expected {list(self._output_shape_for(batch))}")
            self._batch = batch

    # --- the steps the bench times ----------------------------------------------------------------
    def copy_in(self, images: np.ndarray) -> None:
        """Stage ``images`` in pinned memory and copy them to the GPU asynchronously (host→device)."""
        images = np.asarray(images)
        expected = tuple(self.input.shape[1:])
        if images.ndim != len(self.input.shape) or tuple(images.shape[1:]) != expected:
            raise UsageError(f"{self.plan.name} takes images of shape [batch, {', '.join(map(str, expected))}], "
                             f"not {list(images.shape)}")
        batch = int(images.shape[0])
        self.prepare(batch)
        assert self._h_in is not None
        staged = self._h_in[:batch]
        staged[...] = images  # casts float32 → float16 when the engine's input is half
        self.device.copy_htod_async(self._d_in, staged, self.stream)

    def execute(self) -> None:
        """Enqueue one inference on the stream (a CUDA graph launch when enabled); does not wait."""
        self._check_open()
        if self._batch is None:
            raise GnetError("call copy_in (or prepare) before execute, so the engine knows the batch size")
        if self.use_cuda_graphs and self.graph_fallback is None and not self.runtime_graphs:
            graph = self._graphs.get(self._batch) or self._capture(self._batch)
            if graph is not None:
                self.device.graph_launch(graph, self.stream)
                return
        self._enqueue()

    def copy_out(self) -> np.ndarray:
        """Copy the output to pinned memory asynchronously; the array is valid after ``synchronize()``
        and is overwritten by the next ``copy_out`` (copy it to keep it)."""
        self._check_open()
        if self._batch is None or self._h_out is None:
            raise GnetError("nothing has been executed yet")
        out = self._h_out[: self._batch]
        self.device.copy_dtoh_async(out, self._d_out, self.stream)
        return out

    def synchronize(self) -> None:
        if self._device is not None and self.stream is not None and not self._closed:
            self._device.stream_synchronize(self.stream)

    def infer(self, images: np.ndarray) -> np.ndarray:
        """End to end: copy in, execute, copy out, wait; returns float32 logits (a fresh array)."""
        self.copy_in(images)
        self.execute()
        out = self.copy_out()
        self.synchronize()
        return np.array(out, dtype=np.float32, copy=True)

    # --- on-device access and timing -------------------------------------------------------------
    @property
    def input_pointer(self) -> int:
        """Device address of the input buffer (valid after ``prepare``/``reserve``)."""
        return self._d_in

    @property
    def output_pointer(self) -> int:
        return self._d_out

    def new_event(self) -> Any:
        """A CUDA event owned by this runner (freed on close)."""
        assert self._alloc is not None
        return self._alloc.event()

    def record(self, event: Any) -> None:
        self.device.event_record(event, self.stream)

    def elapsed_ms(self, start: Any, end: Any) -> float:
        self.device.event_synchronize(end)
        return self.device.event_elapsed_ms(start, end)

    # --- internals ----------------------------------------------------------------------------------
    def _enqueue(self) -> None:
        if not self._context.execute_async_v3(self.device.stream_handle(self.stream)):
            raise GnetError(f"TensorRT could not enqueue {self.plan.name} for batch {self._batch}", "its log above says why")

    def _capture(self, batch: int) -> Any | None:
        """Capture one enqueue for ``batch`` into a CUDA graph, after one ordinary warm-up enqueue."""
        self._enqueue()  # warm-up: TensorRT may allocate or initialise on its first enqueue, which must not be captured
        self.synchronize()
        device = self.device
        device.begin_capture(self.stream)
        try:
            ok = self._context.execute_async_v3(device.stream_handle(self.stream))
        except BaseException:
            device.abort_capture(self.stream)
            raise
        if not ok:
            device.abort_capture(self.stream)
            self.graph_fallback = f"TensorRT could not enqueue {self.plan.name} inside a CUDA graph capture"
            return None
        assert self._alloc is not None
        graph = self._alloc.adopt_graph(device.end_capture(self.stream))
        self._graphs[batch] = graph
        return graph

    def _drop_graphs(self) -> None:
        if self._alloc is not None:
            for graph in self._graphs.values():
                self._alloc.release(graph)
        self._graphs.clear()

    @property
    def captured_batches(self) -> list[int]:
        return sorted(self._graphs)

    def close(self) -> None:
        """Free graphs, context, engine, runtime, buffers, events and the stream (in that order)."""
        if self._closed:
            return
        try:
            if self._device is not None and self.stream is not None:
                try:
                    self._device.stream_synchronize(self.stream)
                except GnetError:
                    pass  # a failed stream must not stop the frees below
            self._drop_graphs()
            if self._runtime_cache is not None:
                try:
                    self._runtime_cache.save()  # the kernels TensorRT-RTX compiled, for the next start
                except (OSError, GnetError) as exc:
                    self.warnings.append(f"the runtime cache {self.runtime_cache_path} was not saved: {exc}")
        finally:
            self._context = None  # destroy order: context, engine, runtime
            self._runtime_cache = None
            self._engine = None
            self._runtime = None
            self._closed = True
            try:
                if self._alloc is not None:
                    self._alloc.close()
            finally:
                if self._owns_device and self._device is not None:
                    self._device.close()
                self._device = None

    def __enter__(self) -> EngineRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten close() still frees GPU memory
        try:
            self.close()
        except Exception:
            pass
