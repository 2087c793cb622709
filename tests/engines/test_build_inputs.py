"""What a build starts from, checked before TensorRT is touched: options, the ONNX's input and precision, the plan name."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnet.engines.build import build_engine
from gnet.engines.build_inputs import BuildOptions
from gnet.errors import GnetError, UsageError
from tests.trt_double import FakeDevice, models
from tests.trt_double.fixtures import build_tiny


@pytest.mark.parametrize("options, needle", [
    ({"min_batch": 8, "opt_batch": 4}, "min ≤ opt ≤ max"),
    ({"opt_batch": 16, "max_batch": 8}, "min ≤ opt ≤ max"),
    ({"min_batch": 0}, "--min-batch must be at least 1"),
    ({"opt_level": 6}, "--opt-level must be between 0 and 5"),
    ({"workspace_mib": 0}, "--workspace must be at least 1 MiB"),
    ({"hardware_compat": "turing+"}, "--hardware-compat must be one of"),
])
def test_impossible_options_are_refused_before_building(trt10, tmp_path: Path, options: dict, needle: str):
    with pytest.raises(GnetError, match=needle.replace("+", r"\+")):
        build_tiny(tmp_path, "fp32", **options)
    assert not trt10._behaviour.builds


def test_output_name_and_fixed_batch_checks(trt10, tmp_path: Path):
    with pytest.raises(GnetError, match="must end in .plan"):
        build_tiny(tmp_path, "fp32", output=tmp_path / "engine.trt")
    custom = build_tiny(tmp_path, "fp32", output=tmp_path / "out" / "mine.plan")
    assert custom.plan.is_file() and (tmp_path / "out" / "mine.json").is_file()
    assert custom.manifest["model"]["onnx_file"] == "../googlenet_fp32.onnx"
    fixed = models.save(models.fp32_model(batch=4), tmp_path / "fixed" / "googlenet_fp32.onnx")
    with pytest.raises(GnetError, match="fixed batch of 4"):
        build_engine(fixed, options=BuildOptions(min_batch=1, opt_batch=4, max_batch=8), device=FakeDevice())
    ok = build_engine(fixed, options=BuildOptions(min_batch=4, opt_batch=4, max_batch=4), device=FakeDevice())
    assert ok.manifest["inputs"][0]["profile"]["max"] == [4, 3, 16, 16]


def test_a_foreign_onnx_builds_only_with_its_facts_and_its_precision_comes_from_its_graph(trt10, tmp_path: Path):
    model = models.fp16_model()
    del model.metadata_props[:]
    foreign = models.save(model, tmp_path / "resnet_fp32.onnx")  # its name says fp32; its graph says fp16
    options = {"opt_batch": 4, "max_batch": 8}
    with pytest.raises(UsageError, match="lacks gnet's metadata.*pass --image-size N and --classes C"):
        build_engine(foreign, options=BuildOptions(**options), device=FakeDevice())
    with pytest.raises(UsageError, match="the image size 32 does not match"):
        build_engine(foreign, options=BuildOptions(image_size=32, num_classes=10, **options), device=FakeDevice())
    assert not trt10._behaviour.builds and sorted(p.name for p in tmp_path.iterdir()) == ["resnet_fp32.onnx"]
    result = build_engine(foreign, options=BuildOptions(image_size=16, num_classes=10, **options), device=FakeDevice())
    assert result.manifest["precision"] == "fp16" and result.plan.name == "googlenet_fp16.plan"
    assert {k: result.manifest["model"][k] for k in ("weights", "num_classes", "image_size", "opset")} == {
        "weights": "unknown (foreign ONNX)", "num_classes": 10, "image_size": 16, "opset": 17}


def test_facts_given_for_a_gnet_onnx_must_agree_with_its_metadata(trt10, tmp_path: Path):
    with pytest.raises(UsageError, match="--image-size 32 contradicts .*its gnet.image_size is 16"):
        build_tiny(tmp_path, "fp32", image_size=32)
    assert build_tiny(tmp_path, "fp32", image_size=16, num_classes=10).manifest["model"]["image_size"] == 16
