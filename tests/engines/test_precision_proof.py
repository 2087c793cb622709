"""The precision proof: inspector JSON in the 10.x ("Bindings") and 11.x ("I/O Tensors") layouts → per-layer precision → verdict."""

from __future__ import annotations

import json

import pytest

from gnet.engines.precision_proof import (
    dtype_from_format,
    judge,
    parse_engine_information,
)
from gnet.errors import GnetError
from tests.helpers.paths import TESTS_DIR

SAMPLES = TESTS_DIR / "trt_double" / "samples"


def _sample(name: str) -> str:
    return (SAMPLES / name).read_text()


@pytest.mark.parametrize("text, expected", [
    ("Row major linear FP32 format (kLINEAR)", "FP32"),
    ("Channel major FP16 format where channel % 8 == 0 (kHWC8)", "FP16"),
    ("Two wide channel vectorized row major FP16 format (kCHW2)", "FP16"),
    ("Thirty-two wide channel vectorized row major Int8 format (kCHW32)", "INT8"),
    ("Int8 NC/32HW32", "INT8"),
    ("Half", "FP16"), ("Float", "FP32"), ("BFloat16", "BF16"), ("Row major linear BF16 format (kLINEAR)", "BF16"),
    ("Row major linear FP8 format (kLINEAR)", "FP8"), ("Int32", "INT32"), ("UInt8", "UINT8"),
    ("N/A due to dynamic shapes", None), ("", None), (None, None), ("Row major linear format", None),
])
def test_dtype_from_format(text, expected):
    assert dtype_from_format(text) == expected


def test_10x_layout_fp16_engine_with_one_fp32_convolution_is_refused():
    info = parse_engine_information(_sample("inspector_10x_fp16_mixed.json"))
    assert info.layout == "10.x" and [t.name for t in info.io_tensors] == ["input", "logits"]
    assert info.detailed
    convs = [layer.name for layer in info.layers if layer.is_convolution]
    # the Reformat layer names the conv it feeds, and the FC layer runs as a 1x1 "CaskGemmConvolution": neither counts
    assert convs == ["/conv1/conv/Conv + /conv1/Relu", "/conv2/conv/Conv + /conv2/Relu"]
    report = judge(info, "fp16")
    assert not report.passed and not report.proven
    assert [layer.name for layer in report.offenders] == ["/conv2/conv/Conv + /conv2/Relu"]
    assert report.convolution_precisions == {"FP16": 1, "FP32": 1}
    sentence = str(report.failure("googlenet_fp16.plan"))
    assert "asked for fp16" in sentence and "1 of 2 convolutions" in sentence and "/conv2/conv/Conv" in sentence
    assert "--allow-mixed" in sentence and sentence.count(".") <= 1
    allowed = judge(info, "fp16", allow_mixed=True)
    assert allowed.passed and not allowed.proven
    assert allowed.to_dict()["offending_layers"] == ["/conv2/conv/Conv + /conv2/Relu"]


def test_11x_layout_int8_engine_is_proven_and_io_tensors_are_read():
    info = parse_engine_information(_sample("inspector_11x_int8.json"))
    assert info.layout == "11.x"
    assert [(t.name, t.mode, t.dtype, t.dimensions) for t in info.io_tensors] == [
        ("input", "Input", "FP32", [-1, 3, 224, 224]), ("logits", "Output", "FP32", [-1, 1000])]
    report = judge(info, "int8")
    assert report.proven and report.passed
    assert report.convolution_precisions == {"INT8": 2}
    assert report.layer_precisions == {"FP32": 1, "INT8": 3}  # the Q layer reads the FP32 input
    assert not judge(info, "fp16").passed  # the same engine is not an FP16 engine


def test_layer_names_only_cannot_prove_anything():
    doc = json.loads(_sample("inspector_10x_fp16_mixed.json"))
    doc["Layers"] = [layer["Name"] for layer in doc["Layers"]]  # what LAYER_NAMES_ONLY verbosity gives
    report = judge(parse_engine_information(json.dumps(doc)), "fp16")
    assert not report.passed and "ProfilingVerbosity.DETAILED" in str(report.failure("x.plan"))
    assert judge(parse_engine_information(json.dumps(doc)), "fp16", allow_mixed=True).passed


def test_engine_without_convolutions_or_types_is_unproven():
    no_conv = {"Layers": [{"Name": "/relu/Relu", "LayerType": "PointWiseV2", "Inputs": [], "Outputs": []}], "Bindings": []}
    assert "no convolution" in judge(parse_engine_information(json.dumps(no_conv)), "fp32").problem
    untyped = {"Layers": [{"Name": "/conv/Conv", "LayerType": "CaskConvolution", "Inputs": [{"Name": "x"}], "Outputs": []}]}
    assert "no data type" in judge(parse_engine_information(json.dumps(untyped)), "fp32").problem


def test_convolution_detection_uses_layer_type_then_the_op_segment_of_the_name():
    layers = [
        {"Name": "/conv1/Relu", "LayerType": "PointWiseV2", "Inputs": [{"Format/Datatype": "Half"}]},
        {"Name": "PWN(/conv1/Relu)", "LayerType": "PointWise", "Inputs": [{"Format/Datatype": "Half"}]},
        {"Name": "Reformatting CopyNode for Input Tensor 0 to /conv2/Conv", "LayerType": "Reformat",
         "Inputs": [{"Format/Datatype": "Float"}]},
        {"Name": "Conv_12", "LayerType": "", "Inputs": [{"Format/Datatype": "Half"}]},
        {"Name": "x", "LayerType": "CudnnConvolution", "Inputs": [{"Datatype": "Half"}]},
        {"Name": "fused", "LayerType": "PointWise", "Metadata": "[ONNX Layer: /b/conv/Conv]", "Inputs": [{"Datatype": "Half"}]},
        {"Name": "/fc/Gemm", "LayerType": "CaskGemmConvolution", "Inputs": [{"Format/Datatype": "Float"}]},
        {"Name": "{ForeignNode[/conv1/Conv.../fc/Gemm]}", "LayerType": "Myelin", "Inputs": [{"Format/Datatype": "Float"}]},
    ]
    info = parse_engine_information(json.dumps(layers))  # a bare list, as get_layer_information pieces
    assert [layer.is_convolution for layer in info.layers] == [False, False, False, True, True, True, False, False]
    assert judge(info, "fp16").proven


def test_unknown_precision_and_garbage_json_are_one_sentence_errors():
    info = parse_engine_information(_sample("inspector_11x_int8.json"))
    with pytest.raises(GnetError, match="unknown precision 'int4'"):
        judge(info, "int4")
    with pytest.raises(GnetError, match="not JSON"):
        parse_engine_information("Layers: conv")
    with pytest.raises(GnetError, match="without a \"Layers\" list"):
        parse_engine_information('{"Bindings": []}')
