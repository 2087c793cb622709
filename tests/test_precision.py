"""FP16 and INT8 graphs on the trained fixture, run for real with ONNX Runtime (CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from gnet.errors import GnetError
from gnet.export import metadata
from gnet.export.api import check_model, export_model
from gnet.export.calibration import calibrate
from gnet.export.fp16 import body_casts
from gnet.export.images import load_images
from gnet.export.precision import CalibrationSettings
from gnet.export.qdq_rules import check_trt_qdq
from gnet.tests.fixture_support import fixture_checkpoint

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fixture_path() -> Path:
    return fixture_checkpoint()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("precision")


@pytest.fixture(scope="module")
def fp16(fixture_path: Path, workdir: Path):
    return export_model(weights=str(fixture_path), output=workdir / "googlenet_fp16.onnx", precision="fp16")


@pytest.fixture(scope="module")
def int8_trt(fixture_path: Path, workdir: Path):
    calib = CalibrationSettings(cache_dir=str(workdir / "calibration"))
    return export_model(weights=str(fixture_path), output=workdir / "googlenet_int8.qdq.onnx", precision="int8", calib=calib)


@pytest.fixture(scope="module")
def int8_cpu(fixture_path: Path, workdir: Path, int8_trt):
    calib = CalibrationSettings(cache_dir=str(workdir / "calibration"))
    return export_model(weights=str(fixture_path), output=workdir / "googlenet_int8_cpu.qdq.onnx", precision="int8",
                        int8_target="cpu", calib=calib)


def _worst(result):
    return min(result.parity.rows, key=lambda r: r.metrics.top1_agreement).metrics


def test_fp16_meets_its_bars_on_the_fixture(fp16):
    m = _worst(fp16)
    assert m.count == 540  # the whole held-out split
    assert m.top1_agreement == 1.0
    assert m.cosine_min >= 0.9999


def test_fp16_graph_is_fp16_inside_with_fp32_io(fp16):
    model = onnx.load(str(fp16.path))
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert body_casts(model) == []
    assert [n.op_type for n in model.graph.node].count("Cast") == 2
    types = {v.name: v.type.tensor_type.elem_type for v in [*model.graph.value_info, *model.graph.input, *model.graph.output]}
    types.update({t.name: t.data_type for t in model.graph.initializer})
    for node in model.graph.node:
        if node.op_type in ("Conv", "Gemm", "MaxPool", "GlobalAveragePool"):
            for name in [node.input[0], *node.output]:
                assert types[name] == onnx.TensorProto.FLOAT16, (node.name, name)
            if node.op_type in ("Conv", "Gemm"):
                assert types[node.input[1]] == onnx.TensorProto.FLOAT16
    assert metadata.read(model)["precision"] == "fp16"


def test_fp16_io(fixture_path: Path, workdir: Path):
    result = export_model(weights=str(fixture_path), output=workdir / "io16" / "googlenet_fp16.onnx", precision="fp16",
                          io_dtype="fp16")
    model = onnx.load(str(result.path))
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT16
    assert "Cast" not in [n.op_type for n in model.graph.node]
    assert result.parity.passed


def test_int8_meets_its_bars_on_the_fixture(int8_trt, int8_cpu):
    for result in (int8_trt, int8_cpu):
        m = _worst(result)
        assert m.count == 540
        assert m.top1_agreement >= 0.99, result.path
        assert m.accuracy_drop <= 0.5, result.path


def test_tensorrt_qdq_follows_every_placement_rule(int8_trt):
    model = onnx.load(str(int8_trt.path))
    assert check_trt_qdq(model) == []
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("QuantizeLinear") > 50
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    concats = [n for n in model.graph.node if n.op_type == "Concat"]
    assert len(concats) == 9
    for concat in concats:  # one scale across the inputs of each Concat
        scales = {float(init[producer[i].input[1]]) for i in concat.input}
        assert len(scales) == 1, concat.name
    for node in model.graph.node:
        if node.op_type in ("Conv", "Gemm"):
            assert producer[node.input[0]].op_type == "DequantizeLinear"
            weight_dq = producer[node.input[1]]
            assert weight_dq.op_type == "DequantizeLinear" and init[weight_dq.input[0]].dtype == np.int8
            assert init[weight_dq.input[1]].size == init[weight_dq.input[0]].shape[0]  # per channel
    for node in model.graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear"):
            zp = init[node.input[2]]
            assert zp.dtype == np.int8 and not zp.any()
    meta = metadata.read(model)
    assert meta["int8_target"] == "tensorrt" and meta["calibration"]["source"] == "digits:train"


def test_rule_checker_catches_broken_graphs(int8_trt):
    """The checker must fail on graphs that break each rule, or the placement test proves nothing."""
    model = onnx.load(str(int8_trt.path))
    init = {t.name: t for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    concat = next(n for n in model.graph.node if n.op_type == "Concat")
    scale = init[producer[concat.input[0]].input[1]]
    scale.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(scale) * 2, scale.name))
    assert any("different scales" in v for v in check_trt_qdq(model))

    model = onnx.load(str(int8_trt.path))
    q = next(n for n in model.graph.node if n.op_type == "QuantizeLinear")
    zp = next(t for t in model.graph.initializer if t.name == q.input[2])
    zp.CopyFrom(numpy_helper.from_array(np.array(3, dtype=np.int8), zp.name))
    assert any("zero point is not 0" in v for v in check_trt_qdq(model))

    model = onnx.load(str(int8_trt.path))
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    conv.input[0] = producer[conv.input[0]].input[0]  # feed the float tensor past its Q/DQ
    assert any("activation input is not quantized" in v for v in check_trt_qdq(model))


def test_cpu_target_is_u8_activations_s8_weights(int8_cpu):
    model = onnx.load(str(int8_cpu.path))
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    act_zp = {init[n.input[2]].dtype for n in model.graph.node if n.op_type == "QuantizeLinear"}
    assert act_zp == {np.dtype(np.uint8)}
    weights = [init[n.input[0]] for n in model.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in init]
    assert weights and {w.dtype for w in weights if w.ndim == 4} == {np.dtype(np.int8)}


def test_calibration_cache_is_reused_and_never_stale(fixture_path: Path, workdir: Path, int8_trt):
    fp32 = workdir / "googlenet_fp32.onnx"
    images = load_images("digits:train", 64, limit=32)
    first = calibrate(fp32, images, "minmax", cache_dir=workdir / "cache2")
    again = calibrate(fp32, images, "minmax", cache_dir=workdir / "cache2")
    assert not first.reused and again.reused and again.ranges == first.ranges
    # other images → another key, so the cached ranges are not reused
    other = calibrate(fp32, load_images("digits:train", 64, limit=16), "minmax", cache_dir=workdir / "cache2")
    assert not other.reused
    # an explicitly named cache made for another model is refused
    stale = workdir / "named.json"
    payload = json.loads(first.cache_path.read_text())
    payload["key"]["onnx_sha256"] = "0" * 64
    stale.write_text(json.dumps(payload))
    with pytest.raises(GnetError, match="different onnx"):
        calibrate(fp32, images, "minmax", cache=stale)


def test_bad_calibration_inputs(fixture_path: Path, workdir: Path, tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(GnetError, match="no images"):
        export_model(weights=str(fixture_path), output=workdir / "bad.onnx", precision="int8",
                     calib=CalibrationSettings(images=str(tmp_path / "empty")))
    with pytest.raises(GnetError, match="only 200"):
        export_model(weights=str(fixture_path), output=workdir / "bad.onnx", precision="int8",
                     calib=CalibrationSettings(images="skimage:faces", count=500))
    with pytest.raises(GnetError, match="also evaluation images"):
        export_model(weights=str(fixture_path), output=workdir / "bad.onnx", precision="int8",
                     calib=CalibrationSettings(images="digits:eval", count=50))
    assert not (workdir / "bad.onnx").exists()


def test_check_reports_the_lowest_sqnr_layers_and_keep_fp_removes_them(fixture_path: Path, workdir: Path, int8_trt):
    result = check_model(int8_trt.path)
    assert result.parity.passed
    noise = result.layer_noise
    assert noise and len(noise) >= 50 and noise[0].sqnr_db <= noise[-1].sqnr_db
    assert result.fp32_reference is not None and noise[0].accumulated_db is not None
    worst = [row.node for row in noise[:2]]
    kept = export_model(weights=str(fixture_path), output=workdir / "keep" / "googlenet_int8.qdq.onnx", precision="int8",
                        keep_fp=worst, calib=CalibrationSettings(cache_dir=str(workdir / "calibration")))
    model = onnx.load(str(kept.path))
    producer = {o: n for n in model.graph.node for o in n.output}
    for node in model.graph.node:
        if node.name in worst:
            assert node.input[1] not in producer, node.name  # a float initializer, no DequantizeLinear
    assert metadata.read(model)["keep_fp"] == worst
    with pytest.raises(GnetError, match="names no node"):
        export_model(weights=str(fixture_path), output=workdir / "keep" / "x.onnx", precision="int8", keep_fp=["nope"])
