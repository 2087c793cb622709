"""``torch-cpu``: PyTorch on the CPU (eager, channels_last, torch.compile); eager FP32 is the baseline."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gnet.bench.runners.base import Availability, PrepareContext
from gnet.bench.runners.torch_common import CPU_FP16_REASON, INT8_REASON, TorchRunner, cxx_compiler
from gnet.system import physical_cores


class TorchCpuRunner(TorchRunner):
    """PyTorch on the CPU: eager FP32 is the baseline every other row is compared with."""

    backend = "torch-cpu"
    runtime = "torch"
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
