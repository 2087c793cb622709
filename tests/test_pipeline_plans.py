"""A bench run reuses a plan only when its manifest fits: same edition, same ONNX, a profile reaching the batch."""

from __future__ import annotations

from pathlib import Path

from gnet.pipeline import ensure_plan, matching_manifest
from tests.trt_double import models
from tests.trt_double.fixtures import tiny_onnx


def test_a_plan_is_built_once_and_reused_while_it_fits(tmp_path: Path):
    onnx_path = tiny_onnx(tmp_path, "fp32")
    first = ensure_plan(onnx_path, "fp32", "tensorrt-rtx", [2])  # the real TensorRT-RTX, no GPU needed
    assert first.built_now and first.path == tmp_path / "googlenet_fp32.rtx.plan"
    assert first.manifest["inputs"][0]["profile"]["max"][0] == 256 and first.manifest["inputs"][0]["profile"]["opt"][0] == 2
    again = ensure_plan(onnx_path, "fp32", "tensorrt-rtx", [2, 8])
    assert not again.built_now and again.manifest == first.manifest
    assert matching_manifest(first.path, onnx_path, "tensorrt", 8) is None  # another edition's plan is never reused
    assert matching_manifest(first.path, onnx_path, "tensorrt-rtx", 512) is None  # its profile stops at 256
    bigger = ensure_plan(onnx_path, "fp32", "tensorrt-rtx", [512])
    assert bigger.built_now and bigger.manifest["inputs"][0]["profile"]["max"][0] == 512
    models.save(models.fp32_model(seed=1), onnx_path)  # new weights: a new ONNX
    assert matching_manifest(first.path, onnx_path, "tensorrt-rtx", 8) is None
    first.path.with_suffix(".json").write_text("{broken")
    assert matching_manifest(first.path, onnx_path, "tensorrt-rtx", 8) is None


def test_a_plan_that_is_not_what_its_manifest_records_is_rebuilt_not_reused(tmp_path: Path):
    onnx_path = tiny_onnx(tmp_path, "fp32")
    first = ensure_plan(onnx_path, "fp32", "tensorrt-rtx", [2])
    whole = first.path.read_bytes()
    first.path.write_bytes(whole[: len(whole) // 2])  # issue 19 #6: a plan truncated to half was "reused"
    assert matching_manifest(first.path, onnx_path, "tensorrt-rtx", 8) is None
    edited = bytearray(whole)
    edited[len(edited) // 2] ^= 0xFF  # the same size, other bytes
    first.path.write_bytes(bytes(edited))
    assert matching_manifest(first.path, onnx_path, "tensorrt-rtx", 8) is None
    again = ensure_plan(onnx_path, "fp32", "tensorrt-rtx", [2])
    assert again.built_now and first.path.stat().st_size == again.manifest["plan"]["bytes"]
