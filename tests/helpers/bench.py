"""What the benchmark tests share: one artifacts folder per session, and a timing loop short enough for tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnet.bench.timing import TimingConfig

TINY = TimingConfig(warmup_ms=5.0, duration_s=0.05, min_iterations=2)


def bench_artifacts(factory: pytest.TempPathFactory) -> Path:
    """One artifacts folder for every bench test module (prepare_artifacts reuses what matches)."""
    path = factory.getbasetemp() / "bench-artifacts"
    path.mkdir(exist_ok=True)
    return path
