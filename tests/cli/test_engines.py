"""``gnet build`` and ``gnet info`` from the command line: one sentence and exit 1 on failure, never a traceback."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gnet.engines import cuda_choice
from gnet.system import vector_extensions
from tests.helpers.cli import assert_one_sentence_failure, invoke
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
    text = _one_sentence_failure(_run("build", str(onnx_path), "--opt-batch", "4", "--max-batch", "8"),
                                 "TensorRT is not installed", f"the ONNX {onnx_path} is ready", INSTALL,
                                 f"gnet build {onnx_path}")
    assert "googlenet_int8.plan was not built" in text
    assert onnx_path.read_bytes() == before and not list(tmp_path.glob("*.plan")) and not list(tmp_path.glob("*.json"))


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="this machine has TensorRT")
def test_console_script_without_tensorrt_exits_1_with_one_sentence(tmp_path: Path):
    onnx_path = tiny_onnx(tmp_path, "fp16")
    proc = subprocess.run([sys.executable, "-m", "gnet", "build", str(onnx_path)], capture_output=True, text=True)
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
    monkeypatch.setattr(cuda_choice, "get_backend", lambda: device)
    onnx_path = tiny_onnx(tmp_path, "fp16")
    cache = tmp_path / "cache" / "t.cache"
    result = _run("build", str(onnx_path), "--min-batch", "2", "--opt-batch", "4", "--max-batch", "8",
                  "--opt-level", "1", "--workspace", "256", "--timing-cache", str(cache), "--hardware-compat", "same-cc")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "precision fp16: 2 convolutions (2 FP16)" in text and "proven" in text
    assert "min [2, 3, 16, 16], opt [4, 3, 16, 16], max [8, 3, 16, 16]" in text
    assert f"TensorRT {trt.__version__}" in text and "googlenet_fp16.plan" in text
    doc = json.loads((tmp_path / "googlenet_fp16.json").read_text())
    assert doc["build"]["options"] == {
        "min_batch": 2, "opt_batch": 4, "max_batch": 8, "workspace_mib": 256, "opt_level": 1,
        "timing_cache": str(cache), "hardware_compat": "same-cc", "version_compatible": False,
        "allow_mixed": False, "profiling_verbosity": "detailed"}
    assert cache.is_file()


def test_build_refusing_mixed_precision_and_allowing_it(trt, monkeypatch, tmp_path: Path):
    monkeypatch.setattr(cuda_choice, "get_backend", lambda: FakeDevice())
    trt._behaviour.force_conv_precision = "FP32"
    onnx_path = tiny_onnx(tmp_path, "fp16")
    _one_sentence_failure(_run("build", str(onnx_path), "--opt-batch", "4", "--max-batch", "8"),
                          "asked for fp16 but 2 of 2 convolutions run otherwise", "--allow-mixed")
    kept = _run("build", str(onnx_path), "--opt-batch", "4", "--max-batch", "8", "--allow-mixed")
    assert kept.exit_code == 0, kept.output
    assert "warning:" in kept.output and "unproven" in kept.output


def test_info_lists_what_this_machine_has(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    result = _run("info", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["item"]: row for row in json.loads(result.output)}
    assert {"torch", "torch CUDA", "onnxruntime", "onnxruntime providers", "tensorrt", "cuda-python", "pycuda",
            "TensorRT engines"} <= set(rows)
    assert "CPUExecutionProvider" in rows["onnxruntime providers"]["value"]
    assert rows["CPU"]["value"].endswith(f"({vector_extensions()})")
    assert rows["openvino"]["ok"] is True and "OPTIMIZATION_CAPABILITIES: FP32" in rows["openvino"]["value"]
    assert rows["tensorrt"]["ok"] is False and INSTALL in rows["tensorrt"]["value"]
    assert rows["TensorRT engines"]["ok"] is False
    table = _run("info")
    assert table.exit_code == 0 and "TensorRT engines" in table.output
    assert "tensorrt>=10.12" in " ".join(table.output.split())
