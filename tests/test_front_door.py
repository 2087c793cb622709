"""``import gnet``: the pipeline in five lines, as the README shows it, and the runners outside the bench."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gnet.errors import GnetError


def test_the_five_line_pipeline_runs_as_the_readme_shows(fixture_path: Path, tmp_path: Path):
    import gnet

    art = gnet.export_model(weights=str(fixture_path), precision="fp16", output=tmp_path / "googlenet_fp16.onnx")
    assert art.check().passed
    eng = art.build(runtime="tensorrt-rtx")  # TensorRT-RTX builds without a GPU
    result = gnet.benchmark([art, eng], batches=[2], duration_s=0.05, warmup_ms=5)
    table = result.table()

    assert art.precision == "fp16" and art.image_size == 64 and art.parity.passed
    assert eng.plan == tmp_path / "googlenet_fp16.rtx.plan" and eng.runtime == "tensorrt-rtx" and eng.precision == "fp16"
    ran = {(r["backend"], r["precision"]) for r in result.rows}
    listed = {(u["backend"], u["precision"]) for u in result.doc["unavailable"]}
    assert ("ort-cpu", "fp16") in ran and all(r["parity"]["passed"] for r in result.rows)
    # OpenVINO runs FP16 only on a CPU with FP16 arithmetic, TensorRT-RTX only on an RTX GPU: a row, or listed with why
    assert ("openvino-cpu", "fp16") in ran | listed and ("trt-rtx", "fp16") in ran | listed
    assert "ort-cpu" in table and "trt-rtx" in table
    assert gnet.Engine.open(eng.plan).manifest == eng.manifest and gnet.Artifact.open(art.path).metadata == art.metadata


def test_each_runner_opens_and_infers_outside_the_bench(fp32_onnx: Path):
    import gnet
    from gnet.checks.ort import cpu_session

    images = np.random.default_rng(3).standard_normal((3, 3, 64, 64)).astype(np.float32)
    reference = cpu_session(fp32_onnx).run(None, {"input": images})[0]
    art = gnet.Artifact.open(fp32_onnx)
    for runner_type in (gnet.runners.OnnxRuntimeRunner, gnet.runners.OpenVINORunner):
        runner = runner_type(art)
        with pytest.raises(GnetError, match="is not active; use it in a with-block, or call activate"):
            runner.infer(images)
        with runner:
            assert runner.is_active
            logits = runner.infer(images)
        assert not runner.is_active and logits.shape == (3, 10)
        assert float(np.abs(logits - reference).max()) <= 1e-3, runner_type.__name__


def test_what_is_not_a_gnet_artifact_is_one_sentence(tmp_path: Path):
    import gnet

    with pytest.raises(GnetError, match="does not exist"):
        gnet.Artifact.open(tmp_path / "gone.onnx")
    with pytest.raises(GnetError, match="the engine manifest .* does not exist"):
        gnet.Engine.open(tmp_path / "googlenet_fp16.plan")
    with pytest.raises(GnetError, match="benchmark\\(\\) needs at least one"):
        gnet.benchmark([])
    with pytest.raises(AttributeError):
        gnet.no_such_name  # noqa: B018


def test_the_bench_runners_open_their_runtimes_through_gnet_runners(fp32_onnx: Path, monkeypatch: pytest.MonkeyPatch):
    """The bench wraps gnet.runners: a session or compiled model it times was opened by the same calls a user's is."""
    import gnet.runners
    from gnet.bench.runners.base import PrepareContext
    from gnet.bench.runners.openvino_cpu import OpenVinoCpuRunner
    from gnet.bench.runners.ort_cpu import OrtCpuRunner

    opened: list[str] = []
    for name in ("onnxruntime_session", "compile_openvino"):
        real = getattr(gnet.runners, name)
        monkeypatch.setattr(gnet.runners, name, lambda *a, _real=real, _name=name, **k: opened.append(_name) or _real(*a, **k))
    ctx = PrepareContext(loaded=None, image_size=64, threads=1, artifact=lambda kind: fp32_onnx, batches=[2])  # type: ignore[arg-type]
    images = np.zeros((2, 3, 64, 64), np.float32)
    for bench_runner in (OrtCpuRunner("default", "fp32"), OpenVinoCpuRunner("default", "fp32")):
        bench_runner.prepare(ctx)
        bench_runner.prepare_batch(2)
        assert bench_runner.run(images).shape == (2, 10)
        bench_runner.close()
    assert opened[0] == "onnxruntime_session" and "compile_openvino" in opened


def test_benchmark_refuses_a_file_it_would_time_another_in_place_of(frame_graphs: dict[str, Path], fp32_onnx: Path,
                                                                   tmp_path: Path):
    """The bench times each precision's file under gnet's name: a camera-frame graph, or a renamed copy, would
    have googlenet_fp32.onnx beside it timed instead, so each is one sentence."""
    import shutil

    import gnet

    with pytest.raises(GnetError, match="it takes camera frames.*benchmark googlenet_fp32.onnx"):
        gnet.benchmark([gnet.Artifact.open(frame_graphs["fp32"])])
    renamed = tmp_path / "mine.onnx"
    shutil.copyfile(fp32_onnx, renamed)
    with pytest.raises(GnetError, match="under gnet's name, here googlenet_fp32.onnx"):
        gnet.benchmark([gnet.Artifact.open(renamed)])
