"""``gnet.engines.build`` with the real TensorRT-RTX, on this machine without a GPU (no double anywhere here).

GoogLeNet: the trained fixture's FP32, FP16 and INT8 exports (64 px, session fixtures) built into real plans
with manifests at the default profile 1/64/256; each build takes a second or so.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from gnet import defaults
from gnet.engines import manifest
from gnet.engines.build import build_engine
from gnet.engines.build_inputs import BuildOptions
from gnet.errors import GnetError, UsageError
from gnet.export import metadata
from tests.helpers.rtx import parse, real_rtx

RTX = {"runtime": "tensorrt-rtx"}


@pytest.fixture(scope="module")
def built(fp32_onnx: Path, fp16, int8_trt, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """FP32, FP16 and INT8 GoogLeNet plans, built once for this module (beside copies of the ONNX files)."""
    folder = tmp_path_factory.mktemp("rtx-plans")
    out = {}
    for precision, source in (("fp32", fp32_onnx), ("fp16", fp16.path), ("int8", int8_trt.path)):
        onnx_path = Path(shutil.copy(source, folder / defaults.artifact_name(precision)))
        out[precision] = build_engine(onnx_path, options=BuildOptions(**RTX))
    return out


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_googlenet_builds_a_plan_and_manifest_at_profile_1_64_256(built, precision: str):
    result = built[precision]
    assert result.plan.name == f"googlenet_{precision}.rtx.plan" and result.plan.is_file()
    assert result.manifest_path.name == f"googlenet_{precision}.rtx.json"
    doc = manifest.read(result.manifest_path)  # validated against manifest.schema.json (format version 2)
    assert doc == result.manifest and doc["format_version"] == 2 and doc["runtime"] == "tensorrt-rtx"
    assert doc["tensorrt"] == {"version": real_rtx().__version__, "strongly_typed": True, "compute_capabilities": "default"}
    assert doc["device"] is None and doc["precision"] == precision
    assert doc["plan"]["sha256"] == hashlib.sha256(result.plan.read_bytes()).hexdigest()
    assert doc["inputs"][0]["profile"] == {"min": [1, 3, 64, 64], "opt": [64, 3, 64, 64], "max": [256, 3, 64, 64]}
    assert doc["inputs"][0]["shape"] == [-1, 3, 64, 64] and doc["outputs"][0]["shape"] == [-1, 10]
    assert doc["build"]["seconds"] > 0 and doc["build"]["options"]["compute_capabilities"] == "default"
    proof = doc["precision_proof"]
    expected = {"fp32": "FP32", "fp16": "FP16", "int8": "INT8"}[precision]
    assert proof["methods"] == ["network"] and proof["proven"] and proof["inspector"] is None
    assert proof["network"]["convolution_precisions"] == {expected: 57}
    assert "compiles its kernels on the GPU that loads the plan" in proof["inspector_skipped"]
    assert result.precision.lines()[0].startswith(f"precision {precision}: network proof: 57 convolutions (57 {expected})")
    assert not result.warnings
    assert not (result.plan.parent / defaults.TIMING_CACHE_NAME).exists()


def test_int8_and_fp16_plans_are_smaller_than_fp32(built):
    sizes = {p: built[p].manifest["plan"]["bytes"] for p in built}
    assert sizes["int8"] < sizes["fp16"] < sizes["fp32"]


def test_builds_are_reproducible_but_for_generated_symbol_numbers(built, tmp_path: Path):
    """Two builds of one ONNX give plans of the same size whose bytes differ, if at all, only in decimal digits.

    Usually they are identical; once (a fresh-clone CI run, 2026-11-23) TensorRT-RTX's kernel compiler numbered its
    generated symbols differently (``__mye4698`` against ``__mye4608``), so byte equality is not what it promises.
    """
    again = build_engine(built["fp16"].plan.parent / "googlenet_fp16.onnx", tmp_path / "again.rtx.plan",
                         BuildOptions(**RTX))
    first, second = (np.frombuffer(p.read_bytes(), dtype=np.uint8) for p in (built["fp16"].plan, again.plan))
    assert first.size == second.size
    differ = np.flatnonzero(first != second)
    digits = (ord("0") <= first[differ]) & (first[differ] <= ord("9")) & (ord("0") <= second[differ]) & (second[differ] <= ord("9"))
    assert digits.all() and differ.size < first.size // 10_000


def test_compute_capabilities_reach_the_builder(fp16, tmp_path: Path):
    result = build_engine(fp16.path, tmp_path / "sm.rtx.plan", BuildOptions(compute_capabilities="sm86,SM89", **RTX))
    assert result.manifest["tensorrt"]["compute_capabilities"] == ["sm86", "sm89"]
    assert result.manifest["build"]["options"]["compute_capabilities"] == "sm86,SM89"


def test_a_turing_target_cannot_take_the_fp32_classifier(fp32_onnx: Path, tmp_path: Path):
    """The real builder's own refusal, in one sentence: FP32 GEMM is not supported on SM75."""
    with pytest.raises(GnetError) as err:
        build_engine(fp32_onnx, tmp_path / "t.rtx.plan", BuildOptions(compute_capabilities="sm75", **RTX))
    text = str(err.value)
    assert text.startswith(f"TensorRT-RTX could not build an engine from {fp32_onnx}: ")
    assert "Turing (SM75): FP32 GEMM is not supported" in text and "\n" not in text
    assert not (tmp_path / "t.rtx.plan").exists()


def test_a_graph_that_is_not_the_precision_it_claims_is_refused_unless_allow_mixed(fp32_onnx: Path, tmp_path: Path):
    model = onnx.load(str(fp32_onnx))
    metadata.stamp(model, {**metadata.read(model), "precision": "fp16"})  # an FP32 graph claiming to be FP16
    path = tmp_path / "googlenet_fp16.onnx"
    onnx.save(model, str(path))
    with pytest.raises(GnetError) as err:
        build_engine(path, options=BuildOptions(**RTX))
    text = str(err.value)
    assert "googlenet_fp16.rtx.plan was asked for fp16 but 57 of 57 convolutions are not FP16 in the parsed network" in text
    assert "'/conv1/conv/Conv': activation FLOAT from network input, weight FLOAT from weights" in text
    assert text.endswith("nothing was written; pass --allow-mixed to keep such an engine")
    assert not list(tmp_path.glob("*.rtx.*"))
    kept = build_engine(path, options=BuildOptions(allow_mixed=True, **RTX))
    assert kept.plan.is_file() and not kept.precision.proven
    assert kept.manifest["precision_proof"]["proven"] is False and kept.manifest["precision_proof"]["allow_mixed"] is True
    assert len(kept.manifest["precision_proof"]["network"]["offending_layers"]) == 57
    assert any("kept because of --allow-mixed" in w for w in kept.warnings)


@pytest.mark.parametrize("options, needle", [
    ({"min_batch": 0}, "--min-batch must be at least 1, not 0"),
    ({"min_batch": 8, "opt_batch": 4}, "batch sizes must satisfy min ≤ opt ≤ max, but got min 8, opt 4, max 256"),
    ({"opt_batch": 512}, "batch sizes must satisfy min ≤ opt ≤ max"),
])
def test_an_out_of_range_profile_is_refused_before_building(fp16, tmp_path: Path, options: dict, needle: str):
    with pytest.raises(UsageError, match=needle):
        build_engine(fp16.path, tmp_path / "p.rtx.plan", BuildOptions(**options, **RTX))
    assert not list(tmp_path.iterdir())


def test_tensorrt_rtx_itself_accepts_a_zero_batch_profile(fp16, tmp_path: Path):
    """Why gnet checks the profile first: TensorRT-RTX accepts a zero batch, and reports min > opt only as -1."""
    parsed = parse(fp16.path, tmp_path)
    config = parsed.builder.create_builder_config()
    zero = parsed.builder.create_optimization_profile()
    zero.set_shape("input", (0, 3, 64, 64), (4, 3, 64, 64), (8, 3, 64, 64))
    assert zero and config.add_optimization_profile(zero) == 0
    bad = parsed.builder.create_optimization_profile()
    assert bad.set_shape("input", (8, 3, 64, 64), (4, 3, 64, 64), (16, 3, 64, 64)) is None
    assert not bad and config.add_optimization_profile(bad) == -1


@pytest.mark.parametrize("runtime", ["tensorrt-rtx", "tensorrt", "auto"])
def test_the_cpu_format_int8_graph_is_refused_before_tensorrt_sees_it(int8_cpu, tmp_path: Path, runtime: str):
    onnx_path = Path(shutil.copy(int8_cpu.path, tmp_path / int8_cpu.path.name))
    with pytest.raises(UsageError) as err:
        build_engine(onnx_path, options=BuildOptions(runtime=runtime))
    assert str(err.value) == (f"{onnx_path} is gnet's CPU-format INT8 graph: it is the ONNX Runtime CPU artifact (uint8 "
                              "activations, INT32 biases), not one TensorRT can build; build from googlenet_int8.qdq.onnx: "
                              f"gnet export --precision int8 -o {tmp_path / 'googlenet_int8.qdq.onnx'}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [onnx_path.name]
