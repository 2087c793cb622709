"""``--concurrency 1,4,16``: N clients at once against a served model, timed trtexec-style.

Each of N threads owns one client and sends the same batch back to back. Warm-up: ``warmup_ms`` per
thread, at least one request each, not recorded. Then a window that opens for every thread at once
(a barrier) and lasts until ``duration_s`` has passed and the threads together have ``min_iterations``
requests; :data:`HARD_CAP_S` bounds it whatever happens. The result keeps every request's latency (the
usual statistics), the images answered per second of wall time (not per summed latency: requests
overlap) and every failure (an exception, or logits of the wrong shape or not finite). A row passes only
with zero failed requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gnet.bench.timing import TimingConfig
from gnet.errors import UsageError, first_line

HARD_CAP_S = 600.0
"""No concurrency run outlives this (a stuck server must not hang a benchmark or CI)."""
MAX_CONCURRENCY = 256
ERRORS_KEPT = 5


@dataclass
class ConcurrentTiming:
    """What N concurrent clients saw in the timed window."""

    concurrency: int
    batch: int
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0
    errors: list[str] = field(default_factory=list)  # the first few, for the report
    wall_s: float = 0.0
    warmup_requests: int = 0

    @property
    def images_per_s(self) -> float:
        return self.batch * len(self.latencies_ms) / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def passed(self) -> bool:
        return self.failures == 0 and bool(self.latencies_ms)

    def record(self, latency_ms: float, error: str) -> int:
        """Count one timed request; returns how many the window has so far."""
        if error:
            self.failures += 1
            if len(self.errors) < ERRORS_KEPT:
                self.errors.append(error)
        else:
            self.latencies_ms.append(latency_ms)
        return len(self.latencies_ms) + self.failures


def parse_concurrency(value: str | Sequence[int] | None) -> list[int]:
    """``"1,4,16"`` → ``[1, 4, 16]`` (sorted, unique); None → ``[1]``."""
    if value is None or value == "":
        return [1]
    try:
        levels = sorted({int(v) for v in (value.split(",") if isinstance(value, str) else value) if str(v).strip()})
    except ValueError:
        raise UsageError(f"--concurrency {value!r} is not a comma-separated list of integers") from None
    if not levels or levels[0] < 1 or levels[-1] > MAX_CONCURRENCY:
        raise UsageError(f"--concurrency takes levels from 1 to {MAX_CONCURRENCY}", remedy="e.g. --concurrency 1,4,16")
    return levels


def one_request(client: Any, images: np.ndarray, expected: tuple[int, ...]) -> tuple[float, str]:
    """One request: (latency in ms, "") or (0, what went wrong)."""
    t0 = time.perf_counter_ns()
    try:
        out = client.infer(images)
    except Exception as exc:  # noqa: BLE001 - counted as a failed request, never fatal to the run
        return 0.0, f"{type(exc).__name__}: {first_line(exc, 160)}"
    latency = (time.perf_counter_ns() - t0) / 1e6
    if out is None or out.shape != expected or not np.isfinite(out).all():
        return 0.0, f"wrong answer: logits of shape {getattr(out, 'shape', None)}, expected {expected}"
    return latency, ""


def time_concurrent(clients: Sequence[Any], images: np.ndarray, config: TimingConfig,
                    expected: tuple[int, ...]) -> ConcurrentTiming:
    """Run one thread per client (``client.infer(images)``) as the module says; closes the clients."""
    result = ConcurrentTiming(len(clients), int(images.shape[0]))
    lock = threading.Lock()
    window = {"start": 0.0, "end": 0.0}
    hard_stop = time.perf_counter() + HARD_CAP_S

    def open_window() -> None:  # run by the barrier once every thread has warmed up
        window["start"] = time.perf_counter()
        window["end"] = window["start"] + config.duration_s

    warmed = threading.Barrier(len(clients), action=open_window)

    def worker(client: Any) -> None:
        warm_end = time.perf_counter() + config.warmup_ms / 1000.0
        count = 0
        while count == 0 or time.perf_counter() < warm_end:
            one_request(client, images, expected)
            count += 1
        with lock:
            result.warmup_requests += count
        warmed.wait(timeout=HARD_CAP_S)
        while True:
            latency, error = one_request(client, images, expected)
            with lock:
                done = result.record(latency, error)
            now = time.perf_counter()
            if (now >= window["end"] and done >= config.min_iterations) or now >= hard_stop:
                return

    threads = [threading.Thread(target=worker, args=(c,), daemon=True, name=f"gnet-client-{i}")
               for i, c in enumerate(clients)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1.0, hard_stop - time.perf_counter()))
        result.wall_s = time.perf_counter() - window["start"] if window["start"] else 0.0
    finally:
        for client in clients:  # an open keep-alive connection would delay the server's exit
            client.close()
    return result
