"""What a benchmark run measures: ``gnet bench``'s options as one checked object."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gnet import defaults
from gnet.bench.timing import TimingConfig
from gnet.errors import UsageError


@dataclass
class BenchConfig:
    """Everything ``gnet bench`` lets a user choose."""

    backends: str | Sequence[str] | None = None  # None: every backend
    precisions: str | Sequence[str] | None = None  # None: every precision
    batches: Sequence[int] = (defaults.BENCH_BATCH,)
    threads: int | None = None
    timing: TimingConfig = field(default_factory=TimingConfig)
    on_device: bool = False
    weights: str = defaults.WEIGHTS
    seed: int = 0
    image_size: int | None = None  # None: GoogLeNet's own 224, at which speed is what users deploy
    images: str | None = None
    parity_limit: int | None = None  # None: every image of the source
    artifacts: Path = defaults.ARTIFACTS_DIR
    concurrency: str | Sequence[int] = (1,)  # clients at once, for served backends (triton); one row per level

    def check(self) -> None:
        self.timing.check()
        if not self.batches or min(self.batches) < 1:
            raise UsageError("--batch needs positive batch sizes", remedy="e.g. --batch 1,8,64")
        if self.threads is not None and self.threads < 1:
            raise UsageError(f"--threads must be at least 1, not {self.threads}")
        from gnet.bench.concurrency import parse_concurrency

        self.concurrency = parse_concurrency(self.concurrency)
        if self.parity_limit is not None and self.parity_limit < 1:
            raise UsageError(f"--parity-images must be at least 1, not {self.parity_limit}")
        self.check_artifacts()

    def check_artifacts(self) -> None:
        """Refuse, before measuring, a foreign ONNX (no gnet metadata) under a gnet artifact name in --artifacts:
        the bench would otherwise overwrite the user's file with a fresh export and measure that instead."""
        from gnet.export.metadata import require_gnet_metadata

        for name in defaults.ARTIFACT_NAMES.values():
            path = Path(self.artifacts) / name
            model = _readable_onnx(path)
            if model is not None:
                require_gnet_metadata(model, str(path), "bench")

    def check_memory(self) -> None:
        """Refuse, before allocating, a batch whose input alone would not fit in this machine's free memory."""
        import psutil

        largest = max(self.batches)
        needed = largest * 3 * self.size * self.size * 4  # float32 NCHW
        free = psutil.virtual_memory().available
        if needed > free:
            raise UsageError(f"--batch {largest} does not fit in memory here",
                             f"its input alone is {needed / 2**30:.1f} GiB at {self.size} px and {free / 2**30:.1f} GiB is free",
                             "choose a smaller batch")

    @property
    def size(self) -> int:
        """The image size measured: ``--image-size``, else GoogLeNet's own (weights trained at another
        size, such as the 64-px fixture, are judged by their parity there, not their accuracy)."""
        return int(self.image_size or defaults.DEFAULT_IMAGE_SIZE)


def _readable_onnx(path: Path):  # -> onnx.ModelProto | None (onnx is imported only when a bench runs)
    """The ONNX at ``path``, or None when it is missing or unreadable: then it is not a user's model, and the bench
    exports a fresh one there as it always has."""
    import onnx

    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - onnx raises DecodeError and friends for a file that is not ONNX
        return None
