"""PyTorch runners: ``torch-cpu`` (eager, channels_last, torch.compile) and ``torch-cuda``
(eager, channels_last, CUDA graphs, torch.compile; FP32 and FP16)."""

from __future__ import annotations

import copy
import shutil
import time
from typing import Any, ClassVar

import numpy as np

from gnet.bench.runners.base import Availability, PrepareContext, Runner

CPU_FP16_REASON = ("PyTorch has no fast FP16 convolutions on the CPU, so gnet measures FP16 "
                   "with torch-cuda and ort-cpu instead")
INT8_REASON = "gnet has no PyTorch INT8 path; the INT8 Q/DQ graph runs on ort-cpu, ort-cuda, ort-trt and trt"


def _quiet_compile() -> Any:
    """Silence what torch.compile says that is not for gnet's users: Inductor's advice to enable TF32
    (FP32 rows stay FP32 on purpose) and, on a CPU-only machine, that no CUDA runtime was found."""
    import contextlib
    import logging
    import warnings

    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.filterwarnings("ignore", message=".*TensorFloat32 tensor cores.*")
    logger = logging.getLogger("torch.utils.cpp_extension")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    stack.callback(logger.setLevel, previous)
    return stack


def cxx_compiler() -> str | None:
    """The C++ compiler torch.compile's CPU code generation would use, if any."""
    for name in ("g++", "c++", "clang++"):
        if shutil.which(name):
            return name
    return None


def physical_cores() -> int:
    import psutil

    return psutil.cpu_count(logical=False) or psutil.cpu_count() or 1


class TorchRunner(Runner):
    """What the CPU and CUDA PyTorch runners share: a private copy of the model, per-batch compilation."""

    memory_format_variants: ClassVar[tuple[str, ...]] = ("channels_last", "cuda_graphs", "compile")

    def __init__(self, variant: str, precision: str) -> None:
        super().__init__(variant, precision)
        self._model: Any = None
        self._forward: Any = None
        self._compiled_batches: dict[int, float] = {}

    @property
    def channels_last(self) -> bool:
        return self.variant in self.memory_format_variants

    def _compile_available(self) -> Availability:
        import torch

        if not hasattr(torch, "compile"):
            return Availability.no(f"torch {torch.__version__} has no torch.compile")
        return Availability.yes()

    def _build_model(self, ctx: PrepareContext, device: str, dtype: Any) -> None:
        import torch

        model = copy.deepcopy(ctx.loaded.model).eval().to(device=device, dtype=dtype)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self._model = model
        self._forward = model
        if self.variant == "compile":
            # Inductor with freezing: weights become constants, so convolutions are pre-packed
            # (mkldnn on the CPU); dynamic=False: one specialised graph per batch size.
            self._forward = torch.compile(model, dynamic=False, options={"freezing": True})
            self.settings["torch_compile"] = {"backend": "inductor", "freezing": True, "dynamic": False}
        self.settings["memory_format"] = "channels_last" if self.channels_last else "contiguous (NCHW)"

    def _compile_for(self, example: Any) -> None:
        """Run the compiled model once on ``example``: compilation is one-off and kept out of the timing."""
        import torch

        batch = int(example.shape[0])
        if self.variant != "compile" or batch in self._compiled_batches:
            return
        start = time.perf_counter()
        with torch.inference_mode(), _quiet_compile():
            self._forward(example)
        self._sync()
        seconds = time.perf_counter() - start
        self._compiled_batches[batch] = seconds
        self.setup_s += seconds
        self.settings["compile_s_by_batch"] = {str(b): round(s, 2) for b, s in sorted(self._compiled_batches.items())}

    def _sync(self) -> None:
        pass

    def close(self) -> None:
        self._model = self._forward = None


class TorchCpuRunner(TorchRunner):
    """PyTorch on the CPU: eager FP32 is the baseline every other row is compared with."""

    backend = "torch-cpu"
    device = "cpu"
    variants = ("eager", "channels_last", "compile")

    def __init__(self, variant: str, precision: str) -> None:
        super().__init__(variant, precision)
        self._old_threads: int | None = None

    def available(self) -> Availability:
        if self.precision == "fp16":
            return Availability.no(CPU_FP16_REASON)
        if self.precision == "int8":
            return Availability.no(INT8_REASON)
        if self.variant == "compile":
            found = self._compile_available()
            if not found.ok:
                return found
            if cxx_compiler() is None:
                return Availability.no("torch.compile generates C++ on the CPU and no C++ compiler (g++, clang++) is on the PATH")
        return Availability.yes()

    def prepare(self, ctx: PrepareContext) -> None:
        import torch

        start = time.perf_counter()
        self._old_threads = torch.get_num_threads()
        threads = ctx.threads or physical_cores()
        torch.set_num_threads(threads)
        self.settings["threads"] = threads
        self._image_size = ctx.image_size
        self._build_model(ctx, "cpu", torch.float32)
        self.setup_s += time.perf_counter() - start

    def _input(self, images: np.ndarray) -> Any:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def prepare_batch(self, batch: int) -> None:
        size = self._image_size
        self._compile_for(self._input(np.zeros((batch, 3, size, size), np.float32)))

    def run(self, images: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self._forward(self._input(images)).float().numpy()

    def close(self) -> None:
        import torch

        super().close()
        if self._old_threads:
            torch.set_num_threads(self._old_threads)
            self._old_threads = None


class TorchCudaRunner(TorchRunner):
    """PyTorch on a CUDA GPU, FP32 I/O on the host; FP16 casts on the GPU inside ``compute``.

    FP32 rows turn TF32 off (cuDNN and matmul): TF32 is a different precision and would fail
    the FP32 tolerance. ``cuda_graphs`` is channels_last plus one captured graph per batch size.
    """

    backend = "torch-cuda"
    device = "cuda"
    variants = ("eager", "channels_last", "cuda_graphs", "compile")
    precisions = ("fp32", "fp16", "int8")
    supports_stages = True

    def __init__(self, variant: str, precision: str) -> None:
        super().__init__(variant, precision)
        self._h_in: Any = None
        self._d_in: Any = None
        self._d_out: Any = None
        self._h_out: Any = None
        self._graph: Any = None
        self._batch = 0
        self._saved_flags: tuple[bool, bool] | None = None

    def available(self) -> Availability:
        if self.precision == "int8":
            return Availability.no(INT8_REASON)
        reason = cuda_unavailable_reason()
        if reason:
            return Availability.no(reason)
        if self.variant == "compile":
            return self._compile_available()
        return Availability.yes()

    def prepare(self, ctx: PrepareContext) -> None:
        import torch

        start = time.perf_counter()
        self._saved_flags = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
        tf32 = self.precision != "fp32"
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.benchmark = True
        self._dtype = torch.float16 if self.precision == "fp16" else torch.float32
        self._image_size = ctx.image_size
        self._build_model(ctx, "cuda", self._dtype)
        self.settings.update(tf32=tf32, cudnn_benchmark=True, gpu=torch.cuda.get_device_name(0))
        self._sync()
        self.setup_s += time.perf_counter() - start

    def _sync(self) -> None:
        import torch

        torch.cuda.synchronize()

    def _reserve(self, batch: int) -> None:
        import torch

        if batch == self._batch:
            return
        shape = (batch, 3, self._image_size, self._image_size)
        self._graph = None
        self._h_in = torch.empty(shape, dtype=torch.float32, pin_memory=True)
        self._d_in = torch.zeros(shape, dtype=torch.float32, device="cuda")
        self._h_out = None
        self._batch = batch

    def _forward_device(self) -> Any:
        import torch

        x = self._d_in.to(self._dtype)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self._forward(x).float()  # FP16 logits become FP32 on the GPU, inside the timed compute

    def prepare_batch(self, batch: int) -> None:
        import torch

        self._reserve(batch)
        with torch.inference_mode():
            if self.variant == "compile":
                start = time.perf_counter()
                with _quiet_compile():
                    self._forward_device()
                self._sync()
                seconds = time.perf_counter() - start
                self._compiled_batches[batch] = seconds
                self.setup_s += seconds
                self.settings["compile_s_by_batch"] = {str(b): round(s, 2) for b, s in sorted(self._compiled_batches.items())}
            elif self.variant == "cuda_graphs":
                start = time.perf_counter()
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    for _ in range(3):  # warm-up outside the capture (cuDNN picks its algorithms here)
                        self._forward_device()
                torch.cuda.current_stream().wait_stream(side)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    self._d_out = self._forward_device()
                self._graph = graph
                self._sync()
                self.setup_s += time.perf_counter() - start
        self._h_out = torch.empty((batch, self._num_classes()), dtype=torch.float32, pin_memory=True)

    def _num_classes(self) -> int:
        fc = getattr(self._model, "fc", None)
        return int(fc.out_features) if fc is not None else 1000

    # --- the three timed steps ------------------------------------------------------------------
    def upload(self, images: np.ndarray) -> None:
        import torch

        batch = int(images.shape[0])
        if batch != self._batch:
            self.prepare_batch(batch)
        self._h_in.copy_(torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)))
        self._d_in.copy_(self._h_in, non_blocking=True)

    def compute(self) -> None:
        import torch

        if self._graph is not None:
            self._graph.replay()
            return
        with torch.inference_mode():
            self._d_out = self._forward_device()

    def download(self) -> np.ndarray:
        self._h_out.copy_(self._d_out, non_blocking=True)
        return self._h_out.numpy()

    def synchronize(self) -> None:
        self._sync()

    def new_event(self) -> Any:
        import torch

        return torch.cuda.Event(enable_timing=True)

    def record(self, event: Any) -> None:
        event.record()

    def elapsed_ms(self, start: Any, end: Any) -> float:
        end.synchronize()
        return float(start.elapsed_time(end))

    def run(self, images: np.ndarray) -> np.ndarray:
        return self.run_staged(images)

    def close(self) -> None:
        import torch

        super().close()
        self._graph = self._h_in = self._d_in = self._d_out = self._h_out = None
        if self._saved_flags is not None:
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = self._saved_flags
            self._saved_flags = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def cuda_unavailable_reason() -> str:
    """Why PyTorch cannot use a CUDA GPU here ("" when it can)."""
    import torch

    if not torch.backends.cuda.is_built():
        return f"this PyTorch ({torch.__version__}) was built without CUDA"
    try:
        if torch.cuda.is_available():
            return ""
    except Exception as exc:  # noqa: BLE001 - a broken driver raises; it still only means "no GPU"
        return f"PyTorch cannot initialise CUDA ({str(exc).splitlines()[0][:120]})"
    return "no CUDA GPU is visible to PyTorch (torch.cuda.is_available() is False)"
