"""Hostile input: an ONNX without gnet's metadata (another exporter's, or gnet's with metadata_props stripped).

One rule in every command (``gnet.export.metadata.require_gnet_metadata``): refused in one sentence that names
what is missing and what to do, writing nothing, unless the command can take the facts from the user (``gnet
build --image-size --classes``, ``gnet check --weights [--image-size]``). The foreign file is tiny_onnx's 32-px
model under gnet's FP32 artifact name, so the commands that discover artifacts by name find it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import onnx
import pytest

from gnet import defaults
from gnet.export import metadata
from tests.helpers import tiny_onnx
from tests.helpers.cli import assert_one_sentence_failure, invoke

MISSING = "lacks gnet's metadata: it has no gnet.precision, gnet.image_size and gnet.num_classes"


def _strip(model: onnx.ModelProto, path: Path) -> Path:
    del model.metadata_props[:]
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    """tiny_onnx's FP32 model ([batch, 3, 32, 32] → [batch, 10]) without its metadata, alone in its folder."""
    return _strip(tiny_onnx.build("fp32"), tmp_path / "artifacts" / defaults.artifact_name("fp32"))


def _untouched(folder: Path, files: dict[str, str]) -> None:
    """Nothing written, nothing changed: the folder holds exactly ``files`` (name → SHA-256), as before."""
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()} == files


def _digest(path: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}


def test_build_refuses_it_without_its_facts(foreign: Path):
    before = _digest(foreign)
    for args, needles in ((), (MISSING, "pass --image-size N and --classes C to build it as a foreign ONNX")),\
                         (("--image-size", "64", "--classes", "10"), ("the image size 64 does not match", "[?, 3, 32, 32]")),\
                         (("--image-size", "32", "--classes", "7"), ("7 classes do not match", "is [?, 10], not [batch, 7]")):
        result = invoke("build", str(foreign), "--runtime", "tensorrt-rtx", *args)
        assert_one_sentence_failure(result, *needles)
        _untouched(foreign.parent, before)


def test_build_with_its_facts_writes_a_manifest_without_nulls(foreign: Path):
    pytest.importorskip("tensorrt_rtx")
    result = invoke("build", str(foreign), "--runtime", "tensorrt-rtx", "--image-size", "32", "--classes", "10")
    assert result.exit_code == 0, result.output
    doc = json.loads((foreign.parent / "googlenet_fp32.rtx.json").read_text())
    assert doc["precision"] == "fp32" and (foreign.parent / "googlenet_fp32.rtx.plan").is_file()
    assert {k: doc["model"][k] for k in ("weights", "num_classes", "image_size", "opset")} == {
        "weights": metadata.FOREIGN_WEIGHTS, "num_classes": 10, "image_size": 32, "opset": 17}
    assert doc["inputs"][0]["profile"]["max"] == [defaults.MAX_BATCH, 3, 32, 32]


def test_check_refuses_it_without_weights_and_checks_shapes_with_them(foreign: Path):
    before = _digest(foreign)
    assert_one_sentence_failure(invoke("check", str(foreign)), MISSING, "pass --weights W (its weights) to check it")
    # the size comes from the graph's static input; GoogLeNet's 1000 classes are not the graph's 10
    assert_one_sentence_failure(invoke("check", str(foreign), "--weights", "random"),
                                "1000 classes do not match", "is [?, 10], not [batch, 1000]")
    assert_one_sentence_failure(invoke("check", str(foreign), "--weights", "random", "--image-size", "64"),
                                "the image size 64 does not match")
    _untouched(foreign.parent, before)


def test_check_with_weights_proves_a_stripped_gnet_export(tmp_path: Path):
    """The accepted path of gnet check: a gnet export of random weights at 32 px, stripped, checked against them."""
    exported = tmp_path / "googlenet_fp32.onnx"
    assert invoke("export", "--weights", "random", "--image-size", "32", "--parity-batches", "2",
                  "-o", str(exported)).exit_code == 0
    stripped = _strip(onnx.load(str(exported)), tmp_path / "other" / "model.onnx")
    assert_one_sentence_failure(invoke("check", str(stripped)), MISSING)
    result = invoke("check", str(stripped), "--weights", "random", "--batches", "2")
    assert result.exit_code == 0, result.output
    assert "matches PyTorch FP32 within the fp32 tolerance" in " ".join(result.output.split())


def test_serve_refuses_it(foreign: Path):
    before = _digest(foreign)
    assert_one_sentence_failure(invoke("serve", str(foreign)), MISSING,
                                "gnet serve needs gnet's contract (class names, preprocessing)", "gnet export")
    _untouched(foreign.parent, before)


def test_triton_repo_refuses_it_and_writes_no_repository(foreign: Path, tmp_path: Path):
    out = tmp_path / "repo"
    assert_one_sentence_failure(invoke("triton-repo", "--artifacts", str(foreign.parent), "-o", str(out)), MISSING,
                                "gnet triton-repo needs gnet's contract")
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["artifacts"]


def test_bench_refuses_it_instead_of_overwriting_it(foreign: Path):
    before = _digest(foreign)
    result = invoke("bench", "--artifacts", str(foreign.parent), "--backend", "ort-cpu", "--precision", "fp32",
                    "--weights", "random", "--batch", "1")
    assert_one_sentence_failure(result, MISSING, "gnet bench needs gnet's contract")
    _untouched(foreign.parent, before)


def test_openvino_refuses_it(foreign: Path):
    pytest.importorskip("openvino")
    before = _digest(foreign)
    assert_one_sentence_failure(invoke("openvino", str(foreign)), MISSING, "gnet openvino needs gnet's contract")
    _untouched(foreign.parent, before)
