"""The ``trt`` runner through gnet.engines with the strict TensorRT double and a fake device (no GPU needed):
discovery says yes, the engine is built when missing and reused when it matches, and the harness's
step timing (host→device, compute, device→host; on-device) runs through EngineRunner's events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gnet.bench.runners.base import PrepareContext
from gnet.bench.runners.trt_engine import TrtRunner
from gnet.bench.timing import TimingConfig, time_end_to_end, time_on_device
from gnet.checks.ort import cpu_session
from tests.trt_double import FakeDevice
from tests.trt_double.fixtures import install, tiny_onnx


@pytest.fixture()
def double(monkeypatch: pytest.MonkeyPatch):
    install(monkeypatch, "10.x")
    monkeypatch.setattr("gnet.engines.cuda_choice.get_binding", lambda *a, **k: FakeDevice())


@pytest.mark.parametrize("variant", ["default", "cuda_graphs"])
def test_trt_runner_builds_runs_and_times_steps(double, tmp_path: Path, variant: str):
    onnx_path = tiny_onnx(tmp_path, "fp32")
    runner = TrtRunner(variant, "fp32")
    assert runner.available().ok
    ctx = PrepareContext(loaded=None, image_size=16, threads=None, artifact=lambda v: onnx_path, batches=[1, 4])
    runner.prepare(ctx)
    plan = tmp_path / "googlenet_fp32.plan"
    assert plan.is_file() and runner.artifact_path == plan and "built googlenet_fp32.plan" in runner.notes
    images = np.random.default_rng(0).normal(size=(4, 3, 16, 16)).astype(np.float32)
    reference = cpu_session(onnx_path).run(None, {"input": images})[0]
    for batch in (1, 4):
        runner.prepare_batch(batch)
        np.testing.assert_allclose(runner.run(images[:batch]), reference[:batch], rtol=1e-5, atol=1e-6)
    timing = time_end_to_end(runner, images, TimingConfig(0.0, 0.0, 3))
    assert set(timing.stages_ms) == {"h2d", "compute", "d2h"} and len(timing.stages_ms["compute"]) == 3
    on_device = time_on_device(runner, images, TimingConfig(0.0, 0.0, 3))
    assert list(on_device.stages_ms) == ["compute"]
    runner.close()

    again = TrtRunner(variant, "fp32")  # the matching plan is reused, not rebuilt
    again.prepare(ctx)
    assert again.notes == []
    again.close()


def test_trt_rtx_runner_builds_and_runs_an_rtx_plan_with_its_runtime_cache(monkeypatch, tmp_path: Path):
    """The same runner for TensorRT-RTX plans, with the double's rtx layout (the real runtime needs an RTX GPU)."""
    from gnet.bench.runners.trt_engine import TrtRtxRunner

    install(monkeypatch, "rtx")
    monkeypatch.setattr("gnet.engines.cuda_choice.get_binding", lambda *a, **k: FakeDevice(compute_capability="8.9"))
    onnx_path = tiny_onnx(tmp_path, "fp16")
    runner = TrtRtxRunner("cuda_graphs", "fp16")
    assert runner.available().ok
    ctx = PrepareContext(loaded=None, image_size=16, threads=None, artifact=lambda v: onnx_path, batches=[2])
    runner.prepare(ctx)
    assert runner.artifact_path == tmp_path / "googlenet_fp16.rtx.plan" and "built googlenet_fp16.rtx.plan" in runner.notes
    assert runner.settings["runtime"] == "tensorrt-rtx" and runner.settings["runtime_cache"].endswith("googlenet_fp16.rtxcache")
    images = np.random.default_rng(0).normal(size=(2, 3, 16, 16)).astype(np.float32)
    runner.prepare_batch(2)
    np.testing.assert_allclose(runner.run(images), cpu_session(onnx_path).run(None, {"input": images})[0], rtol=1e-3, atol=1e-3)
    runner.close()
    assert (tmp_path / "googlenet_fp16.rtxcache").is_file()
    monkeypatch.setattr("gnet.engines.cuda_choice.get_binding", lambda *a, **k: FakeDevice("NVIDIA H100 80GB HBM3", "9.0"))
    assert "cannot run on NVIDIA H100 80GB HBM3" in TrtRtxRunner("default", "fp16").available().reason
