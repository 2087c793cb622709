"""Where INT8 hurts: the lowest-SQNR layers, and --keep-fp leaving them in floating point."""

from __future__ import annotations

import shutil
from pathlib import Path

import onnx
import pytest

from gnet.checks.check import check_model
from gnet.checks.sqnr import SQNR_IMAGES
from gnet.errors import GnetError
from gnet.export import metadata
from gnet.export.api import export_model
from gnet.precision.calibration import CalibrationSettings

pytestmark = pytest.mark.slow


def _beside_fp32(folder: Path, fp32_onnx: Path) -> Path:
    """``folder`` holding the session's FP32 export, which an INT8 export there reuses instead of exporting again."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fp32_onnx, folder / fp32_onnx.name)
    return folder


def test_check_reports_the_lowest_sqnr_layers_and_keep_fp_removes_them(fixture_path: Path, workdir: Path, int8_trt,
                                                                       fp32_onnx: Path):
    result = check_model(int8_trt.path, batches=[8])  # the table is under test here, not the batch sizes
    assert result.parity.passed
    noise = result.layer_noise
    assert noise and len(noise) >= 50 and noise[0].sqnr_db <= noise[-1].sqnr_db
    assert result.fp32_reference is not None and noise[0].accumulated_db is not None
    worst = [row.node for row in noise[:2]]
    folder = _beside_fp32(workdir / "keep", fp32_onnx)
    kept = export_model(weights=str(fixture_path), output=folder / "googlenet_int8.qdq.onnx", precision="int8",
                        keep_fp=worst, calib=CalibrationSettings(cache_dir=str(workdir / "calibration")))
    model = onnx.load(str(kept.path))
    producer = {o: n for n in model.graph.node for o in n.output}
    for node in model.graph.node:
        if node.name in worst:
            assert node.input[1] not in producer, node.name  # a float initializer, no DequantizeLinear
    assert metadata.read(model)["keep_fp"] == worst
    with pytest.raises(GnetError, match="names no node"):
        export_model(weights=str(fixture_path), output=workdir / "keep" / "x.onnx", precision="int8", keep_fp=["nope"])


def _digits(count: int):
    from gnet.checks.images import load_images
    from gnet.defaults import FIXTURE_IMAGE_SIZE

    return load_images("digits:eval", FIXTURE_IMAGE_SIZE, limit=count)  # the fixture's held-out parity digits


@pytest.mark.parametrize("fmt", ["int8_trt", "int8_cpu"])
def test_own_sqnr_is_never_far_below_the_accumulated_sqnr_in_either_int8_format(fmt: str, fp32_onnx: Path,
                                                                              request: pytest.FixtureRequest):
    from gnet.checks.sqnr import layer_noise, qdq_pairs

    path = request.getfixturevalue(fmt).path
    rows = layer_noise(path, _digits(SQNR_IMAGES), fp32_onnx)
    assert len(rows) >= 50
    # One quantizer's own noise is part of the noise accumulated up to it, so its own SQNR cannot be much
    # lower: the CPU format's folded ReLU counted as noise made it 0.8 dB next to 38 dB accumulated.
    for row in rows:
        assert row.sqnr_db >= row.accumulated_db - 1.0, row
    folded = [p.folds_relu for p in qdq_pairs(onnx.load(str(path)))]
    assert any(folded) == (fmt == "int8_cpu")  # the case this guards is really there (and only there)


def test_fp16_has_no_sqnr_table_and_an_fp16_reference_does_not_overflow(fp16, int8_trt, fp32_onnx: Path):
    import math
    import warnings

    from gnet.checks.check import is_qdq
    from gnet.checks.sqnr import layer_noise

    assert not is_qdq(onnx.load(str(fp16.path)))  # what gates the table in `gnet check`: no Q/DQ, nothing to show
    images = _digits(SQNR_IMAGES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # qdq_loss_debug's float16 norm raised "overflow encountered in dot"
        assert layer_noise(fp16.path, images, fp32_onnx) == []
        against_fp16 = {r.node: r.accumulated_db for r in layer_noise(int8_trt.path, images, fp16.path)}
    against_fp32 = {r.node: r.accumulated_db for r in layer_noise(int8_trt.path, images, fp32_onnx)}
    assert against_fp16.keys() == against_fp32.keys()
    for node, db in against_fp16.items():
        assert math.isfinite(db) and db == pytest.approx(against_fp32[node], abs=1.0), node


@pytest.mark.parametrize("fmt,target", [("int8_trt", "tensorrt"), ("int8_cpu", "cpu")])
def test_keep_fp_is_suggested_exactly_where_it_raises_the_end_to_end_sqnr(fixture_path: Path, workdir: Path,
                                                                         fp32_onnx: Path, fmt: str, target: str,
                                                                         request: pytest.FixtureRequest):
    """Keep the lowest-SQNR layer in floating point: where the table calls it worth it (the TensorRT format:
    its own noise is louder than the logits'), the logits come closer to FP32's; where it does not (the CPU
    format, whose logits' noise comes from its 7-bit weights), they barely move. The kept layer reads its input
    in floating point in both formats."""
    from gnet.checks.ort import cpu_session, run_batched
    from gnet.checks.sqnr import keep_fp_candidates, layer_noise, output_sqnr_db, qdq_pairs

    original = request.getfixturevalue(fmt).path
    images = _digits(256)
    reference = run_batched(cpu_session(fp32_onnx), images.data, 64)
    before = output_sqnr_db(original, images, reference)
    rows = layer_noise(original, images, fp32_onnx)
    suggested = keep_fp_candidates(rows, before)
    assert bool(suggested) == (target == "tensorrt"), (rows[0], before)
    folder = _beside_fp32(workdir / f"keep-{target}", fp32_onnx)
    kept = export_model(weights=str(fixture_path), output=folder / Path(original).name,
                        precision="int8", int8_target=target, keep_fp=[rows[0].node],
                        calib=CalibrationSettings(cache_dir=str(workdir / "calibration")))
    assert rows[0].node not in {p.node.name for p in qdq_pairs(onnx.load(str(kept.path)))}
    gain = output_sqnr_db(kept.path, images, reference) - before
    assert gain > 0.1 if suggested else abs(gain) < 0.1, (rows[0].node, before, gain)


def test_a_kept_layer_behind_a_folded_relu_gets_its_relu_back(fixture_path: Path, workdir: Path, int8_cpu,
                                                              fp32_onnx: Path):
    """In the CPU format the quantizer before a Conv may be doing a removed ReLU's clipping; reading the tensor
    before it in floating point must put that ReLU back (the export's parity check fails the graph otherwise)."""
    from gnet.checks.sqnr import qdq_pairs

    folded = next(p.node.name for p in qdq_pairs(onnx.load(str(int8_cpu.path))) if p.folds_relu)
    folder = _beside_fp32(workdir / "keep-relu", fp32_onnx)
    kept = export_model(weights=str(fixture_path), output=folder / "googlenet_int8_cpu.qdq.onnx",
                        precision="int8", int8_target="cpu", keep_fp=[folded],
                        calib=CalibrationSettings(cache_dir=str(workdir / "calibration")))
    model = onnx.load(str(kept.path))
    producer = {o: n for n in model.graph.node for o in n.output}
    node = next(n for n in model.graph.node if n.name == folded)
    assert producer[node.input[0]].op_type == "Relu" and kept.parity.passed
