"""The engine manifest: schema validation, reading, and the compatibility sentence a loader gives."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from gnet.engines import manifest
from gnet.errors import GnetError
from tests.trt_double.fixtures import build_tiny


@pytest.fixture()
def built(trt10, tmp_path: Path):
    return build_tiny(tmp_path, "fp16")


def test_schema_is_the_documented_draft_2020_12_file():
    schema = manifest.schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["format"]["const"] == manifest.FORMAT
    assert schema["properties"]["format_version"]["const"] == manifest.FORMAT_VERSION
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d.pop("device"), "manifest: 'device' is a required property"),
    (lambda d: d["plan"].update(sha256="abc"), "manifest.plan.sha256"),
    (lambda d: d.update(precision="int4"), "manifest.precision: 'int4' is not one of"),
    (lambda d: d["inputs"][0]["profile"].update(max="256"), "manifest.inputs[0].profile.max: '256' is not of type 'array'"),
    (lambda d: d["tensorrt"].update(strongly_typed=False), "manifest.tensorrt.strongly_typed: True was expected"),
    (lambda d: d["build"]["options"].update(opt_level=7), "manifest.build.options.opt_level: 7 is greater than the maximum of 5"),
    (lambda d: d["tensorrt"].update(weak=True), "('weak' was unexpected)"),
    (lambda d: d["calibration"].update(sha256="nope"), "manifest.calibration.sha256: 'nope' is not valid under any of the given schemas"),
    (lambda d: d["device"].update(compute_capability="sm90"), "compute_capability"),
    (lambda d: d["build"].update(seconds=True), "manifest.build.seconds: True is not of type 'number'"),
])
def test_validator_rejects_broken_manifests(built, mutate, needle: str):
    doc = copy.deepcopy(built.manifest)
    assert manifest.validate(doc) == []
    mutate(doc)
    problems = manifest.validate(doc)
    assert any(needle in p for p in problems), problems


def test_read_turns_every_defect_into_one_sentence(built, tmp_path: Path):
    path = built.manifest_path
    assert manifest.read(path)["plan"]["file"] == "googlenet_fp16.plan"
    with pytest.raises(GnetError, match="does not exist"):
        manifest.read(tmp_path / "missing.json")
    path.write_text("{not json")
    with pytest.raises(GnetError, match="is not valid JSON"):
        manifest.read(path)
    doc = copy.deepcopy(built.manifest)
    doc["format_version"] = 3
    path.write_text(json.dumps(doc))
    with pytest.raises(GnetError, match="has format version 3: this gnet reads versions 1 and 2"):
        manifest.read(path)
    doc["format_version"] = 2
    del doc["inputs"]
    path.write_text(json.dumps(doc))
    with pytest.raises(GnetError, match="is not a gnet engine manifest: manifest: 'inputs' is a required property"):
        manifest.read(path)


def _as_version_1(doc: dict) -> dict:
    """What gnet wrote before TensorRT-RTX: no runtime key (nor the later input_type), the inspector's proof at the top of
    precision_proof."""
    old = copy.deepcopy(doc)
    old["format_version"] = 1
    del old["runtime"]
    old.pop("input_type", None)
    proof = old["precision_proof"]
    old["precision_proof"] = {"requested": proof["requested"],
                              "expected_convolution_precision": proof["expected_convolution_precision"],
                              "allow_mixed": proof["allow_mixed"], **proof["inspector"]}
    return old


def test_version_1_manifests_are_still_read_as_data_centre_tensorrt(built, tmp_path: Path):
    path = tmp_path / "old.json"
    old = _as_version_1(built.manifest)
    path.write_text(json.dumps(old))
    doc = manifest.read(path)
    assert doc["format_version"] == 1 and manifest.runtime_of(doc) == "tensorrt"
    assert manifest.validate(old) == [] and manifest.validate(built.manifest) == []
    old["device"] = None  # version 1 always recorded the build GPU
    assert any("device" in p for p in manifest.validate(old))
    assert manifest.validate({**built.manifest, "format_version": 1})  # a version 2 body is no version 1 document


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d.update(device=None), "manifest.device: None is not of type 'object'"),
    (lambda d: d["tensorrt"].update(compute_capabilities="default"), "manifest.tensorrt: {"),
    (lambda d: d.update(runtime="tensorrt-rtx"), "manifest.tensorrt: 'compute_capabilities' is a required property"),
    (lambda d: d.update(runtime="onnxruntime"), "manifest.runtime: 'onnxruntime' is not one of"),
    (lambda d: d["precision_proof"].update(methods=["eyeballs"]), "manifest.precision_proof.methods[0]"),
])
def test_the_runtime_decides_which_keys_a_manifest_has(built, mutate, needle: str):
    doc = copy.deepcopy(built.manifest)
    mutate(doc)
    problems = manifest.validate(doc)
    assert any(needle in p for p in problems), problems


def test_write_is_atomic_and_refuses_invalid_documents(built, tmp_path: Path):
    dest = tmp_path / "copy.json"
    manifest.write(dest, built.manifest)
    assert json.loads(dest.read_text()) == built.manifest
    broken = copy.deepcopy(built.manifest)
    broken["precision"] = "fp64"
    with pytest.raises(ValueError, match="invalid manifest"):
        manifest.write(dest, broken)
    assert json.loads(dest.read_text()) == built.manifest
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".copy.json")]


def _doc(version: str = "10.13.0.35", cc: str = "9.0", level: str = "none", vc: bool = False) -> dict:
    return {"tensorrt": {"version": version, "hardware_compatibility": level, "version_compatible": vc},
            "device": {"compute_capability": cc, "name": "NVIDIA H100 80GB HBM3"}, "model": {"onnx_file": "googlenet_fp16.onnx"}}


@pytest.mark.parametrize("doc, trt_version, cc, expected", [
    (_doc(), "10.13.0.35", "9.0", []),
    (_doc(), "10.14.1.48", "9.0", ["built with TensorRT 10.13.0.35 but this machine has TensorRT 10.14.1.48"]),
    (_doc(), "10.13.0.35", "8.6", ["built for compute capability 9.0 (NVIDIA H100 80GB HBM3) but this GPU has compute capability 8.6"]),
    (_doc(level="same-cc"), "10.13.0.35", "8.9", ["compute capability 9.0"]),
    (_doc(level="ampere+"), "10.13.0.35", "8.6", []),
    (_doc(level="ampere+"), "10.13.0.35", "7.5", ["built for Ampere or newer GPUs (compute capability 8.0+) but this GPU has compute capability 7.5"]),
    (_doc(vc=True), "10.16.0.1", "9.0", []),
    (_doc(vc=True), "10.12.0.36", "9.0", ["only TensorRT 10.x releases from 10.13.0.35 on can load"]),
    (_doc(vc=True), "11.1.0.106", "9.0", ["this machine has TensorRT 11.1.0.106"]),
])
def test_compatibility_rules(doc: dict, trt_version: str, cc: str, expected: list[str]):
    problems = manifest.compatibility_problems(doc, trt_version, cc)
    assert len(problems) == len(expected)
    for problem, needle in zip(problems, expected):
        assert needle in problem


def test_mismatch_sentence_names_every_difference_and_the_rebuild_command(tmp_path: Path):
    plan = tmp_path / "googlenet_fp16.plan"
    with pytest.raises(GnetError) as err:
        manifest.check_compatible(_doc(), plan, "10.12.0.36", "8.6")
    text = str(err.value)
    assert text.startswith("googlenet_fp16.plan does not match this machine: it was built with TensorRT 10.13.0.35 "
                           "but this machine has TensorRT 10.12.0.36; and it was built for compute capability 9.0")
    assert text.endswith(f"rebuild it here with: gnet build {tmp_path / 'googlenet_fp16.onnx'}")
