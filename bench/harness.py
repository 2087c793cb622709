"""The benchmark harness: discovery, artifacts, parity and timing for every row; the runners only run.

For each runner that can run here: prepare it (its artifact is built or reused on demand),
then for each batch size check its parity on the real images and time it, end to end
(and on the device with ``on_device``). Anything that cannot run is kept with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from gnet.bench import environment
from gnet.bench.results import (END_TO_END, FORMAT, FORMAT_VERSION, ON_DEVICE, Parity, Row, add_speedups,
                                summarize_best_cpu)
from gnet.bench.runners import PrepareContext, Runner, Unavailable, discover, parse_backends, parse_precisions
from gnet.bench.stats import summarize, throughput
from gnet.bench.timing import Timing, TimingConfig, time_end_to_end, time_on_device
from gnet.errors import GnetError, first_line
from gnet.export.images import ImageSet

DEFAULT_BATCHES = (64,)
DEFAULT_ARTIFACTS = Path("artifacts")


@dataclass
class BenchConfig:
    """Everything ``gnet bench`` lets a user choose."""

    backends: str | Sequence[str] | None = None  # None: every backend
    precisions: str | Sequence[str] | None = None  # None: fp32, fp16, int8
    batches: Sequence[int] = DEFAULT_BATCHES
    threads: int | None = None
    timing: TimingConfig = field(default_factory=TimingConfig)
    on_device: bool = False
    weights: str = "auto"
    seed: int = 0
    image_size: int | None = None
    images: str | None = None
    parity_limit: int | None = None  # None: every image of the source
    artifacts: Path = DEFAULT_ARTIFACTS

    def check(self) -> None:
        self.timing.check()
        if not self.batches or min(self.batches) < 1:
            raise GnetError("--batch needs positive batch sizes, e.g. --batch 1,8,64")
        if self.threads is not None and self.threads < 1:
            raise GnetError(f"--threads must be at least 1, not {self.threads}")
        if self.parity_limit is not None and self.parity_limit < 1:
            raise GnetError(f"--parity-images must be at least 1, not {self.parity_limit}")


class Progress(Protocol):
    """What the harness tells a user while it works (the CLI shows a rich progress bar)."""

    def message(self, text: str) -> None: ...
    def start(self, total_rows: int) -> None: ...
    def row(self, label: str) -> None: ...
    def tick(self, fraction: float) -> None: ...
    def row_done(self) -> None: ...


class Silent:
    """A progress sink that says nothing (tests, the Python API)."""

    def message(self, text: str) -> None:
        pass

    def start(self, total_rows: int) -> None:
        pass

    def row(self, label: str) -> None:
        pass

    def tick(self, fraction: float) -> None:
        pass

    def row_done(self) -> None:
        pass


def _first_line(exc: BaseException) -> str:
    text = first_line(exc, 240) if str(exc).strip() else ""
    return text if isinstance(exc, GnetError) else f"{type(exc).__name__}: {text}"


class ArtifactStore:
    """Builds or reuses each ONNX variant once, only when a runner that can run here asks for it."""

    def __init__(self, loaded: Any, folder: Path, image_size: int, progress: Progress) -> None:
        self.loaded = loaded
        self.folder = folder
        self.image_size = image_size
        self.progress = progress
        self._paths: dict[str, Path] = {}
        self._errors: dict[str, str] = {}

    def __call__(self, variant: str) -> Path:
        if variant in self._errors:
            raise GnetError(self._errors[variant])
        if variant not in self._paths:
            from gnet.export.api import prepare_artifacts

            self.progress.message(f"artifact {variant}: reusing or building it in {self.folder}")
            try:
                self._paths.update(prepare_artifacts(self.loaded, self.folder, self.image_size, [variant]))
            except GnetError as exc:
                self._errors[variant] = f"the {variant} artifact could not be made ({_first_line(exc)})"
                raise GnetError(self._errors[variant]) from None
        return self._paths[variant]


def run_parity(runner: Runner, images: ImageSet, reference: np.ndarray, batch: int, trained: bool = True) -> Parity:
    """Run every parity image through ``runner`` in batches of exactly ``batch`` (the last one padded).

    ``trained=False`` (seeded random weights) judges reduced precisions on their error bounds only.
    """
    from gnet.export.metrics import compare_logits
    from gnet.export.tolerances import tolerance_for

    outputs = []
    for start in range(0, len(images), batch):
        chunk = images.data[start:start + batch]
        count = len(chunk)
        if count < batch:  # keep the timed shape: static-shape runners (fixed batch, CUDA graphs) need it
            chunk = np.resize(chunk, (batch, *chunk.shape[1:]))
        outputs.append(np.array(runner.run(np.ascontiguousarray(chunk)), dtype=np.float32)[:count])
    candidate = np.concatenate(outputs)
    metrics = compare_logits(reference, candidate, images.labels)
    tolerance = tolerance_for(runner.precision, trained)
    return Parity(metrics, tolerance, tolerance.violations(metrics))


def _row(runner: Runner, batch: int, io: str, timing: Timing, parity: Parity) -> Row:
    return Row(
        backend=runner.backend,
        variant=runner.variant,
        precision=runner.precision,
        batch=batch,
        io=io,
        device=runner.device,
        artifact=runner.artifact_path.name if runner.artifact_path else None,
        throughput_ips=throughput(batch, timing.latencies_ms),
        latency=summarize(timing.latencies_ms),
        stages={name: summarize(values) for name, values in timing.stages_ms.items() if values},
        warmup_iterations=timing.warmup_iterations,
        setup_s=runner.setup_s,
        parity=parity,
        settings=dict(runner.settings),
        notes=list(runner.notes),
    )


def measure_runner(runner: Runner, ctx: PrepareContext, images: ImageSet, reference: np.ndarray,
                   config: BenchConfig, progress: Progress) -> list[Row]:
    """Prepare one runner and produce its rows for every batch size; the runner is always closed."""
    rows: list[Row] = []
    ios = [END_TO_END] + ([ON_DEVICE] if config.on_device and runner.supports_stages else [])
    try:
        runner.prepare(ctx)
        for batch in config.batches:
            progress.row(f"{runner.name} {runner.precision} batch {batch}: preparing")
            runner.prepare_batch(batch)
            progress.row(f"{runner.name} {runner.precision} batch {batch}: parity on {len(images)} images")
            parity = run_parity(runner, images, reference, batch, trained=ctx.loaded.trained)
            timed_images = images.tile(batch)
            for io in ios:
                progress.row(f"{runner.name} {runner.precision} batch {batch} {io}: timing")
                timing = (time_end_to_end if io == END_TO_END else time_on_device)(runner, timed_images, config.timing, progress.tick)
                rows.append(_row(runner, batch, io, timing, parity))
                progress.row_done()
    finally:
        runner.close()
    return rows


def run_benchmark(config: BenchConfig, progress: Progress | None = None, argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return the results document (see ``results.schema.json``)."""
    from gnet.bench.model_source import choose_weights, image_size_for
    from gnet.export.api import parity_images
    from gnet.export.reference import torch_logits

    progress = progress or Silent()
    config.check()
    backends = parse_backends(config.backends)
    precisions = parse_precisions(config.precisions)
    batches = sorted(set(int(b) for b in config.batches))
    config.batches = batches
    runners, unavailable = discover(backends, precisions)

    chosen = choose_weights(config.weights, config.seed)
    loaded = chosen.loaded
    size = image_size_for(config.image_size)
    progress.message(f"weights: {loaded.weights} — {chosen.reason}; image size {size}")
    images = parity_images(loaded, config.images, size, config.parity_limit)
    reference = torch_logits(loaded.model, images.data)
    progress.message(f"parity images: {len(images)} from {images.source}"
                     + (" (with labels)" if images.labels is not None else ""))

    env = environment.collect(argv)  # before the runs: the load average then shows what else is running
    store = ArtifactStore(loaded, Path(config.artifacts), size, progress)
    ctx = PrepareContext(loaded=loaded, image_size=size, threads=config.threads, artifact=store, batches=batches)
    per_runner = len(batches)
    total = sum(per_runner * (2 if config.on_device and r.supports_stages else 1) for r in runners)
    progress.start(total)
    rows: list[Row] = []
    for runner in runners:
        try:
            rows.extend(measure_runner(runner, ctx, images, reference, config, progress))
        except Exception as exc:  # noqa: BLE001 - one backend failing must not lose every other row
            stage = "artifact" if "artifact could not be made" in str(exc) else "run"
            unavailable.append(Unavailable(runner.backend, runner.variant, runner.precision, _first_line(exc), stage))
            progress.message(f"[red]{runner.name} {runner.precision} failed[/]: {_first_line(exc)}")

    row_dicts = [row.to_dict() for row in rows]
    add_speedups(row_dicts)
    from gnet.export.tolerances import TOLERANCES

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "weights": {"name": loaded.weights, "spec": loaded.spec, "sha256": loaded.weights_sha256,
                    "dataset": loaded.dataset, "reason": chosen.reason},
        "image_size": size,
        "images": {"source": images.source, "count": len(images), "labels": images.labels is not None},
        "config": {
            "backends": [f"{b}:{v}" if v else b for b, v in backends],
            "precisions": precisions,
            "batches": batches,
            "threads": config.threads,
            "warmup_ms": config.timing.warmup_ms,
            "duration_s": config.timing.duration_s,
            "min_iterations": config.timing.min_iterations,
            "on_device": config.on_device,
            "artifacts": str(config.artifacts),
        },
        "tolerances": {name: {"rel_max": t.rel_max, "cosine_min": t.cosine_min, "top1_agreement": t.top1_agreement,
                              "max_accuracy_drop_points": t.max_accuracy_drop_points}
                       for name, t in TOLERANCES.items()},
        "environment": env,
        "rows": row_dicts,
        "unavailable": [u.to_dict() for u in unavailable],
        "best_cpu": summarize_best_cpu(row_dicts),
    }
