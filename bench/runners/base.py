"""The one runner interface every backend implements (after Polygraphy's runners).

A runner is one (backend, variant, precision). The harness asks it whether it can
run here (``available``), gives it what it needs (``prepare``), and then only
calls ``run`` (end to end, host array in, host logits out). GPU runners also
expose the three steps the harness times with CUDA events — ``upload``
(host→device), ``compute`` and ``download`` (device→host) — so it can split
the latency and measure ``--on-device`` (input already on the GPU).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gnet.availability import Availability
from gnet.defaults import PRECISIONS
from gnet.export.weights import LoadedModel


@dataclass
class PrepareContext:
    """What a runner may need to get ready: the model, its artifacts, the image size, the thread budget."""

    loaded: LoadedModel
    image_size: int
    threads: int | None  # --threads; None keeps each backend's own default
    artifact: Callable[[str], Path]  # prepare_artifacts variant ("fp32", "fp16", "int8", "int8-cpu") → file
    batches: list[int] = field(default_factory=list)


def padded(images: np.ndarray, batch: int) -> np.ndarray:
    """``images`` and, when their count is no multiple of ``batch``, the last batch filled up by repeating its own
    images: what every runner's parity pass feeds (``Runner.run_all``; ``cpp-openvino`` in one call)."""
    tail = len(images) % batch
    if not tail:
        return images
    filler = np.resize(images[len(images) - tail:], (batch - tail, *images.shape[1:]))
    return np.concatenate([images, filler])


def padded_batches(images: np.ndarray, batch: int) -> list[np.ndarray]:
    """:func:`padded` ``images`` cut into batches of exactly ``batch``, in order: what a parity pass runs."""
    data = padded(images, batch)
    return [data[start:start + batch] for start in range(0, len(data), batch)]


class Runner(ABC):
    """One backend × variant × precision. Subclasses set ``backend`` and ``device``."""

    backend: ClassVar[str]
    runtime: ClassVar[str] = ""
    """The runtime a user deploys this row with, named as its package: torch, onnxruntime, openvino, tensorrt,
    tensorrt-rtx (the TensorRT runners' plans record the same name in their manifest)."""
    device: ClassVar[str] = "cpu"  # "cpu" or "cuda"
    variants: ClassVar[tuple[str, ...]] = ("default",)
    precisions: ClassVar[tuple[str, ...]] = PRECISIONS
    """The precisions it has rows for; the others (``bf16`` for most) are not rows at all, not even unavailable ones."""

    def __init__(self, variant: str, precision: str) -> None:
        self.variant = variant
        self.precision = precision
        self.setup_s = 0.0  # one-off cost outside the timed loop (session creation, torch.compile, engine load)
        self.settings: dict[str, Any] = {}  # what this row ran with, recorded in the reports
        self.notes: list[str] = []
        self.artifact_path: Path | None = None

    @classmethod
    def is_row(cls, variant: str, precision: str) -> bool:
        """Whether ``variant`` × ``precision`` is a row of this backend (discovery skips the others silently)."""
        return precision in cls.precisions

    @property
    def name(self) -> str:
        return f"{self.backend}:{self.variant}"

    @property
    def artifact_kind(self) -> str | None:
        """The ``prepare_artifacts`` variant this runner loads, or None (PyTorch runs the model itself)."""
        return None

    def available(self) -> Availability:
        """Whether this backend × variant × precision can run on this machine, and if not, why."""
        return Availability.yes()

    def left_out_by_default(self) -> str | None:
        """Why a run that names no precision leaves this row out although it can run here (a row that would not
        measure its precision on this machine), or None; the sentence says how to run it."""
        return None

    @abstractmethod
    def prepare(self, ctx: PrepareContext) -> None:
        """Load the model or artifact; slow one-off work goes into ``setup_s``."""

    def prepare_batch(self, batch: int) -> None:
        """Called once before a batch size is checked and timed (compile for a shape, capture a graph)."""

    @abstractmethod
    def run(self, images: np.ndarray) -> np.ndarray:
        """End to end: float32 NCHW host images → float32 ``[batch, classes]`` host logits."""

    def close(self) -> None:
        """Free sessions, GPU memory and threads."""

    def run_all(self, images: np.ndarray, batch: int) -> np.ndarray:
        """Every image through ``run`` in batches of exactly ``batch`` (the last one padded, :func:`padded`, so
        static-shape runners see the shape they are timed at): the logits of ``images``, in order. The harness's
        parity pass."""
        outputs = [np.array(self.run(np.ascontiguousarray(chunk)), dtype=np.float32)
                   for chunk in padded_batches(images, batch)]
        return np.concatenate(outputs)[:len(images)]

    times_itself: ClassVar[bool] = False
    """A runner whose model runs in another process (``cpp-openvino``: ``gnet-infer``): timing ``run`` from Python
    would time a process start and a model compile, so the harness asks it for its own loop's latencies instead."""

    def time_itself(self, images: np.ndarray, warmup_ms: float, duration_s: float,
                    min_iterations: int) -> tuple[list[float], int]:
        """``times_itself`` runners: ``images`` (one batch) timed by the runner's own loop under trtexec's rules (warm
        up ``warmup_ms``, at least one call; then until ``duration_s`` and ``min_iterations`` are both reached) →
        (each timed call's latency in ms, in call order; warm-up iterations)."""
        raise NotImplementedError

    supports_concurrency: ClassVar[bool] = False
    """A served runner: timed with N concurrent clients (``clients(n)``, :mod:`gnet.bench.concurrency`)."""

    def clients(self, count: int) -> list[Any]:
        """``count`` independent clients, each with ``infer(images)`` and ``close()`` (served runners only)."""
        raise NotImplementedError

    # --- GPU timing hooks (``device == "cuda"``) ----------------------------------------------
    supports_stages: ClassVar[bool] = False

    def upload(self, images: np.ndarray) -> None:
        """Enqueue host→device copy of ``images`` into the runner's input buffer."""
        raise NotImplementedError

    def compute(self) -> None:
        """Enqueue one inference on the uploaded input; does not wait."""
        raise NotImplementedError

    def download(self) -> np.ndarray:
        """Enqueue device→host copy of the logits; the array is valid after ``synchronize``."""
        raise NotImplementedError

    def synchronize(self) -> None:
        raise NotImplementedError

    def new_event(self) -> Any:
        raise NotImplementedError

    def record(self, event: Any) -> None:
        raise NotImplementedError

    def elapsed_ms(self, start: Any, end: Any) -> float:
        raise NotImplementedError

    def run_staged(self, images: np.ndarray) -> np.ndarray:
        """``run`` for a staged runner: upload, compute, download, wait, and hand back a copy of the logits."""
        self.upload(images)
        self.compute()
        out = self.download()
        self.synchronize()
        return np.array(out, dtype=np.float32, copy=True)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.precision}>"
