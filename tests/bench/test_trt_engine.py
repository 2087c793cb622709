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
from gnet.export.ort import cpu_session
from tests.trt_double import FakeDevice
from tests.trt_double.fixtures import install, tiny_onnx


@pytest.fixture()
def double(monkeypatch: pytest.MonkeyPatch):
    install(monkeypatch, "10.x")
    monkeypatch.setattr("gnet.engines.cuda_choice.get_backend", lambda *a, **k: FakeDevice())


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
