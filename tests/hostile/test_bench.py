"""gnet-bench exits 1 when nothing it was asked for could run, and refuses a batch that cannot fit before allocating."""

from __future__ import annotations

from pathlib import Path

from gnet.bench.results import run_failure
from tests.helpers.cli import assert_one_sentence_failure, invoke

FAST = ["--weights", "random", "--image-size", "64", "--warmup-ms", "5", "--duration-s", "0.05",
        "--min-iterations", "2", "--parity-images", "2"]


def test_an_asked_for_backend_that_cannot_run_exits_1(tmp_path: Path):
    result = invoke("bench", "--backend", "trt", *FAST, "--artifacts", str(tmp_path))
    text = assert_one_sentence_failure(result, "no backend could run here", "TensorRT")
    assert "not run here" in text  # the report still lists why


def test_a_million_images_per_batch_is_refused_before_allocating(tmp_path: Path):
    result = invoke("bench", "--backend", "ort-cpu", "--batch", "1000000", *FAST, "--artifacts", str(tmp_path))
    assert_one_sentence_failure(result, "--batch 1000000 does not fit in memory here", "GiB at 64 px")
    assert not any(tmp_path.iterdir())  # refused before any artifact was made


def test_run_failure_rules():
    row = {"backend": "ort-cpu", "variant": "default", "precision": "fp32"}
    discovery = {"backend": "trt", "variant": "default", "precision": "fp32", "reason": "no TensorRT", "stage": "discovery"}
    runtime = {**discovery, "backend": "ort-cpu", "stage": "run", "reason": "MemoryError: 45.8 GiB"}
    assert run_failure({"rows": [], "unavailable": [discovery]}, None).startswith("no backend could run here (trt: no TensorRT")
    assert run_failure({"rows": [row], "unavailable": [discovery]}, None) == ""  # not asked for by name: listed only
    assert "trt did not run (no TensorRT)" in run_failure({"rows": [row], "unavailable": [discovery]}, ["ort-cpu", "trt"])
    assert "failed while running" in run_failure({"rows": [row], "unavailable": [runtime]}, None)


def test_a_duration_or_warm_up_that_is_not_finite_is_refused(tmp_path: Path):
    """Issue 19 #8: --duration-s nan / --warmup-ms nan timed forever at 100% CPU."""
    for option, value in (("--duration-s", "nan"), ("--warmup-ms", "nan"), ("--duration-s", "inf")):
        result = invoke("bench", "--backend", "ort-cpu", *FAST, option, value, "--artifacts", str(tmp_path))
        assert result.exit_code == 2 and f"'{value}' is not a finite number" in result.output, result.output
    assert not any(tmp_path.iterdir())
