"""``ort-cpu:tuned``'s autotuner: time each way of spreading a batch over the cores, keep the fastest.

Which layout wins depends on the CPU, the image size and the precision, so it is measured where
the benchmark runs, briefly, interleaved (round robin), outside the timed loop, as TensorRT picks
tactics. ORT's own defaults always compete, so the tuned row never settles for something it
measured slower than doing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnet.bench.runners.base import Runner
from gnet.bench.runners.ort_options import DEFAULT, OrtTuning

AUTOTUNE_ITERATIONS = 6
UNTUNED = "ONNX Runtime's default options"


def layouts(base: OrtTuning, cores: int) -> dict[str, OrtTuning]:
    """The configurations ``ort-cpu:tuned`` chooses from: ``base`` with each way of spreading a batch over
    the cores (which is fastest depends on the CPU, the image size and the precision), and ORT's own
    defaults, so the tuned row never settles for something it measured slower than doing nothing
    (see :func:`fastest_layout`)."""
    spreads = {
        f"{cores} intra-op threads": {"workers": 1, "sub_batch": 0},
        f"{cores} intra-op threads, chunks of 16": {"workers": 1, "sub_batch": 16},
        f"{cores} intra-op threads, chunks of 32": {"workers": 1, "sub_batch": 32},
        f"{cores} workers": {"workers": cores, "sub_batch": 0},
        f"{cores} workers, chunks of 16": {"workers": cores, "sub_batch": 16},
    }
    found = {name: base.replace(**spread) for name, spread in spreads.items()}
    found[UNTUNED] = DEFAULT.replace(threads=base.threads)
    return found


@dataclass
class LayoutChoice:
    """The layout kept for one batch size, its runner, and what every candidate measured (images/s)."""

    name: str
    runner: Runner
    img_s: dict[str, float]


def fastest_layout(candidates: dict[str, Runner], batch: int, image_size: int) -> LayoutChoice:
    """Time every prepared candidate at ``batch`` (interleaved, median latency), keep the fastest, close the rest."""
    from gnet.bench.timing import TimingConfig, round_robin

    names, runners = list(candidates), list(candidates.values())
    data = np.random.default_rng(0).standard_normal((batch, 3, image_size, image_size)).astype(np.float32)
    # Interleaved, at least AUTOTUNE_ITERATIONS batches each: at 224 px a batch of 64 takes ~0.7 s on
    # 2 cores, and three samples per layout picked by noise rather than by speed.
    latencies = round_robin(runners, data, TimingConfig(warmup_ms=50.0, duration_s=0.4,
                                                         min_iterations=AUTOTUNE_ITERATIONS))
    medians = [float(np.median(v)) for v in latencies]
    best = int(np.argmin(medians))
    for index, runner in enumerate(runners):
        if index != best:
            runner.close()
    img_s = {name: round(batch / (median / 1000.0), 1) for name, median in zip(names, medians)}
    return LayoutChoice(names[best], runners[best], img_s)

