"""Graphs broken the ways Q/DQ and FP16 graphs break in practice fail `gnet check` and the bench's parity, and the
check names the layer that broke; the good graphs beside them pass (tests/export/test_api.py and the bench tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

import onnx
import pytest

from tests.helpers.broken_graphs import FP16_BREAKS, INT8_BREAKS, scale_not_finite
from tests.helpers.cli import assert_one_sentence_failure, invoke

CASES = [("int8", name) for name in INT8_BREAKS] + [("int8-cpu", name) for name in
                                                     ("zero point +20", "per-channel scales collapsed")] \
    + [("fp16", name) for name in FP16_BREAKS]


@pytest.fixture(scope="module")
def good(fp16, int8_trt, int8_cpu, fp32_onnx: Path) -> dict[str, Path]:
    return {"fp32": fp32_onnx, "fp16": Path(fp16.path), "int8": Path(int8_trt.path), "int8-cpu": Path(int8_cpu.path)}


def _broken(good: dict[str, Path], variant: str, name: str, folder: Path) -> tuple[Path, str]:
    """The broken graph, saved under the good one's name beside an unchanged copy of its FP32 source."""
    model, node = {**INT8_BREAKS, **FP16_BREAKS}[name](onnx.load(str(good[variant])))
    shutil.copy(good["fp32"], folder / good["fp32"].name)
    path = folder / good[variant].name
    onnx.save(model, str(path))
    return path, node


def _error(result) -> str:
    """The one error sentence (the tables above it name layers too)."""
    text = assert_one_sentence_failure(result)
    return text[text.index("error:"):]


@pytest.mark.parametrize("variant,name", CASES)
def test_a_broken_graph_fails_gnet_check_which_names_the_layer(good, variant: str, name: str, tmp_path: Path):
    path, node = _broken(good, variant, name, tmp_path)
    text = _error(invoke("check", str(path), "--batches", "8"))
    # An FP16 overflow leaves an x86 CPU's logits right (it computes FP16 layers in FP32): the range check fails
    # it; where a CPU has FP16 kernels the logits are NaN and parity fails it first.
    failures = ("leaves FP16's range", "does not match PyTorch FP32") if variant == "fp16" else \
        ("does not match PyTorch FP32",)
    assert any(failure in text for failure in failures), text
    assert f"{node} (" in text, text


def test_without_its_fp32_source_a_broken_quantizer_is_still_named(good, tmp_path: Path):
    path, node = _broken(good, "int8", "activation scale x4", tmp_path)
    (tmp_path / good["fp32"].name).unlink()
    text = _error(invoke("check", str(path), "--batches", "8"))
    assert "quantizer of" in text and f"{node} (" in text, text


def test_a_graph_that_goes_non_finite_is_named_in_one_sentence(good, tmp_path: Path):
    """The SQNR table, which cannot be computed on an infinite tensor, gives way to the first non-finite tensor
    (before, its own error replaced the whole report). ONNX Runtime's fused integer kernels turn the infinite
    scale into saturated but finite logits, so it is parity that fails; the diagnosis, run operator by
    operator, finds the infinity where it starts."""
    model, node = scale_not_finite(onnx.load(str(good["int8"])))
    shutil.copy(good["fp32"], tmp_path / good["fp32"].name)
    onnx.save(model, str(tmp_path / good["int8"].name))
    text = _error(invoke("check", str(tmp_path / good["int8"].name), "--batches", "8"))
    assert "does not match PyTorch FP32" in text and "the first NaN or infinite tensor" in text, text
    assert f"the output of {node} (DequantizeLinear)" in text, text


@pytest.mark.parametrize("runner_kind,variant,name", [
    ("onnxruntime", "int8", "weight scales swapped"), ("openvino", "int8", "weight scales swapped"),
    ("onnxruntime", "int8-cpu", "zero point +20"), ("openvino", "int8-cpu", "zero point +20"),
    # OpenVINO has no FP16 row on either CPU this project meets (neither has FP16 in its capabilities)
    ("onnxruntime", "fp16", "fp16 overflow island")])
def test_the_bench_fails_a_broken_graph(good, fixture_path: Path, runner_kind: str, variant: str, name: str,
                                        tmp_path: Path):
    """The bench's own parity (run_parity on a runner opened on the artifact) fails it on both CPU runtimes."""
    from gnet.bench.harness import run_parity
    from gnet.bench.runners.base import PrepareContext
    from gnet.bench.runners.openvino_cpu import OpenVinoCpuRunner
    from gnet.bench.runners.ort_cpu import OrtCpuRunner
    from gnet.checks.images import parity_images
    from gnet.export.weights import load_weights, torch_logits

    path, _ = _broken(good, variant, name, tmp_path)
    loaded = load_weights(str(fixture_path))
    images = parity_images(loaded, None, loaded.image_size)
    precision = "int8" if variant.startswith("int8") else variant
    runner = (OrtCpuRunner if runner_kind == "onnxruntime" else OpenVinoCpuRunner)("default", precision)
    runner.prepare(PrepareContext(loaded=loaded, image_size=loaded.image_size, threads=None,
                                  artifact=lambda _variant: path))
    try:
        runner.prepare_batch(8)
        parity = run_parity(runner, images, torch_logits(loaded.model, images.data), 8)
    finally:
        runner.close()
    assert parity.violations, parity.metrics


@pytest.mark.parametrize("variant", ["fp16", "int8", "int8-cpu"])
def test_a_good_graph_is_not_blamed(good, variant: str):
    """The diagnosis's floors sit below what gnet's good graphs measure: it names nothing in them."""
    from gnet.checks.diagnosis import locate_divergence
    from gnet.checks.images import load_digits_set

    assert locate_divergence(good[variant], good["fp32"], load_digits_set("eval", 64)) is None
