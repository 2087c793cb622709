"""Where INT8 hurts: the lowest-SQNR layers, and --keep-fp leaving them in floating point."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
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


@pytest.fixture(scope="module")
def logits_reference(fp32_onnx: Path):
    """The 256 held-out digits and the FP32 ONNX's logits on them: what every logits' SQNR here is measured against."""
    from gnet.checks.ort import cpu_session, run_batched

    images = _digits(256)
    return images, run_batched(cpu_session(fp32_onnx), images.data, 64)


@pytest.mark.parametrize("fmt,target", [("int8_trt", "tensorrt"), ("int8_cpu", "cpu")])
def test_no_layer_of_a_good_int8_graph_is_marked_and_keeping_the_worst_gains_little(
        fixture_path: Path, workdir: Path, fp32_onnx: Path, fmt: str, target: str, logits_reference,
        request: pytest.FixtureRequest):
    """gnet's INT8 graphs spread their noise over many layers of similar SQNR: no single one holds a large share
    of it (the loudest 0.10), so none is marked, and keeping the loudest in floating point indeed barely moves
    the logits (the TensorRT format: 0.2 dB on AMD EPYC Zen 3, 0.045 dB on Zen 4; the CPU format 0.01 dB on
    both; the bound is 0.5). The kept layer reads its input in floating point in both formats."""
    from gnet.checks.sqnr import (
        KEEP_FP_MIN_SHARE,
        keep_fp_candidates,
        layer_noise,
        noise_shares,
        output_sqnr_db,
        qdq_pairs,
    )

    images, reference = logits_reference
    original = request.getfixturevalue(fmt).path
    before = output_sqnr_db(original, images, reference)
    rows = layer_noise(original, images, fp32_onnx)
    assert max(noise_shares(rows)) < KEEP_FP_MIN_SHARE and keep_fp_candidates(rows, before) == [], (rows[0], before)
    folder = _beside_fp32(workdir / f"keep-{target}", fp32_onnx)
    kept = export_model(weights=str(fixture_path), output=folder / Path(original).name,
                        precision="int8", int8_target=target, keep_fp=[rows[0].node],
                        calib=CalibrationSettings(cache_dir=str(workdir / "calibration")))
    assert rows[0].node not in {p.node.name for p in qdq_pairs(onnx.load(str(kept.path)))}
    gain = output_sqnr_db(kept.path, images, reference) - before
    assert abs(gain) < 0.5, (rows[0].node, before, gain)


STEM_CONV = "/conv3/conv/Conv"  # the stem's 3×3 Conv: its input Q/DQ feeds no other layer
BRANCH_CONV = "/inception4a/branch2/branch2.1/conv/Conv"  # likewise, deep in the network
COARSER = 16.0  # 4 bits fewer: a 17-dB own SQNR where every other layer has 37 dB or more


def _coarsened(model: onnx.ModelProto, nodes: list[str]) -> onnx.ModelProto:
    """``model`` with the QuantizeLinear/DequantizeLinear pair before each of ``nodes`` quantizing COARSER times
    coarser: both read one scale initializer, which is scaled, so the pair stays consistent (no mismatch)."""
    from onnx import numpy_helper

    edited = onnx.ModelProto()
    edited.CopyFrom(model)
    producer = {o: n for n in edited.graph.node for o in n.output}
    scales = {t.name: t for t in edited.graph.initializer}
    for name in nodes:
        dq = producer[next(n for n in edited.graph.node if n.name == name).input[0]]
        q = producer[dq.input[0]]
        assert (q.op_type, dq.op_type) == ("QuantizeLinear", "DequantizeLinear") and q.input[1] == dq.input[1], name
        scale = scales[q.input[1]]
        scale.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(scale) * np.float32(COARSER), scale.name))
    return edited


def _kept_in_float(model: onnx.ModelProto, node: str) -> onnx.ModelProto:
    """``model`` with ``node`` reading the tensor its input QuantizeLinear quantized: its Q/DQ pair dropped."""
    edited = onnx.ModelProto()
    edited.CopyFrom(model)
    producer = {o: n for n in edited.graph.node for o in n.output}
    layer = next(n for n in edited.graph.node if n.name == node)
    layer.input[0] = producer[producer[layer.input[0]].input[0]].input[0]
    onnx.checker.check_model(edited)  # the orphaned Q/DQ pair stays: ONNX Runtime drops its unused outputs
    return edited


def _marked_in_table(rows, output_db: float) -> list[str]:
    from rich.console import Console

    from gnet.cli.common import noise_table

    console = Console(width=250, record=True)
    console.print(noise_table(rows, output_db=output_db))
    return [line.split()[1] for line in console.export_text().splitlines() if "worth it" in line]


def test_one_dominant_noisy_layer_is_marked_and_keeping_it_raises_the_end_to_end_sqnr(
        int8_trt, fp32_onnx: Path, tmp_path: Path, logits_reference):
    """The suggestion made real: one layer quantized 16 times coarser holds most of the layers' own noise (0.91
    of it on AMD EPYC Zen 4), the table marks it alone, and reading its input in floating point raises the
    logits' SQNR by 8.9 dB on that CPU. The bound is 4 dB: the gain is this layer's noise at the logits (36.9 dB,
    from Q/DQ arithmetic the same everywhere; coarse codes within ±8 cannot saturate AVX2's 16-bit sums) against
    what the good graph's layers add, 44.0 dB on Zen 3 (AVX2) instead of 45.2: about 8 dB there too."""
    from gnet.checks.sqnr import keep_fp_candidates, layer_noise, output_sqnr_db

    images, reference = logits_reference
    coarse, kept = tmp_path / "coarse.onnx", tmp_path / "kept.onnx"
    onnx.save(_coarsened(onnx.load(str(int8_trt.path)), [STEM_CONV]), str(coarse))
    before = output_sqnr_db(coarse, images, reference)
    rows = layer_noise(coarse, images, fp32_onnx)
    assert [row.node for row in keep_fp_candidates(rows, before)] == [STEM_CONV], (rows[:2], before)
    assert _marked_in_table(rows, before) == [STEM_CONV]
    onnx.save(_kept_in_float(onnx.load(str(coarse)), STEM_CONV), str(kept))
    gain = output_sqnr_db(kept, images, reference) - before
    assert gain > 4.0, (before, gain)


def test_two_equally_coarse_layers_are_both_marked(int8_trt, fp32_onnx: Path, tmp_path: Path, logits_reference):
    """Two layers quantized 16 times coarser hold about half the layers' own noise each (0.48 on AMD EPYC Zen 4):
    both are above the threshold, and no other layer is marked."""
    from gnet.checks.sqnr import keep_fp_candidates, layer_noise, output_sqnr_db

    images, reference = logits_reference
    coarse = tmp_path / "coarse.onnx"
    onnx.save(_coarsened(onnx.load(str(int8_trt.path)), [STEM_CONV, BRANCH_CONV]), str(coarse))
    rows = layer_noise(coarse, images, fp32_onnx)
    marked = keep_fp_candidates(rows, output_sqnr_db(coarse, images, reference))
    assert sorted(row.node for row in marked) == sorted([STEM_CONV, BRANCH_CONV]), rows[:3]


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
