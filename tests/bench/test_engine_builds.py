"""What building the TensorRT-RTX plans costs here: real builds (no GPU needed), each precision at most once per run,
reported in the results document and the table even though the plans cannot run on this machine."""

from __future__ import annotations

import pytest
from rich.console import Console

from gnet.bench.config import BenchConfig
from gnet.bench.engine_builds import engine_builds, summary_line
from gnet.bench.harness import run_benchmark
from gnet.bench.report_table import render
from gnet.bench.results import validate
from tests.helpers.bench import TINY, bench_artifacts


def _run(factory: pytest.TempPathFactory) -> dict:
    config = BenchConfig(backends="trt-rtx", precisions="fp32", batches=[2], timing=TINY, weights="random", seed=1,
                         image_size=64, parity_limit=3, artifacts=bench_artifacts(factory))
    return run_benchmark(config, argv=["gnet-bench", "--test"])


def test_a_run_with_trt_rtx_reports_the_build_and_reuses_the_plan_next_time(doc, tmp_path_factory):
    """``doc`` first: the session run's FP32 export in the shared artifacts folder is reused, not exported again."""
    first = _run(tmp_path_factory)
    assert validate(first) == [] and first["rows"] == []
    assert [(u["backend"], u["variant"]) for u in first["unavailable"]] == [("trt-rtx", "default"), ("trt-rtx", "cuda_graphs")]
    assert all("builds plans here, but running them needs an NVIDIA GPU" in u["reason"] for u in first["unavailable"])
    (build,) = first["engine_builds"]
    assert build["precision"] == "fp32" and build["plan"] == "googlenet_fp32.rtx.plan" and build["bytes"] > 1_000_000
    assert build["seconds"] > 0 and build["runtime"] == "tensorrt-rtx" and build["profile_max_batch"] == 256
    again = _run(tmp_path_factory)
    (reused,) = again["engine_builds"]
    assert reused["reused"] and reused["seconds"] == build["seconds"] and reused["bytes"] == build["bytes"]
    console = Console(width=300, record=True)
    console.print(render(again))
    assert f"TensorRT-RTX {build['version']} AOT builds here: fp32 {build['seconds']:.1f} s" in console.export_text()


def test_bf16_gets_no_plan_and_no_artifact():
    """bf16 is OpenVINO's execution of the FP32 graph: asking the bench for it must not ask for a bf16 file."""
    asked: list[str] = []

    def store(variant: str):
        asked.append(variant)
        raise AssertionError("no artifact is made in this test")

    with pytest.raises(AssertionError):
        engine_builds(["bf16", "fp32"], store, [1], lambda _: None)
    assert asked == ["fp32"]
    assert engine_builds(["bf16"], store, [1], lambda _: None) == [] and asked == ["fp32"]


def test_the_summary_line_and_errors():
    builds = [{"runtime": "tensorrt-rtx", "version": "1.7.1.116", "precision": "fp32", "plan": "p", "bytes": 22_800_000,
               "seconds": 1.34, "reused": False, "compute_capabilities": "default", "profile_max_batch": 256},
              {"runtime": "tensorrt-rtx", "precision": "int8", "error": "the int8 artifact could not be made: no images"}]
    assert summary_line(builds) == ("TensorRT-RTX 1.7.1.116 AOT builds here: fp32 1.3 s 22.8 MB, "
                                    "int8 failed: the int8 artifact could not be made: no images")
    assert summary_line([]) == ""
