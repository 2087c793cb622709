"""``torch-cuda``: PyTorch on a CUDA GPU (eager, channels_last, CUDA graphs, torch.compile; FP32 and FP16)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gnet.bench.runners.base import Availability, PrepareContext
from gnet.bench.runners.torch_common import INT8_REASON, TorchRunner, cuda_unavailable_reason, quiet_compile


class TorchCudaRunner(TorchRunner):
    """PyTorch on a CUDA GPU, FP32 I/O on the host; FP16 casts on the GPU inside ``compute``.

    FP32 rows turn TF32 off (cuDNN and matmul): TF32 is a different precision and would fail
    the FP32 tolerance. ``cuda_graphs`` is channels_last plus one captured graph per batch size.
    """

    backend = "torch-cuda"
    runtime = "torch"
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
                with quiet_compile():
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
