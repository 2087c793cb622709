"""Latency statistics as trtexec reports them: min/mean/median/percentiles/max and the coefficient of variation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

CV_WARNING = 0.025
"""A coefficient of variation above 2.5% means the machine was not quiet enough to trust the figure."""

PERCENTILES = (90.0, 95.0, 99.0)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of already sorted values, by linear interpolation between
    closest ranks (numpy's default ``method="linear"``), so the figures can be checked with numpy."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} is outside 0..100")
    position = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return float(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction)


@dataclass(frozen=True)
class LatencyStats:
    """Summary of per-iteration latencies in milliseconds (one iteration = one batch)."""

    iterations: int
    min_ms: float
    mean_ms: float
    median_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    std_ms: float  # sample standard deviation (n - 1)
    cv: float  # std / mean

    @property
    def noisy(self) -> bool:
        return self.cv > CV_WARNING

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(latencies_ms: Sequence[float]) -> LatencyStats:
    """Statistics of per-iteration latencies; at least one value."""
    values = sorted(float(v) for v in latencies_ms)
    if not values:
        raise ValueError("no latencies to summarize")
    n = len(values)
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return LatencyStats(
        iterations=n,
        min_ms=values[0],
        mean_ms=mean,
        median_ms=percentile(values, 50.0),
        p90_ms=percentile(values, 90.0),
        p95_ms=percentile(values, 95.0),
        p99_ms=percentile(values, 99.0),
        max_ms=values[-1],
        std_ms=std,
        cv=std / mean if mean > 0 else 0.0,
    )


def throughput(batch: int, latencies_ms: Sequence[float]) -> float:
    """Images per second: batches per second (iterations / total time) times the batch size."""
    total_ms = math.fsum(latencies_ms)
    if total_ms <= 0:
        return 0.0
    return batch * len(latencies_ms) / (total_ms / 1000.0)
