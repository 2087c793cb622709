"""One real short benchmark run on the CPU (random weights, 64 px, batches 1–2), shared by every report test."""

from __future__ import annotations

import pytest

from gnet.bench.config import BenchConfig
from gnet.bench.harness import run_benchmark
from tests.helpers.bench import TINY, bench_artifacts


@pytest.fixture(scope="session")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict:
    config = BenchConfig(
        backends="torch-cpu:eager,ort-cpu,openvino-cpu:default,trt", precisions="fp32,int8", batches=[2, 1], timing=TINY,
        weights="random", seed=1, image_size=64, parity_limit=3, artifacts=bench_artifacts(tmp_path_factory),
    )
    return run_benchmark(config, argv=["gnet-bench", "--test"])
