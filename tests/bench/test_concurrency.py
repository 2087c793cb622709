"""N concurrent callers timed trtexec-style: every request counted, failures kept, the window bounded.

The callers here are in-process ONNX Runtime sessions (real work, no server): what is under test is
the timing and counting of :func:`time_concurrent`, which the served rows rely on.
"""

from __future__ import annotations

import numpy as np
import pytest

from gnet.bench.concurrency import parse_concurrency, time_concurrent
from gnet.bench.timing import TimingConfig
from gnet.errors import UsageError

WINDOW = TimingConfig(warmup_ms=20.0, duration_s=0.3, min_iterations=12)


class SessionCaller:
    """One caller: its own ORT session of the served test model; ``fail_every`` makes every n-th answer wrong."""

    def __init__(self, path, fail_every: int = 0) -> None:
        from gnet.checks.ort import cpu_session

        self.session = cpu_session(path, threads=1)
        self.fail_every, self.calls, self.closed = fail_every, 0, False

    def infer(self, images: np.ndarray) -> np.ndarray:
        self.calls += 1
        out = self.session.run(None, {"input": images})[0]
        if self.fail_every and self.calls % self.fail_every == 0:
            return out[:, :3]  # the wrong shape, as a broken server would answer
        return out

    def close(self) -> None:
        self.closed = True


def test_parse_concurrency():
    assert parse_concurrency("16,1,4,4") == [1, 4, 16] and parse_concurrency(None) == [1] and parse_concurrency([2]) == [2]
    for bad in ("0", "1,x", "300"):
        with pytest.raises(UsageError):
            parse_concurrency(bad)


def test_every_caller_runs_in_the_window_and_throughput_is_over_wall_time(serve_model):
    images = np.zeros((2, 3, 64, 64), np.float32)
    callers = [SessionCaller(serve_model) for _ in range(3)]
    timing = time_concurrent(callers, images, WINDOW, (2, 10))
    assert timing.passed and timing.failures == 0 and timing.concurrency == 3
    assert len(timing.latencies_ms) >= WINDOW.min_iterations and timing.wall_s >= WINDOW.duration_s
    assert timing.warmup_requests >= 3 and all(c.calls >= 2 and c.closed for c in callers)
    assert timing.images_per_s == pytest.approx(2 * len(timing.latencies_ms) / timing.wall_s)


def test_wrong_answers_are_failures_and_the_row_does_not_pass(serve_model):
    images = np.zeros((1, 3, 64, 64), np.float32)
    timing = time_concurrent([SessionCaller(serve_model, fail_every=3), SessionCaller(serve_model)], images, WINDOW,
                             (1, 10))
    assert timing.failures >= 1 and not timing.passed
    assert timing.errors[0] == "wrong answer: logits of shape (1, 3), expected (1, 10)"
    assert len(timing.errors) <= 5 and timing.latencies_ms
