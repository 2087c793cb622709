"""Latency statistics and percentiles, checked against numpy."""

from __future__ import annotations

import numpy as np
import pytest

from gnet.bench.stats import CV_WARNING, percentile, summarize, throughput


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101, 1000])
def test_percentile_matches_numpy_linear(n: int):
    rng = np.random.default_rng(n)
    values = np.sort(rng.lognormal(mean=2.0, sigma=0.4, size=n))
    for q in (0, 1, 5, 25, 50, 75, 90, 95, 99, 99.9, 100):
        assert percentile(list(values), q) == pytest.approx(np.percentile(values, q), rel=1e-12, abs=1e-12)


def test_percentile_rejects_bad_input():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summarize_matches_numpy():
    rng = np.random.default_rng(0)
    values = rng.normal(10.0, 0.5, size=257)
    stats = summarize(list(rng.permutation(values)))  # order must not matter
    assert stats.iterations == 257
    assert stats.min_ms == pytest.approx(values.min())
    assert stats.max_ms == pytest.approx(values.max())
    assert stats.mean_ms == pytest.approx(values.mean())
    assert stats.median_ms == pytest.approx(np.median(values))
    for name, q in (("p90_ms", 90), ("p95_ms", 95), ("p99_ms", 99)):
        assert getattr(stats, name) == pytest.approx(np.percentile(values, q))
    assert stats.std_ms == pytest.approx(values.std(ddof=1))
    assert stats.cv == pytest.approx(values.std(ddof=1) / values.mean())
    assert stats.min_ms <= stats.median_ms <= stats.p90_ms <= stats.p95_ms <= stats.p99_ms <= stats.max_ms


def test_single_iteration_and_noise_flag():
    one = summarize([4.0])
    assert one.std_ms == 0.0 and one.cv == 0.0 and one.median_ms == one.p99_ms == 4.0
    assert not one.noisy
    noisy = summarize([10.0, 10.0, 10.0, 13.0])
    assert noisy.cv > CV_WARNING and noisy.noisy
    with pytest.raises(ValueError):
        summarize([])


def test_throughput_is_batches_per_second_times_batch():
    # 4 batches of 64 in 4 × 250 ms = 1 s → 256 images/s
    assert throughput(64, [250.0] * 4) == pytest.approx(256.0)
    assert throughput(1, [10.0, 30.0]) == pytest.approx(2 / 0.04)
    assert throughput(8, []) == 0.0
