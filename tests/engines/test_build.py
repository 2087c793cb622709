"""``gnet.engines.build`` against the strict TensorRT double, in the 10.x and the 11.x enum layout.

Every test here runs gnet's build code; the double only plays TensorRT (its plan header
records what gnet asked for, so the tests can check the options really reached TensorRT).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gnet.engines import cuda_choice, manifest
from gnet.engines import network as network_mod
from gnet.engines.build import EngineUnavailable, build_engine
from gnet.engines.build_inputs import BuildOptions
from gnet.errors import GnetError
from gnet.export.hashing import sha256_file
from tests.trt_double import FakeDevice, models
from tests.trt_double.fixtures import build_tiny, install, tiny_onnx


def _header(trt) -> dict:
    assert trt._behaviour.builds, "TensorRT's builder was never called"
    return trt._behaviour.builds[-1]


@pytest.mark.parametrize("precision, conv", [("fp32", "FP32"), ("fp16", "FP16"), ("int8", "INT8")])
def test_build_writes_plan_and_schema_valid_manifest(trt, tmp_path: Path, precision: str, conv: str):
    result = build_tiny(tmp_path, precision, opt_level=2, workspace_mib=512, hardware_compat="ampere+")
    name = {"fp32": "googlenet_fp32", "fp16": "googlenet_fp16", "int8": "googlenet_int8"}[precision]
    assert result.plan == tmp_path / f"{name}.plan" and result.plan.is_file()
    assert result.manifest_path == tmp_path / f"{name}.json"
    doc = manifest.read(result.manifest_path)  # validates against manifest.schema.json
    assert doc == result.manifest
    assert doc["precision"] == precision and doc["plan"]["file"] == f"{name}.plan"
    assert doc["plan"]["sha256"] == sha256_file(result.plan) and doc["plan"]["bytes"] == result.plan.stat().st_size
    onnx_path = tmp_path / {"fp32": "googlenet_fp32.onnx", "fp16": "googlenet_fp16.onnx", "int8": "googlenet_int8.qdq.onnx"}[precision]
    assert doc["model"]["onnx_sha256"] == sha256_file(onnx_path) and doc["model"]["onnx_file"] == onnx_path.name
    assert doc["model"]["num_classes"] == models.CLASSES and len(doc["model"]["class_names"]) == models.CLASSES
    assert doc["calibration"]["sha256"] == (models.CALIBRATION_SHA if precision == "int8" else None)
    assert doc["tensorrt"] == {"version": trt.__version__, "strongly_typed": True, "hardware_compatibility": "ampere+",
                               "version_compatible": False}
    assert doc["device"]["name"] == "Fake GPU (host memory)" and doc["device"]["compute_capability"] == "9.0"
    assert doc["inputs"] == [{"name": "input", "dtype": "float32", "shape": [-1, 3, 16, 16],
                              "profile": {"min": [1, 3, 16, 16], "opt": [4, 3, 16, 16], "max": [8, 3, 16, 16]}}]
    assert doc["outputs"] == [{"name": "logits", "dtype": "float32", "shape": [-1, 10]}]
    assert doc["preprocessing"]["mean"] == [0.485, 0.456, 0.406]
    assert doc["build"]["options"]["opt_level"] == 2 and doc["build"]["options"]["workspace_mib"] == 512
    proof = doc["precision_proof"]
    assert doc["runtime"] == "tensorrt" and proof["methods"] == ["network", "inspector"] and proof["proven"]
    assert proof["network"]["convolution_precisions"] == {conv: 2} and proof["network"]["proven"]
    assert proof["inspector"]["convolution_precisions"] == {conv: 2} and proof["inspector"]["proven"]
    assert proof["inspector"]["inspector_layout"] == trt._layout
    # what reached TensorRT
    header = _header(trt)
    assert header["strongly_typed"] is True
    assert header["opt_level"] == 2 and header["workspace"] == 512 << 20
    assert header["hardware_compatibility_level"] == "HardwareCompatibilityLevel.AMPERE_PLUS"
    assert header["profiling_verbosity"] == "ProfilingVerbosity.DETAILED"
    assert header["profiles"] == {"input": [[1, 3, 16, 16], [4, 3, 16, 16], [8, 3, 16, 16]]}
    assert not header["version_compatible"]
    assert header["network_flags"] == 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    assert header["network_flags"] == (2 if trt._layout == "10.x" else 1)


def test_manifest_agrees_with_the_jsonschema_reference_validator(trt, tmp_path: Path):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(manifest.schema())
    doc = build_tiny(tmp_path, "int8", version_compatible=True).manifest
    jsonschema.Draft202012Validator(manifest.schema()).validate(doc)
    broken = json.loads(json.dumps(doc))
    broken["inputs"][0]["profile"].pop("opt")
    assert manifest.validate(broken) and not jsonschema.Draft202012Validator(manifest.schema()).is_valid(broken)


def test_version_compatible_and_same_cc_reach_the_builder(trt, tmp_path: Path):
    result = build_tiny(tmp_path, "fp32", version_compatible=True, hardware_compat="same-cc")
    header = _header(trt)
    assert header["version_compatible"] and "BuilderFlag.VERSION_COMPATIBLE" in header["builder_flags"]
    assert header["hardware_compatibility_level"] == "HardwareCompatibilityLevel.SAME_COMPUTE_CAPABILITY"
    assert result.manifest["tensorrt"]["version_compatible"] is True


def test_timing_cache_is_read_and_written_back(trt, tmp_path: Path):
    first = build_tiny(tmp_path, "fp16")
    cache = tmp_path / "timing.cache"
    assert first.timing_cache == cache and cache.is_file()
    header = _header(trt)
    assert header["timing_cache_hits"] == 0 and header["timing_cache_misses"] > 0
    before = cache.read_bytes()
    build_tiny(tmp_path, "fp16")
    header = _header(trt)
    assert header["timing_cache_hits"] == len(first.precision.inspector.layers) and header["timing_cache_misses"] == 0
    build_tiny(tmp_path, "fp16", opt_batch=8)  # a new opt shape times new tactics and grows the cache
    assert _header(trt)["timing_cache_misses"] > 0
    assert len(cache.read_bytes()) > len(before)


def test_timing_cache_path_option_and_opt_out(trt, tmp_path: Path):
    custom = tmp_path / "caches" / "googlenet.cache"
    result = build_tiny(tmp_path, "fp32", timing_cache=str(custom))
    assert custom.is_file() and not (tmp_path / "timing.cache").exists()
    assert result.manifest["build"]["options"]["timing_cache"] == str(custom)
    none = build_tiny(tmp_path / "nocache", "fp32", use_timing_cache=False)
    assert none.timing_cache is None and not (tmp_path / "nocache" / "timing.cache").exists()
    assert none.manifest["build"]["options"]["timing_cache"] is None


def test_unreadable_or_foreign_timing_cache_starts_a_new_one(trt, tmp_path: Path):
    cache = tmp_path / "timing.cache"
    cache.write_bytes(b"not a timing cache")
    result = build_tiny(tmp_path, "fp32")
    assert any("not readable" in w for w in result.warnings)
    assert cache.read_bytes() != b"not a timing cache"
    foreign = cache.read_bytes().replace(trt.__version__.encode(), b"9.9.9.9")
    cache.write_bytes(foreign)
    result = build_tiny(tmp_path, "fp32")
    assert any("another TensorRT" in w for w in result.warnings)


def test_parse_error_names_the_failing_node(trt, tmp_path: Path):
    onnx_path = models.save(models.fp32_model(extra_op="GnetCustomSoftmax"), tmp_path / "googlenet_fp32.onnx")
    with pytest.raises(GnetError) as err:
        build_engine(onnx_path, options=BuildOptions(opt_batch=4, max_batch=8), device=FakeDevice())
    text = str(err.value)
    assert "cannot parse" in text and "'/custom/Op'" in text and "GnetCustomSoftmax" in text
    assert not list(tmp_path.glob("*.plan")) and not list(tmp_path.glob("*.json"))


def test_asymmetric_quantization_is_reported_at_its_node(trt, tmp_path: Path):
    onnx_path = models.save(models.int8_model(zero_point=3), tmp_path / "googlenet_int8.qdq.onnx")
    with pytest.raises(GnetError, match=r"node '/input/QuantizeLinear' \(QuantizeLinear\) is invalid for TensorRT "
                                        r"\(INVALID_NODE: TensorRT only supports symmetric"):
        build_engine(onnx_path, options=BuildOptions(opt_batch=4, max_batch=8), device=FakeDevice())


def test_build_that_returns_none_is_a_clear_error_and_keeps_the_previous_plan(trt, tmp_path: Path):
    good = build_tiny(tmp_path, "fp32")
    plan_before, manifest_before = good.plan.read_bytes(), good.manifest_path.read_text()
    trt._behaviour.fail_build = True
    with pytest.raises(GnetError, match="could not build an engine from .*googlenet_fp32.onnx"):
        build_tiny(tmp_path, "fp32", opt_level=5)
    assert good.plan.read_bytes() == plan_before and good.manifest_path.read_text() == manifest_before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left behind
    trt._behaviour.fail_build = False
    trt._behaviour.min_workspace_bytes = 2 << 20  # TensorRT finds no tactic within 1 MiB and returns None
    with pytest.raises(GnetError, match="try a larger --workspace"):
        build_tiny(tmp_path, "fp32", workspace_mib=1)
    assert good.plan.read_bytes() == plan_before


def test_fp16_build_whose_convolutions_come_out_fp32_is_refused_unless_allow_mixed(trt, tmp_path: Path):
    trt._behaviour.force_conv_precision = "FP32"
    with pytest.raises(GnetError) as err:
        build_tiny(tmp_path, "fp16")
    text = str(err.value)
    assert "asked for fp16 but 2 of 2 convolutions run otherwise (2 in FP32" in text and "'/conv1/Conv'" in text
    assert "--allow-mixed" in text
    assert not (tmp_path / "googlenet_fp16.plan").exists() and not (tmp_path / "googlenet_fp16.json").exists()
    kept = build_tiny(tmp_path, "fp16", allow_mixed=True)
    assert kept.plan.is_file() and not kept.precision.proven
    proof = kept.manifest["precision_proof"]
    assert proof["proven"] is False and proof["allow_mixed"] is True
    assert proof["network"]["proven"] is True  # the graph asks for FP16: only the inspector sees the fallback
    assert proof["inspector"]["offending_layers"] == ["/conv1/Conv", "/conv2/Conv"]
    assert any("kept because of --allow-mixed" in w for w in kept.warnings)


def test_int8_build_whose_convolutions_are_not_int8_is_refused(trt, tmp_path: Path):
    trt._behaviour.force_conv_precision = "FP16"
    with pytest.raises(GnetError, match="asked for int8 but 2 of 2 convolutions run otherwise \\(2 in FP16"):
        build_tiny(tmp_path, "int8")


@pytest.mark.parametrize("layout", ["10.x", "11.x"])
def test_hand_written_flag_bit_is_weak_typing_on_10x_and_the_proof_catches_it(monkeypatch, tmp_path: Path, layout: str):
    """Writing 1 << 0 (EXPLICIT_BATCH's old bit) instead of the enum: 10.x builds weakly typed → FP32 convs."""
    trt = install(monkeypatch, layout)
    monkeypatch.setattr(network_mod, "strongly_typed_flags", lambda _trt: 1 << 0)
    if layout == "10.x":
        with pytest.raises(GnetError, match="asked for fp16 but 2 of 2 convolutions run otherwise"):
            build_tiny(tmp_path, "fp16")
        assert _header(trt)["strongly_typed"] is False
    else:  # 11.x: always strongly typed, the flag is ignored
        assert build_tiny(tmp_path, "fp16").precision.proven


def test_old_tensorrt_is_refused_with_a_sentence(monkeypatch, tmp_path: Path):
    install(monkeypatch, "10.x", version="10.8.0.43")
    with pytest.raises(EngineUnavailable, match="TensorRT 10.8.0.43 is too old, so googlenet_fp32.plan was not built: gnet builds strongly typed networks"):
        build_tiny(tmp_path, "fp32")
    assert (tmp_path / "googlenet_fp32.onnx").is_file()


def test_missing_tensorrt_leaves_the_onnx_and_names_the_install_command(monkeypatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # import tensorrt → ImportError
    onnx_path = tiny_onnx(tmp_path, "int8")
    with pytest.raises(EngineUnavailable) as err:
        build_engine(onnx_path, options=BuildOptions(opt_batch=4, max_batch=8, runtime="tensorrt"))
    text = str(err.value)
    assert text.startswith("TensorRT is not installed")
    assert f"the ONNX {onnx_path} is ready" in text
    assert 'pip install "tensorrt>=10.12" "cuda-python>=12.6.1"' in text and f"gnet build {onnx_path}" in text
    assert onnx_path.is_file() and not list(tmp_path.glob("*.plan"))


def test_tensorrt_without_a_gpu_says_so(trt10, monkeypatch, tmp_path: Path):
    def no_gpu(*_a, **_k):
        raise GnetError("no CUDA GPU is usable through cuda-python (cudaErrorNoDevice)")

    monkeypatch.setattr(cuda_choice, "get_binding", no_gpu)
    with pytest.raises(EngineUnavailable, match=r"^no CUDA GPU is usable through cuda-python .* so googlenet_fp32.plan was not built"):
        build_engine(tiny_onnx(tmp_path, "fp32"), options=BuildOptions(opt_batch=4, max_batch=8))
