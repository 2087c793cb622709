"""``EngineRunner`` end to end on the CPU: the strict double runs the engine's ONNX with ONNX Runtime,
the fake device holds the "GPU" memory, and gnet's runtime does everything else for real
(manifest check, profile/shape/dtype logic, pinned staging, stream ordering, CUDA graphs, freeing).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gnet.checks.ort import cpu_session
from gnet.engines import cuda_choice
from gnet.engines.engine_runner import EngineRunner
from gnet.errors import GnetError
from tests.trt_double import FakeDevice
from tests.trt_double.fixtures import build_tiny, install


def _images(batch: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, 3, 16, 16)).astype(np.float32)


def _reference(onnx_path: Path, images: np.ndarray) -> np.ndarray:
    return cpu_session(onnx_path).run(None, {"input": images})[0]


@pytest.fixture()
def fp32_plan(trt, tmp_path: Path) -> Path:
    return build_tiny(tmp_path, "fp32").plan


def test_infer_matches_onnx_runtime_for_every_batch_in_the_profile(trt, fp32_plan: Path):
    device = FakeDevice()
    onnx_path = fp32_plan.parent / "googlenet_fp32.onnx"
    with EngineRunner(fp32_plan, device=device) as runner:
        assert runner.batch_range == (1, 8) and runner.opt_batch == 4
        assert runner.input.name == "input" and runner.output.name == "logits"
        for batch in (1, 8, 3, 8, 2):  # grow, shrink, regrow: shapes and buffers must follow
            images = _images(batch, seed=batch)
            got = runner.infer(images)
            assert got.dtype == np.float32 and got.shape == (batch, 10)
            np.testing.assert_allclose(got, _reference(onnx_path, images), rtol=1e-5, atol=1e-6)
        assert device.pageable_copies == 0  # every copy went through pinned memory
    assert device.leaks() == {}
    assert not device.closed  # a device passed in belongs to the caller


@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_fp16_and_int8_engines_run_too(trt, tmp_path: Path, precision: str):
    result = build_tiny(tmp_path, precision)
    onnx_path = next(tmp_path.glob("*.onnx"))
    images = _images(5)
    with EngineRunner(result.plan, device=FakeDevice()) as runner:
        got = runner.infer(images)
    np.testing.assert_allclose(got, _reference(onnx_path, images), rtol=1e-3, atol=1e-3)


def test_batch_outside_the_profile_names_the_allowed_range(trt, fp32_plan: Path):
    with EngineRunner(fp32_plan, device=FakeDevice()) as runner:
        for bad in (9, 0):
            with pytest.raises(GnetError, match=r"batch %d is outside the optimization profile of googlenet_fp32.plan: "
                                                r"it accepts batches 1 to 8" % bad):
                runner.infer(_images(bad))
        with pytest.raises(GnetError, match=r"takes images of shape \[batch, 3, 16, 16\], not \[2, 3, 32, 32\]"):
            runner.infer(np.zeros((2, 3, 32, 32), np.float32))
        assert runner.infer(_images(8)).shape == (8, 10)  # still usable after refusals


def test_steps_are_asynchronous_until_synchronize(trt, fp32_plan: Path):
    device = FakeDevice()
    images = _images(4)
    expected = _reference(fp32_plan.parent / "googlenet_fp32.onnx", images)
    with EngineRunner(fp32_plan, device=device) as runner:
        runner.copy_in(images)
        runner.execute()
        out = runner.copy_out()
        assert not np.allclose(out, expected)  # nothing has run yet: the stream is still queued
        runner.synchronize()
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
        start, end = runner.new_event(), runner.new_event()
        runner.record(start)
        runner.execute()
        runner.record(end)
        assert runner.elapsed_ms(start, end) >= 0.0
    assert device.leaks() == {}


def test_on_device_mode_reuses_the_input_already_on_the_gpu(trt, fp32_plan: Path):
    device = FakeDevice()
    images = _images(6)
    with EngineRunner(fp32_plan, device=device) as runner:
        runner.copy_in(images)
        runner.synchronize()
        staged = device.read(runner.input_pointer, images.nbytes).view(np.float32).reshape(images.shape)
        np.testing.assert_array_equal(staged, images)
        outs = []
        for _ in range(3):
            runner.execute()
            out = runner.copy_out()
            runner.synchronize()
            outs.append(out.copy())
        assert all(np.array_equal(o, outs[0]) for o in outs)
        np.testing.assert_allclose(outs[0], _reference(fp32_plan.parent / "googlenet_fp32.onnx", images), rtol=1e-5, atol=1e-6)


def test_cuda_graph_is_captured_once_per_batch_after_a_warm_up(trt, fp32_plan: Path):
    device = FakeDevice()
    onnx_path = fp32_plan.parent / "googlenet_fp32.onnx"
    with EngineRunner(fp32_plan, device=device, cuda_graphs=True) as runner:
        for batch, seed in ((4, 1), (4, 2), (2, 3), (4, 4), (2, 5)):
            images = _images(batch, seed)
            np.testing.assert_allclose(runner.infer(images), _reference(onnx_path, images), rtol=1e-5, atol=1e-6)
        assert runner.captured_batches == [2, 4] and device.captures == 2 and device.graph_launches == 5
        assert runner._context._enqueues == 4  # one warm-up + one captured enqueue per batch size, then replays only
        assert runner.graph_fallback is None
        runner.infer(_images(8))  # a larger batch reallocates: old graphs hold stale addresses and are dropped
        assert runner.captured_batches == [8]
    assert device.leaks() == {}


def test_uncapturable_engine_falls_back_to_plain_enqueue(trt, fp32_plan: Path):
    trt._behaviour.capture_fails = True
    device = FakeDevice()
    images = _images(3)
    with EngineRunner(fp32_plan, device=device, cuda_graphs=True) as runner:
        got = runner.infer(images)
        assert "inside a CUDA graph capture" in runner.graph_fallback and runner.captured_batches == []
        np.testing.assert_allclose(got, _reference(fp32_plan.parent / "googlenet_fp32.onnx", images), rtol=1e-5, atol=1e-6)
        runner.infer(images)
    assert device.captures == 0 and device.leaks() == {}


def test_backend_without_graphs_says_why(trt, fp32_plan: Path):
    with EngineRunner(fp32_plan, device=FakeDevice(supports_graphs=False), cuda_graphs=True) as runner:
        assert runner.graph_fallback == "the fake-cuda binding cannot capture CUDA graphs"
        assert runner.infer(_images(2)).shape == (2, 10)


def _edit_manifest(plan: Path, **changes) -> None:
    path = plan.with_suffix(".json")
    doc = json.loads(path.read_text())
    for dotted, value in changes.items():
        node = doc
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    path.write_text(json.dumps(doc))


def test_mismatched_tensorrt_version_is_refused_before_deserializing(monkeypatch, tmp_path: Path):
    install(monkeypatch, "10.x")
    plan = build_tiny(tmp_path, "fp32").plan
    newer = install(monkeypatch, "10.x", version="10.14.1.48")
    with pytest.raises(GnetError) as err:
        EngineRunner(plan, device=FakeDevice())
    assert ("googlenet_fp32.plan does not match this machine: it was built with TensorRT 10.13.0.35 but this "
            "machine has TensorRT 10.14.1.48; rebuild it here with: gnet build") in str(err.value)
    assert newer._log == []  # refused from the manifest: TensorRT never saw the plan


def test_mismatched_compute_capability_is_refused(trt, fp32_plan: Path):
    device = FakeDevice(name="NVIDIA A10", compute_capability="8.6")
    with pytest.raises(GnetError, match=r"built for compute capability 9.0 \(Fake GPU \(host memory\)\) but this GPU has compute capability 8.6"):
        EngineRunner(fp32_plan, device=device)
    assert device.leaks() == {}


def test_version_compatible_plan_loads_on_a_newer_tensorrt_with_host_code_allowed(monkeypatch, tmp_path: Path):
    install(monkeypatch, "10.x")
    plan = build_tiny(tmp_path, "fp32", version_compatible=True, hardware_compat="ampere+").plan
    install(monkeypatch, "10.x", version="10.16.0.1")
    with EngineRunner(plan, device=FakeDevice(compute_capability="8.9")) as runner:  # the double refuses unless allowed
        assert runner._runtime.engine_host_code_allowed is True
        assert runner.infer(_images(2)).shape == (2, 10)


def test_plan_and_manifest_must_belong_together(trt, fp32_plan: Path, tmp_path: Path):
    data = bytearray(fp32_plan.read_bytes())
    data[-1] ^= 0xFF
    fp32_plan.write_bytes(bytes(data))
    with pytest.raises(GnetError, match="googlenet_fp32.plan does not match its manifest: its SHA-256"):
        EngineRunner(fp32_plan, device=FakeDevice())
    other = tmp_path / "other.plan"
    other.write_bytes(bytes(data))
    with pytest.raises(GnetError, match="the engine manifest .*other.json does not exist"):
        EngineRunner(other, device=FakeDevice())
    fp32_plan.with_suffix(".json").rename(other.with_suffix(".json"))
    with pytest.raises(GnetError, match="other.json describes googlenet_fp32.plan, not other.plan"):
        EngineRunner(other, device=FakeDevice())


def test_manifest_io_must_match_the_engine(trt, fp32_plan: Path):
    _edit_manifest(fp32_plan, outputs=[{"name": "probabilities", "dtype": "float32", "shape": [-1, 10]}])
    with pytest.raises(GnetError, match="the manifest records \\['input'\\] → \\['probabilities'\\]"):
        EngineRunner(fp32_plan, device=FakeDevice())


def test_plan_tensorrt_cannot_load_is_a_sentence(trt, fp32_plan: Path):
    fp32_plan.write_bytes(b"garbage")
    _edit_manifest(fp32_plan, plan__sha256=__import__("hashlib").sha256(b"garbage").hexdigest(), plan__bytes=7)
    device = FakeDevice()
    with pytest.raises(GnetError, match="cannot deserialize googlenet_fp32.plan"):
        EngineRunner(fp32_plan, device=device)
    assert device.leaks() == {}


def test_close_frees_everything_and_is_idempotent(trt, fp32_plan: Path):
    device = FakeDevice()
    runner = EngineRunner(fp32_plan, device=device, cuda_graphs=True)
    runner.infer(_images(8))
    runner.new_event()
    assert set(device.leaks()) == {"device", "pinned", "streams", "events", "graphs"}
    runner.close()
    runner.close()
    assert device.leaks() == {}
    with pytest.raises(GnetError, match="is closed"):
        runner.infer(_images(1))


def test_runner_owns_and_closes_the_default_backend(trt, fp32_plan: Path, monkeypatch):
    device = FakeDevice()
    monkeypatch.setattr(cuda_choice, "get_binding", lambda: device)
    with EngineRunner(fp32_plan) as runner:
        runner.infer(_images(1))
    assert device.closed and device.leaks() == {}


@pytest.mark.slow
def test_real_googlenet_export_builds_and_runs_through_the_double(trt10, tmp_path: Path):
    """The exported GoogLeNet (random weights, 64 px) through build and runtime; outputs equal ONNX Runtime's."""
    from gnet.engines.build import build_engine
    from gnet.engines.build_inputs import BuildOptions
    from gnet.export.api import export_model

    exported = export_model(weights="random", seed=0, image_size=64, output=tmp_path / "googlenet_fp32.onnx", batches=[2])
    result = build_engine(exported.path, options=BuildOptions(min_batch=1, opt_batch=2, max_batch=4), device=FakeDevice())
    proof = result.manifest["precision_proof"]
    assert proof["proven"] and proof["methods"] == ["network", "inspector"]
    assert proof["network"]["convolution_precisions"] == {"FP32": 57} == proof["inspector"]["convolution_precisions"]
    assert result.manifest["model"]["weights_sha256"] == exported.metadata["weights_sha256"]
    assert result.manifest["preprocessing"] == exported.metadata["preprocessing"]
    images = np.random.default_rng(1).random((3, 3, 64, 64), dtype=np.float32)
    with EngineRunner(result.plan, device=FakeDevice(), cuda_graphs=True) as runner:
        got = runner.infer(images)
    np.testing.assert_allclose(got, _reference(exported.path, images), rtol=1e-5, atol=1e-5)
