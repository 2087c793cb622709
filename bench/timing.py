"""The timing loop, as trtexec defines it: time-based warm-up, then a duration with a minimum iteration count.

One iteration is one batch through ``runner.run`` (end to end: host images in, host logits out). A runner in
the caller's process may lead with its parity pass: those batches of real images are the loop's first
iterations (warm-up included) instead of a pass of their own, and the loop runs until every one has run.
GPU runners are also timed step by step with their events — host→device, compute,
device→host — and, with ``on_device``, with the input already on the GPU (compute only).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from gnet.bench.runners.base import Runner
from gnet.errors import UsageError

STAGES = ("h2d", "compute", "d2h")


@dataclass(frozen=True)
class TimingConfig:
    """trtexec's defaults: --warmUp=200 (ms), --duration=3 (s), --iterations=10 (minimum)."""

    warmup_ms: float = 200.0
    duration_s: float = 3.0
    min_iterations: int = 10

    def check(self) -> None:
        if self.warmup_ms < 0:
            raise UsageError(f"--warmup-ms must be 0 or more, not {self.warmup_ms:g}")
        if self.duration_s < 0:
            raise UsageError(f"--duration-s must be 0 or more, not {self.duration_s:g}")
        if self.min_iterations < 1:
            raise UsageError(f"--min-iterations must be at least 1, not {self.min_iterations}")


@dataclass
class Timing:
    """Per-iteration latencies (ms) of one timed loop, and, for GPU runners, of each step."""

    latencies_ms: list[float]
    warmup_iterations: int
    stages_ms: dict[str, list[float]] = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return sum(self.latencies_ms) / 1000.0


Tick = Callable[[float], None]
"""Called after each timed iteration with the fraction of the duration done (for a progress bar)."""


def _loop(step: Callable[[bool], float], config: TimingConfig, tick: Tick | None,
          pending: Callable[[], bool] = lambda: False) -> tuple[list[float], int]:
    """Warm up for ``warmup_ms`` (at least once), then time until both the duration and the count are reached
    and nothing is ``pending``.

    ``step(timed)`` runs one iteration and returns its latency in ms; ``timed`` is False during warm-up.
    """
    warm_end = time.perf_counter() + config.warmup_ms / 1000.0
    warmups = 0
    while True:
        step(False)
        warmups += 1
        if time.perf_counter() >= warm_end:
            break
    latencies: list[float] = []
    start = time.perf_counter()
    end = start + config.duration_s
    while True:
        latencies.append(step(True))
        now = time.perf_counter()
        if tick is not None:
            tick(min(1.0, (now - start) / config.duration_s) if config.duration_s > 0 else 1.0)
        if now >= end and len(latencies) >= config.min_iterations and not pending():
            break
    return latencies, warmups


def time_end_to_end(runner: Runner, images: np.ndarray, config: TimingConfig, tick: Tick | None = None) -> Timing:
    """Host wall time of ``runner.run(images)`` per iteration (for a GPU runner, also split into steps); a runner in
    another process (``times_itself``) is timed by its own loop, under the same rules."""
    return _end_to_end(runner, images, config, tick)[0]


def leads_with_parity(runner: Runner) -> bool:
    """Whether the parity pass can be the first timed iterations: one ``run`` per batch in this process (a runner
    that times itself, is timed in steps or is served runs its parity pass on its own)."""
    return not (runner.times_itself or runner.supports_stages or runner.supports_concurrency)


def time_with_parity(runner: Runner, parity_batches: Sequence[np.ndarray], images: np.ndarray, config: TimingConfig,
                     tick: Tick | None = None) -> tuple[Timing, np.ndarray, float]:
    """The parity batches first, in order, as the loop's first iterations; then ``images`` until the loop's rules are
    met → (timing, the parity batches' logits concatenated, seconds the parity batches took)."""
    if not leads_with_parity(runner):
        raise UsageError(f"{runner.name} cannot time its parity pass in this process")
    return _end_to_end(runner, images, config, tick, list(parity_batches))


def _end_to_end(runner: Runner, images: np.ndarray, config: TimingConfig, tick: Tick | None,
                lead: list[np.ndarray] | None = None) -> tuple[Timing, np.ndarray, float]:
    if runner.times_itself:
        latencies, warmups = runner.time_itself(images, config.warmup_ms, config.duration_s, config.min_iterations)
        if tick is not None:
            tick(1.0)
        return Timing(latencies, warmups), _NO_LOGITS, 0.0
    if runner.supports_stages:
        return _time_stages(runner, images, config, tick, on_device=False), _NO_LOGITS, 0.0
    lead = lead or []
    logits: list[np.ndarray] = []
    lead_ms = 0.0

    def step(timed: bool) -> float:
        nonlocal lead_ms
        leading = len(logits) < len(lead)
        t0 = time.perf_counter_ns()
        out = runner.run(lead[len(logits)] if leading else images)
        elapsed = (time.perf_counter_ns() - t0) / 1e6
        if leading:
            logits.append(np.array(out, dtype=np.float32))
            lead_ms += elapsed
        return elapsed

    latencies, warmups = _loop(step, config, tick, pending=lambda: len(logits) < len(lead))
    return Timing(latencies, warmups), (np.concatenate(logits) if logits else _NO_LOGITS), lead_ms / 1000.0


_NO_LOGITS = np.zeros((0, 0), np.float32)


def time_on_device(runner: Runner, images: np.ndarray, config: TimingConfig, tick: Tick | None = None) -> Timing:
    """The input uploaded once; each iteration is one compute, waited for (logits stay on the GPU)."""
    if not runner.supports_stages:
        raise UsageError(f"{runner.name} runs on the CPU and has no on-device mode")
    return _time_stages(runner, images, config, tick, on_device=True)


def _time_stages(runner: Runner, images: np.ndarray, config: TimingConfig, tick: Tick | None, on_device: bool) -> Timing:
    events = [runner.new_event() for _ in range(4)]
    stages: dict[str, list[float]] = {name: [] for name in (("compute",) if on_device else STAGES)}

    if on_device:
        runner.upload(images)
        runner.synchronize()

    def step(timed: bool) -> float:
        t0 = time.perf_counter_ns()
        if on_device:
            runner.record(events[1])
            runner.compute()
            runner.record(events[2])
            runner.synchronize()
        else:
            runner.record(events[0])
            runner.upload(images)
            runner.record(events[1])
            runner.compute()
            runner.record(events[2])
            runner.download()
            runner.record(events[3])
            runner.synchronize()
        wall = (time.perf_counter_ns() - t0) / 1e6
        if timed:
            stages["compute"].append(runner.elapsed_ms(events[1], events[2]))
            if not on_device:
                stages["h2d"].append(runner.elapsed_ms(events[0], events[1]))
                stages["d2h"].append(runner.elapsed_ms(events[2], events[3]))
        return wall

    latencies, warmups = _loop(step, config, tick)
    return Timing(latencies, warmups, stages)


BLOCK = 4
"""Batches per configuration per round; the first of each block is a warm-up and is not recorded, so a
configuration never inherits the previous one's spinning threads or cold caches."""


def round_robin(runners: Sequence[Runner], data: np.ndarray, config: TimingConfig, tick: Tick | None = None) -> list[list[float]]:
    """Latencies of each runner, in rounds of ``BLOCK`` batches per runner, the starting runner rotating each round.

    Warm-up: ``warmup_ms`` per runner, one call each at least. Then rounds until ``duration_s`` per runner
    has passed in total and every runner has ``min_iterations`` latencies.
    """
    for runner in runners:
        end = time.perf_counter() + config.warmup_ms / 1000.0
        runner.run(data)
        while time.perf_counter() < end:
            runner.run(data)
    out: list[list[float]] = [[] for _ in runners]
    start = time.perf_counter()
    budget = config.duration_s * len(runners)
    index = 0
    while True:
        order = list(range(len(runners)))
        order = order[index % len(runners):] + order[:index % len(runners)]
        for i in order:
            runners[i].run(data)  # the block's warm-up
            for _ in range(BLOCK - 1):
                t0 = time.perf_counter_ns()
                runners[i].run(data)
                out[i].append((time.perf_counter_ns() - t0) / 1e6)
        index += 1
        elapsed = time.perf_counter() - start
        if tick is not None and budget > 0:
            tick(min(1.0, elapsed / budget))
        if elapsed >= budget and min(len(v) for v in out) >= config.min_iterations:
            return out
