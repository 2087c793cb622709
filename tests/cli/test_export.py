"""The command line: one sentence and a non-zero exit for bad input, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_sentence_failure, invoke
from tests.helpers.models import SMALL

_run = invoke
_assert_one_sentence_failure = assert_one_sentence_failure


def test_export_and_check_roundtrip(tmp_path: Path):
    out = tmp_path / "m.onnx"
    result = _run("export", "--weights", "random", "--seed", "3", "--image-size", str(SMALL), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.is_file() and "wrote" in result.output
    checked = _run("check", str(out), "--batches", "1,2")
    assert checked.exit_code == 0, checked.output
    assert "pass" in checked.output


def test_corrupt_onnx_given_to_check(tmp_path: Path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage that is not a protobuf model")
    _assert_one_sentence_failure(_run("check", str(bad)), "is not a valid ONNX model")
    _assert_one_sentence_failure(_run("check", str(tmp_path / "none.onnx")), "does not exist")


def test_bad_weights_and_images(tmp_path: Path):
    _assert_one_sentence_failure(_run("export", "--weights", str(tmp_path / "missing.pth")), "does not exist")
    empty = tmp_path / "empty"
    empty.mkdir()
    _assert_one_sentence_failure(
        _run("export", "--weights", "random", "--images", str(empty), "-o", str(tmp_path / "m.onnx")), "no images"
    )
    assert not (tmp_path / "m.onnx").exists()


def test_console_script_prints_no_traceback(tmp_path: Path):
    bad = tmp_path / "bad.onnx"
    bad.write_text("nope")
    proc = subprocess.run([sys.executable, "-m", "gnet", "check", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "not a valid ONNX model" in proc.stderr


def test_openvino_ir_roundtrip_and_bad_ir_files(tmp_path: Path, random64):
    xml = tmp_path / "deploy" / "googlenet.xml"
    result = _run("openvino", str(random64("fp32")), "-o", str(xml), "--batches", "4")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "googlenet.bin" in result.output and "ran it as f32" in result.output
    checked = _run("check", str(xml), "--batches", "2")
    assert checked.exit_code == 0, checked.output
    assert "pass" in checked.output and "googlenet.xml" in checked.output
    xml.with_suffix(".bin").write_bytes(b"")
    _assert_one_sentence_failure(_run("check", str(xml)), "cannot read the OpenVINO IR", "googlenet.bin is missing or empty")
    junk = tmp_path / "junk.xml"
    junk.write_text("hello")
    _assert_one_sentence_failure(_run("check", str(junk)), "it is not an OpenVINO IR (no XML header)")
    _assert_one_sentence_failure(_run("openvino", str(random64("fp32")), "-o", str(tmp_path / "m.ir")), "must end in .xml")
    assert not (tmp_path / "m.ir").exists()


def test_openvino_export_without_openvino_is_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from gnet.openvino_ir import runtime as openvino_runtime

    monkeypatch.setitem(sys.modules, "openvino", None)
    openvino_runtime.core.cache_clear()
    try:
        _assert_one_sentence_failure(_run("openvino", str(tmp_path / "m.onnx")), "OpenVINO is not installed", "pip install")
    finally:
        openvino_runtime.core.cache_clear()


@pytest.mark.parametrize("command", ["export", "check", "openvino"])
def test_every_command_has_help_with_an_example(command: str):
    result = _run(command, "--help")
    assert result.exit_code == 0 and "Example" in result.output

