"""Autotuning shared by the tuned CPU rows: time each candidate configuration briefly, keep the fastest.

Which configuration wins depends on the CPU, the image size and the precision, so it is measured where
the benchmark runs: interleaved (round robin), at least :data:`AUTOTUNE_ITERATIONS` batches each, outside
the timed loop, as TensorRT picks tactics. The runtime's own defaults always compete, so a tuned row
never settles for something it measured slower than doing nothing; with a ``margin`` it keeps a
non-default configuration only when it measured at least that much faster than the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnet.bench.runners.base import Runner

AUTOTUNE_ITERATIONS = 6


@dataclass
class LayoutChoice:
    """The configuration kept for one batch size, its runner, and what every candidate measured (images/s)."""

    name: str
    runner: Runner
    img_s: dict[str, float]


def keep(img_s: dict[str, float], default: str | None = None, margin: float = 0.0) -> str:
    """The candidate to keep: the fastest, unless ``default`` is given and the fastest beats it by less than
    ``margin`` (0.05: at least 5% more images/s), in which case the defaults stay."""
    fastest = max(img_s, key=lambda name: img_s[name])
    if default is None or fastest == default or img_s[fastest] >= img_s[default] * (1.0 + margin):
        return fastest
    return default


def fastest_layout(candidates: dict[str, Runner], batch: int, image_size: int, default: str | None = None,
                   margin: float = 0.0) -> LayoutChoice:
    """Time every prepared candidate at ``batch`` (interleaved, median latency), keep one (see :func:`keep`),
    close the rest."""
    from gnet.bench.timing import TimingConfig, round_robin

    names, runners = list(candidates), list(candidates.values())
    data = np.random.default_rng(0).standard_normal((batch, 3, image_size, image_size)).astype(np.float32)
    # Interleaved, at least AUTOTUNE_ITERATIONS batches each: on two cores a short window held as few as three
    # batches per layout, which picked by noise rather than by speed (docs/bench.md).
    latencies = round_robin(runners, data, TimingConfig(warmup_ms=50.0, duration_s=0.4,
                                                         min_iterations=AUTOTUNE_ITERATIONS))
    medians = [float(np.median(v)) for v in latencies]
    img_s = {name: round(batch / (median / 1000.0), 1) for name, median in zip(names, medians)}
    kept = names.index(keep(dict(zip(names, (batch / m for m in medians))), default, margin))
    for index, runner in enumerate(runners):
        if index != kept:
            runner.close()
    return LayoutChoice(names[kept], runners[kept], img_s)
