"""Where INT8 hurts: the lowest-SQNR layers, and --keep-fp leaving them in floating point."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from gnet.errors import GnetError
from gnet.export import metadata
from gnet.export.api import check_model, export_model
from gnet.export.calibration import CalibrationSettings

pytestmark = pytest.mark.slow


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
