"""``gnet build`` and ``gnet info`` from the command line: one sentence and exit 1 on failure, never a traceback."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gnet.engines import cuda_choice
from tests.helpers.cli import assert_one_sentence_failure, invoke
from tests.helpers.cpu import CpuKind
from tests.trt_double import FakeDevice
from tests.trt_double.fixtures import tiny_onnx

INSTALL = 'pip install "tensorrt>=10.12" "cuda-python>=12.6.1"'


_run = invoke


def _one_sentence_failure(result, *needles: str) -> str:
    text = assert_one_sentence_failure(result, *needles)
    assert text.startswith("error: ")  # nothing printed before the sentence
    return text


@pytest.mark.parametrize("command", ["build", "info"])
def test_every_engine_command_has_help_with_an_example(command: str):
    result = _run(command, "--help")
    assert result.exit_code == 0 and "Example" in result.output


def test_build_without_tensorrt_leaves_the_onnx_and_says_what_to_install(monkeypatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    onnx_path = tiny_onnx(tmp_path, "int8")
    before = onnx_path.read_bytes()
    text = _one_sentence_failure(_run("build", str(onnx_path), "--runtime", "tensorrt", "--opt-batch", "4",
                                      "--max-batch", "8"),
                                 "TensorRT is not installed", f"the ONNX {onnx_path} is ready", INSTALL,
                                 f"gnet build {onnx_path}", f"gnet build {onnx_path} --runtime tensorrt-rtx")
    assert "googlenet_int8.plan was not built" in text
    assert onnx_path.read_bytes() == before and not list(tmp_path.glob("*.plan")) and not list(tmp_path.glob("*.json"))


def test_build_with_no_runtime_at_all_names_both_and_recommends_tensorrt_rtx(monkeypatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    monkeypatch.setitem(sys.modules, "tensorrt_rtx", None)
    onnx_path = tiny_onnx(tmp_path, "fp16")
    text = _one_sentence_failure(_run("build", str(onnx_path)), "no TensorRT is installed, so googlenet_fp16.rtx.plan "
                                 "was not built: TensorRT is not installed: the Python package tensorrt cannot be "
                                 "imported; and TensorRT-RTX is not installed", 'pip install "tensorrt-rtx>=1.7,<2"',
                                 INSTALL, f"gnet build {onnx_path}")
    assert not list(tmp_path.glob("*.plan"))
    assert text.count("error:") == 1


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="this machine has TensorRT")
def test_console_script_without_tensorrt_exits_1_with_one_sentence(tmp_path: Path):
    onnx_path = tiny_onnx(tmp_path, "fp16")
    proc = subprocess.run([sys.executable, "-m", "gnet", "build", str(onnx_path), "--runtime", "tensorrt"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    err = " ".join(proc.stderr.split())
    assert "TensorRT is not installed" in err and INSTALL in err  # the brackets-free command survives rich markup
    assert onnx_path.is_file()


def test_build_checks_the_onnx_before_tensorrt(monkeypatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    bad = tmp_path / "googlenet_fp16.onnx"
    bad.write_bytes(b"\x08\x07 not a protobuf")
    _one_sentence_failure(_run("build", str(bad)), "is not a valid ONNX model")
    _one_sentence_failure(_run("build", str(tmp_path / "none.onnx")), "does not exist")
    onnx_path = tiny_onnx(tmp_path, "fp32")
    _one_sentence_failure(_run("build", str(onnx_path), "--opt-batch", "512"), "min ≤ opt ≤ max")


def test_build_with_tensorrt_and_a_gpu(trt, monkeypatch, tmp_path: Path):
    device = FakeDevice()
    monkeypatch.setattr(cuda_choice, "get_binding", lambda: device)
    onnx_path = tiny_onnx(tmp_path, "fp16")
    cache = tmp_path / "cache" / "t.cache"
    result = _run("build", str(onnx_path), "--min-batch", "2", "--opt-batch", "4", "--max-batch", "8",
                  "--opt-level", "1", "--workspace", "256", "--timing-cache", str(cache), "--hardware-compat", "same-cc")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "precision fp16: network proof: 2 convolutions (2 FP16) of 11 layers, HALF activations and weights; proven" in text
    assert "precision fp16: inspector proof: 2 convolutions (2 FP16)" in text
    assert "min [2, 3, 16, 16], opt [4, 3, 16, 16], max [8, 3, 16, 16]" in text
    assert f"TensorRT {trt.__version__}" in text and "googlenet_fp16.plan" in text
    doc = json.loads((tmp_path / "googlenet_fp16.json").read_text())
    assert doc["build"]["options"] == {
        "min_batch": 2, "opt_batch": 4, "max_batch": 8, "workspace_mib": 256, "opt_level": 1,
        "timing_cache": str(cache), "hardware_compat": "same-cc", "version_compatible": False,
        "allow_mixed": False, "profiling_verbosity": "detailed"}
    assert cache.is_file()


def test_build_refusing_mixed_precision_and_allowing_it(trt, monkeypatch, tmp_path: Path):
    monkeypatch.setattr(cuda_choice, "get_binding", lambda: FakeDevice())
    trt._behaviour.force_conv_precision = "FP32"
    onnx_path = tiny_onnx(tmp_path, "fp16")
    _one_sentence_failure(_run("build", str(onnx_path), "--opt-batch", "4", "--max-batch", "8"),
                          "asked for fp16 but 2 of 2 convolutions run otherwise", "--allow-mixed")
    kept = _run("build", str(onnx_path), "--opt-batch", "4", "--max-batch", "8", "--allow-mixed")
    assert kept.exit_code == 0, kept.output
    assert "warning:" in kept.output and "NOT proven (kept: --allow-mixed)" in kept.output


def test_build_a_real_tensorrt_rtx_plan_without_a_gpu(tmp_path: Path):
    """The real tensorrt_rtx (make install installs it): parse, network proof, AOT build, manifest."""
    onnx_path = tiny_onnx(tmp_path, "fp16")
    result = _run("build", str(onnx_path), "--runtime", "tensorrt-rtx", "--compute-capability", "sm86,sm89",
                  "--opt-batch", "4", "--max-batch", "8")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "precision fp16: network proof: 2 convolutions (2 FP16) of 19 layers, HALF activations and weights; proven" in text
    assert "inspector proof" not in text
    assert "on this machine's CPU (no GPU needed) with TensorRT-RTX 1.7" in text and "for sm86, sm89" in text
    doc = json.loads((tmp_path / "googlenet_fp16.rtx.json").read_text())
    assert doc["runtime"] == "tensorrt-rtx" and doc["device"] is None and (tmp_path / "googlenet_fp16.rtx.plan").is_file()
    assert doc["tensorrt"]["compute_capabilities"] == ["sm86", "sm89"] and "hardware_compatibility" not in doc["tensorrt"]
    assert doc["precision_proof"]["methods"] == ["network"] and doc["precision_proof"]["inspector"] is None
    assert not (tmp_path / "timing.cache").exists()  # TensorRT-RTX gets no timing cache


@pytest.mark.parametrize("args, needle", [
    (["--runtime", "tensorrt-rtx", "--hardware-compat", "ampere+"],
     "--hardware-compat cannot be used with TensorRT-RTX (--runtime tensorrt-rtx): TensorRT-RTX ignores hardware"),
    (["--runtime", "tensorrt-rtx", "--version-compatible"],
     "--version-compatible cannot be used with TensorRT-RTX (--runtime tensorrt-rtx): TensorRT-RTX ships no lean runtime"),
    (["--runtime", "tensorrt-rtx", "--timing-cache", "t.cache"],
     "--timing-cache cannot be used with TensorRT-RTX (--runtime tensorrt-rtx): TensorRT-RTX's timing cache is a "
     "deprecated no-op"),
    (["--runtime", "tensorrt", "--compute-capability", "sm86"],
     "--compute-capability cannot be used with TensorRT (--runtime tensorrt): data-centre TensorRT builds for the GPU"),
    (["--runtime", "tensorrt-rtx", "--compute-capability", "sm86,sm90"],
     "--compute-capability 'sm86,sm90' is not a comma-separated list of sm75, sm80, sm86, sm89, sm120, sm121"),
    (["--runtime", "tensorrt-rtx", "--compute-capability", "current,sm86"], "current cannot be combined"),
    (["--runtime", "tensorrt-rtx", "--compute-capability", "current"],
     "--compute-capability current needs a CUDA GPU here"),
])
def test_options_an_edition_lacks_are_refused_before_building(monkeypatch, tmp_path: Path, args: list[str], needle: str):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    onnx_path = tiny_onnx(tmp_path, "fp16")
    _one_sentence_failure(_run("build", str(onnx_path), "--opt-batch", "4", "--max-batch", "8", *args), needle)
    assert not list(tmp_path.glob("*.plan")) and not list(tmp_path.glob("*.json")) and not list(tmp_path.glob("*.cache"))


def test_info_lists_what_this_machine_has(monkeypatch, cpu_kind: CpuKind):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    result = _run("info", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["item"]: row for row in json.loads(result.output)}
    assert {"torch", "torch CUDA", "onnxruntime", "onnxruntime providers", "tensorrt", "cuda-python", "pycuda",
            "TensorRT engines", "tensorrt-rtx", "TensorRT-RTX engines"} <= set(rows)
    rtx = rows["tensorrt-rtx"]["value"]
    assert rtx.startswith("1.7") and "builds engines here without a GPU" in rtx and "targets sm75 sm80 sm86 sm89" in rtx
    assert rows["TensorRT-RTX engines"]["ok"] is False  # no GPU here
    assert "builds plans here, but running them needs an NVIDIA GPU" in rows["TensorRT-RTX engines"]["value"]
    assert "CPUExecutionProvider" in rows["onnxruntime providers"]["value"]
    assert rows["CPU"]["value"] == f"{cpu_kind.model} ({cpu_kind.vector_extensions})"
    capabilities = ", ".join(cpu_kind.openvino_capabilities)  # BF16 first on a Zen 4, absent on a Zen 3
    assert rows["openvino"]["ok"] is True and f"OPTIMIZATION_CAPABILITIES: {capabilities}" in rows["openvino"]["value"]
    assert rows["tensorrt"]["ok"] is False and INSTALL in rows["tensorrt"]["value"]
    assert rows["TensorRT engines"]["ok"] is False
    table = _run("info")
    assert table.exit_code == 0 and "TensorRT engines" in table.output
    assert "tensorrt>=10.12" in " ".join(table.output.split())
