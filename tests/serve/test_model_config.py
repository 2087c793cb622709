"""Triton configurations built with Triton's own schema; the validator refuses what Triton would refuse."""

from __future__ import annotations

import pytest

from gnet.errors import GnetError
from gnet.serve.model_config import ModelSpec, preferred_sizes, render, validate

pytest.importorskip("tritonclient.grpc", reason="tritonclient (make install-serve) provides Triton's config schema")

ONNX = ModelSpec(name="googlenet_onnx_fp16", platform="onnxruntime_onnx", model_file="model.onnx", max_batch=64,
                 dims=(3, 224, 224), classes=10, preferred=preferred_sizes(64), kind="KIND_GPU",
                 tensorrt={"precision_mode": "FP16"})


def test_a_rendered_config_parses_back_to_what_was_asked():
    config = validate(render(ONNX))
    assert (config.name, config.platform, config.max_batch_size) == ("googlenet_onnx_fp16", "onnxruntime_onnx", 64)
    assert [i.name for i in config.input] == ["input"] and list(config.input[0].dims) == [3, 224, 224]
    assert config.output[0].name == "logits" and list(config.output[0].dims) == [10]
    assert config.output[0].label_filename == "labels.txt"
    assert list(config.dynamic_batching.preferred_batch_size) == [8, 16, 32, 64]
    assert config.version_policy.latest.num_versions == 1
    accelerator = config.optimization.execution_accelerators.gpu_execution_accelerator[0]
    assert accelerator.name == "tensorrt" and dict(accelerator.parameters) == {"precision_mode": "FP16"}


@pytest.mark.parametrize("old, new, words", [
    ("max_batch_size: 64", "max_batch_size: 64\nmax_batch: 3", 'has no field named "max_batch"'),
    ("KIND_GPU", "KIND_TPU", "has no value named KIND_TPU"),
    ("TYPE_FP32", "TYPE_FLOAT32", "has no value named TYPE_FLOAT32"),
    ("max_batch_size: 64", "max_batch_size: 32", "a preferred batch size lies outside 1..max_batch_size"),
    ("max_batch_size: 64", "max_batch_size: 0", "max_batch_size must be at least 1"),
    ('platform: "onnxruntime_onnx"', 'platform: "tensorrt_plan"', "a TensorRT plan runs on GPU instances only"),
    ('name: "googlenet_onnx_fp16"', 'name: "googlenet_onnx_fp16"\n}', "Expected identifier or number"),
])
def test_the_validator_refuses_unknown_fields_enums_syntax_and_inconsistencies(old, new, words):
    cpu = render(ModelSpec(**{**ONNX.__dict__, "kind": "KIND_CPU", "tensorrt": {}}))
    good = render(ONNX)
    text = (cpu if "tensorrt_plan" in new else good).replace(old, new, 1)
    assert text != good
    with pytest.raises(GnetError, match=words):
        validate(text)


def test_render_refuses_a_spec_that_breaks_a_rule():
    with pytest.raises(GnetError, match="config.pbtxt of bad is not a usable Triton model configuration"):
        render(ModelSpec(**{**ONNX.__dict__, "name": "bad", "preferred": (128,)}))


def test_preferred_sizes_are_powers_of_two_the_maximum_and_the_profiles_opt():
    assert preferred_sizes(64) == (8, 16, 32, 64)
    assert preferred_sizes(100, opt=48) == (8, 16, 32, 48, 64, 100)
    assert preferred_sizes(4) == (4,)
