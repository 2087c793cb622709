"""OpenVINO on the CPU: the precision forced and read back, BF16 detection, one clause from its exceptions.
Real OpenVINO on tiny graphs (fast); the GoogLeNet paths are in test_openvino_ir and tests/bench."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from gnet.openvino_ir import runtime as ovr
from gnet.system import cpu_flags
from tests.helpers import tiny_onnx
from tests.helpers.cpu import CpuKind, real_cpuinfo, real_openvino_capabilities


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiny-onnx")
    return {kind: tiny_onnx.write(folder, kind) for kind in tiny_onnx.KINDS}


def test_fp32_is_forced_and_read_back_and_matches_onnxruntime(tiny: dict[str, Path]):
    compiled = ovr.compile_cpu(str(tiny["fp32"]), "fp32")
    back = ovr.read_back(compiled)
    assert back["runtime_precision"] == "f32" and back["inference_precision"] == "f32"
    assert back["convolutions_by_precision"] == {"f32": 2} and ovr.runs_as(back, "fp32")
    assert ovr.executed(back) == "f32" and back["threads"] >= 1 and back["num_streams"] >= 1
    x = tiny_onnx.images(5)
    ref = tiny_onnx.ort_logits(tiny["fp32"], x)
    got = ovr.infer_batched(compiled, x, 2)  # 2 + 2 + 1: the last batch smaller
    assert got.shape == ref.shape and np.abs(got - ref).max() <= 1e-5 * np.abs(ref).max()


@pytest.mark.parametrize("kind", ["qdq-s8", "qdq-u8"])
def test_both_qdq_formats_run_quantized(tiny: dict[str, Path], kind: str):
    back = ovr.read_back(ovr.compile_cpu(str(tiny[kind]), "int8"))
    assert back["runtime_precision"] in ("u8", "i8") and ovr.runs_as(back, "int8")
    assert not ovr.runs_as(back, "fp32")
    assert ovr.executed(back) == f"{back['runtime_precision']} convolutions, f32 elsewhere"


def test_bf16_detection_on_this_machine_is_openvinos_answer_and_agrees_with_the_cpu_flags():
    """The real machine's own branch, for real: OpenVINO's capability list and /proc/cpuinfo agree on BF16."""
    has_bf16 = "BF16" in real_openvino_capabilities()
    real_flags = set(real_cpuinfo().split())
    assert has_bf16 == bool({"avx512_bf16", "amx_bf16"} & real_flags)


def test_bf16_detection_on_each_cpu_kind(cpu_kind: CpuKind):
    """Both branches on every machine: the kind is faked, the sentence is gnet's."""
    assert ("BF16" in ovr.capabilities()) == cpu_kind.has_bf16
    assert bool({"avx512_bf16", "amx_bf16"} & set(cpu_flags())) == cpu_kind.has_bf16
    reason = ovr.precision_missing_reason("bf16")
    if cpu_kind.has_bf16:
        assert reason == ""
    else:
        assert reason == f"this CPU has no BF16 (OpenVINO's OPTIMIZATION_CAPABILITIES: " \
                         f"{', '.join(cpu_kind.openvino_capabilities)})"
    assert ovr.precision_missing_reason("fp32") == ovr.precision_missing_reason("int8") == ""


def test_a_reduced_float_needs_its_capability(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(ovr, "capabilities", lambda: ["FP32", "INT8", "BIN", "EXPORT_IMPORT"])
    assert ovr.precision_missing_reason("bf16") == \
        "this CPU has no BF16 (OpenVINO's OPTIMIZATION_CAPABILITIES: FP32, INT8, BIN, EXPORT_IMPORT)"
    assert ovr.precision_missing_reason("fp16").startswith("this CPU has no FP16")
    monkeypatch.setattr(ovr, "capabilities", lambda: ["FP32", "BF16", "INT8"])
    assert ovr.precision_missing_reason("bf16") == ""


def test_a_bf16_request_runs_what_this_cpu_can_and_the_read_back_says_which(tiny: dict[str, Path]):
    """The real machine's own branch, for real: with BF16 (Zen 4) the convolutions compile in bf16; without it
    (Zen 3) OpenVINO silently compiles them in f32, which is why gnet always reads the precision back."""
    back = ovr.read_back(ovr.compile_cpu(str(tiny["fp32"]), "bf16"))
    if "BF16" in real_openvino_capabilities():
        assert back["runtime_precision"] == "bf16" and ovr.runs_as(back, "bf16")
    else:
        assert back["runtime_precision"] == "f32" and not ovr.runs_as(back, "bf16")


def test_an_openvino_error_becomes_its_last_line():
    exc = RuntimeError("Exception from src/inference/src/cpp/core.cpp:84:\n"
                       "Check 'm_weights_provider' failed at src/core/xml_util/src/xml_deserialize_util.cpp:887:\n"
                       "Empty weights data in bin file or bin file cannot be found!\n")
    assert ovr.reason(exc) == "Empty weights data in bin file or bin file cannot be found!"
    exc = RuntimeError("Exception from a.cpp:1:\nCheck 'x' failed at b.cpp:2: Incorrect weights in bin file!")
    assert ovr.reason(exc) == "Incorrect weights in bin file!"
    assert ovr.reason(RuntimeError("")) == "RuntimeError"


def test_a_model_openvino_refuses_is_one_sentence(tmp_path: Path):
    from gnet.errors import GnetError

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07 not a model")
    with pytest.raises(GnetError) as info:
        ovr.compile_cpu(str(bad), "fp32", name="bad.onnx")
    assert "\n" not in str(info.value) and "core.cpp" not in str(info.value)
    assert str(info.value).startswith("OpenVINO cannot compile bad.onnx for the CPU: ")


def test_the_environment_block_names_version_and_capabilities():
    env = ovr.environment()
    assert env is not None and env["version"] == ovr.version() and env["optimization_capabilities"] == ovr.capabilities()


def test_without_openvino_each_entry_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch):
    from gnet.errors import NotAvailable

    monkeypatch.setattr(ovr, "capabilities", real_openvino_capabilities)  # gnet's own, even under GNET_TEST_CPU
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now fails, as where it is not installed
    ovr.core.cache_clear()
    try:
        for call in (lambda: ovr.compile_cpu("m.onnx", "fp32"), ovr.capabilities, lambda: ovr.precision_missing_reason("bf16")):
            with pytest.raises(NotAvailable, match="OpenVINO is not installed") as info:
                call()
            assert 'pip install "openvino>=2026.4"' in info.value.remedy
    finally:
        ovr.core.cache_clear()  # the next test gets a real Core again
