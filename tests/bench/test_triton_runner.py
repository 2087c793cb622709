"""The ``triton`` bench runner against a real server on loopback: parity with the in-process session, the
concurrency sweep, and the served rows in a whole benchmark run (hop cost, no failed request)."""

from __future__ import annotations

import numpy as np
import pytest

from gnet.bench.runners.base import PrepareContext
from gnet.bench.runners.triton import TritonRunner
from gnet.checks.ort import cpu_session
from tests.helpers.serving import needs_serving

pytestmark = [needs_serving(), pytest.mark.timeout(300)]


def test_the_runner_serves_the_artifact_with_in_process_parity(serve_model):
    variant = "http"  # gRPC: the benchmark run below
    runner = TritonRunner(variant, "fp32")
    assert runner.available().ok and runner.artifact_kind == "fp32"
    ctx = PrepareContext(loaded=None, image_size=64, threads=None, artifact=lambda v: serve_model, batches=[1, 4])
    runner.prepare(ctx)
    try:
        images = np.random.default_rng(1).standard_normal((4, 3, 64, 64)).astype(np.float32)
        reference = cpu_session(serve_model).run(None, {"input": images})[0]
        assert float(np.abs(runner.run(images) - reference).max()) <= 1e-5
        assert runner.settings["protocol"] == variant and runner.settings["max_batch_size"] == 4
        clients = runner.clients(2)
        assert [float(np.abs(c.infer(images[:1]) - reference[:1]).max()) <= 1e-5 for c in clients] == [True, True]
        for client in clients:
            client.close()
    finally:
        runner.close()
    assert not [n for n in runner.notes if "shared memory" in n]


def test_a_benchmark_run_gives_one_passing_row_per_concurrency_and_the_hop_cost(serve_artifacts, tmp_path):
    from rich.console import Console

    from gnet.bench.config import BenchConfig
    from gnet.bench.harness import run_benchmark
    from gnet.bench.report_table import render
    from gnet.bench.results import validate
    from tests.helpers.bench import TINY
    from tests.helpers.fixture import fixture_checkpoint

    config = BenchConfig(backends="ort-cpu:default,triton:grpc", precisions="fp32", batches=[2], timing=TINY,
                         weights=str(fixture_checkpoint()), images=str(serve_artifacts.parent / "serve-photos"),
                         image_size=64, artifacts=serve_artifacts, concurrency="1,3")
    doc = run_benchmark(config, argv=["gnet-bench", "--test"])
    assert validate(doc) == []
    served = [r for r in doc["rows"] if r["backend"] == "triton"]
    assert [r["concurrency"] for r in served] == [1, 3] and doc["config"]["concurrency"] == [1, 3]
    for row in served:
        assert row["failed_requests"] == 0 and row["parity"]["passed"] and row["parity"]["max_abs"] <= 1e-4
        assert row["artifact"] == "googlenet_fp32.onnx" and row["throughput_ips"] > 0
    assert [b["backend"] for b in doc["best_cpu"]] == ["ort-cpu"]  # a served row is not an in-process path
    console = Console(width=400, record=True)
    console.print(render(doc))
    text = console.export_text()
    assert "network hop: triton:grpc fp32 batch 2 × 3 client(s)" in text and "in-process ort-cpu:default" in text
