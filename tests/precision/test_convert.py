"""FP16 and INT8 graphs of the trained fixture meet their bars against PyTorch FP32 (ONNX Runtime, CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnet.errors import GnetError
from gnet.export.api import export_model
from gnet.precision.calibration import CalibrationSettings

pytestmark = pytest.mark.slow


def _worst(result):
    return min(result.parity.checks, key=lambda r: r.metrics.top1_agreement).metrics


def test_fp16_meets_its_bars_on_the_fixture(fp16):
    m = _worst(fp16)
    assert m.count == 540  # the whole held-out split
    assert m.top1_agreement == 1.0
    assert m.cosine_min >= 0.9999


def test_int8_meets_its_bars_on_the_fixture(int8_trt, int8_cpu):
    for result in (int8_trt, int8_cpu):
        m = _worst(result)
        assert m.count == 540
        assert m.top1_agreement >= 0.99, result.path
        assert m.accuracy_drop <= 0.5, result.path


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
