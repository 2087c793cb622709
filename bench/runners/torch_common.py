"""What the PyTorch runners share: the reasons some combinations cannot run, a quiet torch.compile,
and :class:`TorchRunner` (a private copy of the model, compiled once per batch size)."""

from __future__ import annotations

import copy
import shutil
import time
from typing import Any, ClassVar

from gnet.bench.runners.base import Availability, PrepareContext, Runner
from gnet.errors import first_line

CPU_FP16_REASON = ("PyTorch has no fast FP16 convolutions on the CPU, so gnet measures FP16 "
                   "with torch-cuda and ort-cpu instead")
INT8_REASON = "gnet has no PyTorch INT8 path; the INT8 Q/DQ graph runs on ort-cpu, ort-cuda, ort-trt and trt"


def quiet_compile() -> Any:
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
        with torch.inference_mode(), quiet_compile():
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


def cuda_unavailable_reason() -> str:
    """Why PyTorch cannot use a CUDA GPU here ("" when it can)."""
    import torch

    if not torch.backends.cuda.is_built():
        return f"this PyTorch ({torch.__version__}) was built without CUDA"
    try:
        if torch.cuda.is_available():
            return ""
    except Exception as exc:  # noqa: BLE001 - a broken driver raises; it still only means "no GPU"
        return f"PyTorch cannot initialise CUDA ({first_line(exc, 120)})"
    return "no CUDA GPU is visible to PyTorch (torch.cuda.is_available() is False)"
