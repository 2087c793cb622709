"""The benchmark harness: discovery, artifacts, parity and timing for every row; the runners only run.

For each runner that can run here: prepare it (its artifact is built or reused on demand),
then for each batch size check its parity on the real images and time it, end to end
(and on the device with ``on_device``). Anything that cannot run is kept with its reason.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from gnet.bench import environment
from gnet.bench.config import BenchConfig
from gnet.bench.engine_builds import engine_builds, wanted
from gnet.bench.progress import Progress, Silent
from gnet.bench.results import BASELINE_TORCH, END_TO_END, ON_DEVICE, Row, Unavailable, document
from gnet.bench.runners import (PrepareContext, Runner, discover, left_out_by_default, opted_out, parse_backends,
                                parse_precisions)
from gnet.bench.runners.base import padded_batches
from gnet.bench.stats import summarize, throughput
from gnet.bench.timing import Timing, leads_with_parity, time_end_to_end, time_on_device, time_with_parity
from gnet.checks.images import ImageSet
from gnet.checks.parity import ParityCheck
from gnet.errors import ArtifactError, GnetError, first_line
from gnet.pipeline import ArtifactStore


def _reason(exc: BaseException) -> str:
    """What a failed row records: a GnetError's cause, else the foreign exception's type and first line."""
    if isinstance(exc, GnetError):
        return exc.cause
    return f"{type(exc).__name__}: {first_line(exc, 240)}"


def run_parity(runner: Runner, images: ImageSet, reference: np.ndarray, batch: int, trained: bool = True) -> ParityCheck:
    """Run every parity image through ``runner`` in batches of exactly ``batch`` (the last one padded) and judge it.

    ``trained=False`` (seeded random weights) judges reduced precisions on their error bounds only.
    """
    candidate = runner.run_all(images.data, batch)  # the last batch padded: static-shape runners need the timed shape
    return judge_parity(runner, images, reference, candidate, trained)


def judge_parity(runner: Runner, images: ImageSet, reference: np.ndarray, candidate: np.ndarray,
                 trained: bool = True) -> ParityCheck:
    """``runner``'s logits of the parity images (``candidate``, padding already cut) against PyTorch FP32's."""
    from gnet.checks.metrics import compare_logits
    from gnet.checks.tolerances import tolerance_for

    metrics = compare_logits(reference, candidate, images.labels)
    tolerance = tolerance_for(runner.precision, trained)
    return ParityCheck(metrics, tolerance, tolerance.violations(metrics) + _fp16_range(runner, images))


_OVERFLOWS: dict[tuple, str] = {}


def _fp16_range(runner: Runner, images: ImageSet) -> list[str]:
    """An FP16 ONNX row's overflow, which a CPU hides (it computes FP16 layers in FP32): read once per file."""
    path = runner.artifact_path
    if runner.precision != "fp16" or path is None or Path(path).suffix != ".onnx":
        return []
    stat = Path(path).stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, images.source, len(images))
    if key not in _OVERFLOWS:
        from gnet.checks.diagnosis import first_overflow

        overflow = first_overflow(path, images)
        _OVERFLOWS[key] = f"leaves FP16's range: {overflow.sentence()}" if overflow else ""
    return [_OVERFLOWS[key]] if _OVERFLOWS[key] else []


def _row(runner: Runner, batch: int, io: str, timing: Timing, parity: ParityCheck) -> Row:
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
        runtime=runner.runtime,
    )


def concurrent_rows(runner: Runner, timed_images: np.ndarray, classes: int, parity: ParityCheck, config: BenchConfig,
                    progress: Progress) -> list[Row]:
    """A served runner's rows at one batch size: one per ``--concurrency`` level, timed from the clients."""
    from gnet.bench.concurrency import time_concurrent

    rows = []
    batch = int(timed_images.shape[0])
    for level in config.concurrency:
        progress.row(f"{runner.name} {runner.precision} batch {batch} × {level} clients: timing")
        timing = time_concurrent(runner.clients(level), timed_images, config.timing, (batch, classes))
        if not timing.latencies_ms:
            raise GnetError(f"every request of {level} client(s) failed", timing.errors[0] if timing.errors else "")
        row = _row(runner, batch, END_TO_END, Timing(timing.latencies_ms, timing.warmup_requests), parity)
        row.throughput_ips = timing.images_per_s
        row.concurrency, row.failed_requests, row.request_errors = level, timing.failures, timing.errors
        rows.append(row)
        progress.row_done()
    return rows


def measure_runner(runner: Runner, ctx: PrepareContext, images: ImageSet, reference: np.ndarray,
                   config: BenchConfig, progress: Progress, started: float | None = None) -> list[Row]:
    """Prepare one runner and produce its rows for every batch size; the runner is always closed. Each row records
    its parity time and, given the run's ``started`` (``time.perf_counter()``), when its timing ended."""
    rows: list[Row] = []
    try:
        runner.prepare(ctx)
        for batch in config.batches:
            progress.row(f"{runner.name} {runner.precision} batch {batch}: preparing")
            runner.prepare_batch(batch)
            measure = _row_leading_with_parity if leads_with_parity(runner) else _rows_after_parity
            rows += measure(runner, ctx, images, reference, batch, config, progress, started)
    finally:
        runner.close()
    return rows


def _row_leading_with_parity(runner: Runner, ctx: PrepareContext, images: ImageSet, reference: np.ndarray, batch: int,
                             config: BenchConfig, progress: Progress, started: float | None) -> list[Row]:
    """One row whose parity batches are its first timed iterations (:func:`gnet.bench.timing.time_with_parity`)."""
    return [_lead_with_parity(runner, ctx, images, reference, batch, config, progress, started)[0]]


def _lead_with_parity(runner: Runner, ctx: PrepareContext, images: ImageSet, reference: np.ndarray | None, batch: int,
                      config: BenchConfig, progress: Progress, started: float | None) -> tuple[Row, np.ndarray]:
    """The row and its logits of the parity images; with no ``reference`` yet, its own logits are the reference
    (its parity is marked so: agreement by construction)."""
    what = "parity" if reference is not None else "the reference"
    progress.row(f"{runner.name} {runner.precision} batch {batch}: {what} on {len(images)} images, then timing")
    timing, logits, parity_s = time_with_parity(runner, padded_batches(images.data, batch), images.tile(batch),
                                                config.timing, progress.tick)
    logits = logits[:len(images)]
    parity = judge_parity(runner, images, logits if reference is None else reference, logits,
                          trained=ctx.loaded.trained)
    parity.is_reference = reference is None
    row = _row(runner, batch, END_TO_END, timing, parity)
    row.parity_s, row.finished_s = parity_s, _since(started)
    progress.row_done()
    return row, logits


def _rows_after_parity(runner: Runner, ctx: PrepareContext, images: ImageSet, reference: np.ndarray, batch: int,
                       config: BenchConfig, progress: Progress, started: float | None) -> list[Row]:
    """A runner that cannot lead with its parity pass: the pass on its own, then each timed row."""
    progress.row(f"{runner.name} {runner.precision} batch {batch}: parity on {len(images)} images")
    parity_start = time.perf_counter()
    parity = run_parity(runner, images, reference, batch, trained=ctx.loaded.trained)
    parity_s = time.perf_counter() - parity_start
    timed_images = images.tile(batch)
    if runner.supports_concurrency:
        return concurrent_rows(runner, timed_images, reference.shape[1], parity, config, progress)
    rows = []
    for io in [END_TO_END] + ([ON_DEVICE] if config.on_device and runner.supports_stages else []):
        progress.row(f"{runner.name} {runner.precision} batch {batch} {io}: timing")
        timing = (time_end_to_end if io == END_TO_END else time_on_device)(runner, timed_images, config.timing, progress.tick)
        rows.append(_row(runner, batch, io, timing, parity))
        rows[-1].parity_s, rows[-1].finished_s = parity_s, _since(started)
        progress.row_done()
    return rows


def _since(started: float | None) -> float | None:
    return None if started is None else time.perf_counter() - started


def _measure_all(runners: list[Runner], ctx: PrepareContext, images: ImageSet, reference: np.ndarray,
                 config: BenchConfig, progress: Progress, unavailable: list[Unavailable], started: float) -> list[Row]:
    """Every runner's rows; one backend failing must not lose every other row (it joins ``unavailable``)."""
    total = sum(len(config.batches) * (len(config.concurrency) if r.supports_concurrency else
                                       2 if config.on_device and r.supports_stages else 1) for r in runners)
    progress.start(total)
    rows: list[Row] = []
    for runner in runners:
        try:
            rows.extend(measure_runner(runner, ctx, images, reference, config, progress, started))
        except Exception as exc:  # noqa: BLE001 - recorded with its reason, shown in every report
            _failed(runner, exc, unavailable, progress)
    return rows


def _failed(runner: Runner, exc: BaseException, unavailable: list[Unavailable], progress: Progress) -> None:
    stage = "artifact" if isinstance(exc, ArtifactError) else "run"
    unavailable.append(Unavailable(runner.backend, runner.variant, runner.precision, _reason(exc), stage))
    progress.message(f"{runner.name} {runner.precision} failed: {_reason(exc)}", style="red")


def _no_artifact(kind: str) -> Path:
    raise ArtifactError(f"the {kind} artifact was asked for before the reference existed")


def _reference(runners: list[Runner], ctx: PrepareContext, images: ImageSet, config: BenchConfig, progress: Progress,
               unavailable: list[Unavailable], started: float) -> tuple[list[Row], np.ndarray, list[Runner]]:
    """PyTorch FP32's logits of the parity images, which every row is judged against, the rows that made them, and
    the runners left to measure: when the run starts with ``torch-cpu:eager`` FP32, its first row's parity batches
    (timed as its first iterations) are the reference, so the run does not compute it twice; otherwise, or if that
    row fails (it is then listed with why), the model computes it on its own."""
    from gnet.export.weights import torch_logits

    if not runners or (runners[0].backend, runners[0].variant, runners[0].precision) != BASELINE_TORCH:
        return [], torch_logits(ctx.loaded.model, images.data), runners
    try:
        rows, reference = measure_reference(runners[0], ctx, images, config, progress, started)
    except Exception as exc:  # noqa: BLE001 - recorded with its reason, as every failed row is
        _failed(runners[0], exc, unavailable, progress)
        rows, reference = [], torch_logits(ctx.loaded.model, images.data)
    return rows, reference, runners[1:]


def measure_reference(runner: Runner, ctx: PrepareContext, images: ImageSet, config: BenchConfig, progress: Progress,
                      started: float | None = None) -> tuple[list[Row], np.ndarray]:
    """``runner`` (PyTorch eager FP32) at every batch size, its first batch size's parity logits being the run's
    reference: that row's parity is marked as the reference, not as a pass, and the later batch sizes are judged
    against it as any row is. The runner is always closed."""
    first, *others = config.batches
    try:
        runner.prepare(ctx)
        runner.prepare_batch(first)
        row, reference = _lead_with_parity(runner, ctx, images, None, first, config, progress, started)
        rows = [row]
        for batch in others:
            runner.prepare_batch(batch)
            rows += _row_leading_with_parity(runner, ctx, images, reference, batch, config, progress, started)
    finally:
        runner.close()
    return rows, reference


def run_benchmark(config: BenchConfig, progress: Progress | None = None, argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return the results document (see ``results.schema.json``)."""
    from gnet.checks.images import parity_images
    from gnet.export.weights_choice import choose_weights

    started = time.perf_counter()
    progress = progress or Silent()
    config.check()
    config.check_memory()
    backends = parse_backends(config.backends)
    precisions = parse_precisions(config.precisions)
    config.batches = sorted(set(int(b) for b in config.batches))
    runners, unavailable = discover(backends, precisions)
    unavailable += opted_out(backends, precisions)
    if not config.precisions:
        runners, left_out = left_out_by_default(runners)
        unavailable += left_out

    chosen = choose_weights(config.weights, config.seed, image_size=config.size)
    loaded = chosen.loaded
    progress.message(f"weights: {loaded.weights} — {chosen.reason}; image size {config.size}")
    images = parity_images(loaded, config.images, config.size, config.parity_limit)
    progress.message(f"parity images: {len(images)} from {images.source}"
                     + (" (with labels)" if images.labels is not None else ""))
    env = environment.collect(argv)  # before the runs: the load average then shows what else is running
    ctx = PrepareContext(loaded=loaded, image_size=config.size, threads=config.threads, artifact=_no_artifact,
                         batches=list(config.batches))
    rows, reference, runners = _reference(runners, ctx, images, config, progress, unavailable, started)
    reference_s = time.perf_counter() - started
    same_images = config.images is None and config.parity_limit is None  # the very images an export proves on
    store = ArtifactStore(loaded, Path(config.artifacts), config.size, progress,
                          images if same_images else None, reference if same_images else None)
    ctx.artifact = store
    rows += _measure_all(runners, ctx, images, reference, config, progress, unavailable, started)
    builds_start = time.perf_counter()
    builds = engine_builds(precisions, store, list(config.batches), progress.message) if wanted(backends) else None
    timeline = {"reference_s": reference_s, "first_row_s": min((r.finished_s for r in rows if r.finished_s), default=None),
                "total_s": time.perf_counter() - started, "artifacts": dict(store.seconds)}
    if builds is not None:
        timeline["engine_builds_s"] = time.perf_counter() - builds_start
    return document(config, backends, precisions, chosen, config.size, images, env, rows, unavailable, builds, timeline)
