"""The openvino-cpu runner: its rows, the precision it really ran read back and refused when it is not the row's
label, BF16 detection, and the same logits from every layout (real OpenVINO on tiny graphs: fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gnet.bench.runners import discover, parse_backends
from gnet.bench.runners.base import PrepareContext
from gnet.bench.runners.openvino_cpu import OpenVinoCpuRunner
from gnet.bench.runners.openvino_options import DEFAULT, UNTUNED, OvTuning
from gnet.checks.tolerances import tolerance_for
from gnet.errors import NotAvailable
from gnet.openvino_ir import runtime as ovr
from tests.helpers import tiny_onnx
from tests.helpers.cpu import CpuKind, real_openvino_capabilities


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny graphs under the artifact kinds the runner asks for."""
    folder = tmp_path_factory.mktemp("ov-runner")
    return {"fp32": tiny_onnx.write(folder, "fp32"), "int8": tiny_onnx.write(folder, "qdq-s8"),
            "int8-cpu": tiny_onnx.write(folder, "qdq-u8")}


def context(artifacts: dict[str, Path], batch: int = 4) -> PrepareContext:
    return PrepareContext(loaded=None, image_size=tiny_onnx.SIZE, threads=None,  # type: ignore[arg-type]
                          artifact=lambda variant: artifacts[variant], batches=[batch])


def run_once(runner: OpenVinoCpuRunner, artifacts: dict[str, Path], x: np.ndarray) -> np.ndarray:
    runner.prepare(context(artifacts, len(x)))
    try:
        runner.prepare_batch(len(x))
        return runner.run(x)
    finally:
        runner.close()


def test_the_fp32_row_runs_f32_says_so_and_matches_onnxruntime(artifacts: dict[str, Path]):
    x = tiny_onnx.images(4)
    runner = OpenVinoCpuRunner("default", "fp32")
    out = run_once(runner, artifacts, x)
    ref = tiny_onnx.ort_logits(artifacts["fp32"], x)
    assert np.abs(out - ref).max() <= 1e-5 * np.abs(ref).max()
    settings = runner.settings
    assert settings["options"] == "OpenVINO defaults" and settings["inference_precision_hint"] == "f32"
    assert settings["executed_precision"] == "f32" and settings["read_back"]["runtime_precision"] == "f32"
    assert runner.artifact_path == artifacts["fp32"]


@pytest.mark.parametrize("variant, artifact", [("default", "int8-cpu"), ("trt-qdq", "int8")])
def test_int8_rows_run_both_qdq_formats_quantized(artifacts: dict[str, Path], variant: str, artifact: str):
    runner = OpenVinoCpuRunner(variant, "int8")
    assert runner.artifact_kind == artifact
    run_once(runner, artifacts, tiny_onnx.images(4))
    assert runner.settings["read_back"]["runtime_precision"] in ("u8", "i8")
    assert runner.settings["executed_precision"].endswith("convolutions, f32 elsewhere")


def test_rows_that_do_not_exist_are_not_listed():
    assert not OpenVinoCpuRunner.is_row("trt-qdq", "fp32") and OpenVinoCpuRunner.is_row("trt-qdq", "int8")
    ready, missing = discover(parse_backends("openvino:trt-qdq"), ["fp32", "bf16", "int8"])
    assert [(r.variant, r.precision) for r in ready] == [("trt-qdq", "int8")] and not missing


def test_a_bf16_row_exists_exactly_where_the_cpu_has_bf16(cpu_kind: CpuKind):
    """Both branches on every machine (the kind is faked): a Zen 4 gets the two bf16 rows, a Zen 3 lists them as
    unavailable with OpenVINO's capability list as the reason; PyTorch and ONNX Runtime have no bf16 rows at all."""
    ready, missing = discover(parse_backends("torch-cpu:eager,ort-cpu,openvino"), ["bf16"])
    found = ready if cpu_kind.has_bf16 else missing
    assert {(r.backend, r.variant) for r in found} == {("openvino-cpu", "default"), ("openvino-cpu", "tuned")}
    assert not (missing if cpu_kind.has_bf16 else ready)
    for m in missing:
        assert m.reason == f"this CPU has no BF16 (OpenVINO's OPTIMIZATION_CAPABILITIES: " \
                           f"{', '.join(cpu_kind.openvino_capabilities)})"
    assert not OpenVinoCpuRunner("default", "fp16").available().ok  # neither kind lists FP16


def test_a_row_that_would_not_run_as_labelled_is_refused(monkeypatch: pytest.MonkeyPatch, artifacts: dict[str, Path]):
    """OpenVINO compiles a precision the CPU lacks in f32 without a word; the read-back catches it and the row is
    not reported as bf16. Made certain on every CPU: the CPU is said to have BF16 and OpenVINO is asked for f32."""
    monkeypatch.setattr(ovr, "capabilities", lambda: ["FP32", "BF16", "INT8"])
    monkeypatch.setitem(ovr.HINT, "bf16", "f32")  # what OpenVINO does on its own on a CPU without BF16
    runner = OpenVinoCpuRunner("default", "bf16")
    with pytest.raises(NotAvailable, match=r"OpenVINO would run the bf16 row in f32: its convolutions compiled as"):
        runner.prepare(context(artifacts))
    runner.close()


def test_a_bf16_row_on_this_machine_runs_as_labelled_or_is_refused(artifacts: dict[str, Path]):
    """The real machine's own branch, for real: on a CPU with BF16 the row runs bf16 and matches ONNX Runtime
    within the bf16 tolerance; on one without, the same row forced past discovery is refused by its read-back."""
    x = tiny_onnx.images(4)
    runner = OpenVinoCpuRunner("default", "bf16")
    if "BF16" not in real_openvino_capabilities():
        with pytest.raises(NotAvailable, match=r"OpenVINO would run the bf16 row in f32"):
            run_once(runner, artifacts, x)
        return
    out = run_once(runner, artifacts, x)
    ref = tiny_onnx.ort_logits(artifacts["fp32"], x)
    assert runner.settings["executed_precision"] == "bf16"
    assert np.abs(out - ref).max() <= tolerance_for("bf16").rel_max * np.abs(ref).max()


@pytest.mark.parametrize("tuning", [DEFAULT.replace(static_batch=True),
                                    DEFAULT.replace(performance_hint="THROUGHPUT", requests=2),
                                    DEFAULT.replace(performance_hint="THROUGHPUT", requests=2, static_batch=True),
                                    DEFAULT.replace(requests=4, cpu_pinning=False, threads=1, num_streams=1)])
def test_every_layout_gives_the_same_logits(artifacts: dict[str, Path], tuning: OvTuning):
    x = tiny_onnx.images(6)
    plain = run_once(OpenVinoCpuRunner("default", "fp32"), artifacts, x)
    runner = OpenVinoCpuRunner("tuned", "fp32", tuning)
    np.testing.assert_allclose(run_once(runner, artifacts, x), plain, rtol=0, atol=1e-5 * float(np.abs(plain).max()))
    assert runner.settings["options"] == tuning.describe() and runner.settings["requests_in_flight"] == tuning.requests


def test_tuned_records_its_choice_among_openvinos_defaults(artifacts: dict[str, Path]):
    runner = OpenVinoCpuRunner("tuned", "fp32")
    run_once(runner, artifacts, tiny_onnx.images(4))
    measured = runner.settings["autotune_img_s_by_batch"]["4"]
    assert UNTUNED in measured and runner.settings["layout_by_batch"]["4"] in measured
    assert runner.settings["executed_precision"] == "f32"


def test_without_openvino_the_rows_say_how_to_get_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(ovr, "version", lambda: None)
    found = OpenVinoCpuRunner("default", "fp32").available()
    assert not found.ok and found.reason == f"OpenVINO is not installed ({ovr.INSTALL})"
