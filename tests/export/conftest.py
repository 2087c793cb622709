"""Session-wide artifacts of the trained fixture: FP16 and both INT8 graphs, made once and shared by the
convert, fp16, qdq_rules, quantize, calibration and sqnr tests (each export takes a while on 2 cores)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnet.export.api import export_model
from gnet.export.calibration import CalibrationSettings
from tests.helpers.fixture import fixture_checkpoint


@pytest.fixture(scope="session")
def fixture_path() -> Path:
    return fixture_checkpoint()


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("precision")


@pytest.fixture(scope="session")
def fp16(fixture_path: Path, workdir: Path):
    return export_model(weights=str(fixture_path), output=workdir / "googlenet_fp16.onnx", precision="fp16")


@pytest.fixture(scope="session")
def int8_trt(fixture_path: Path, workdir: Path):
    calib = CalibrationSettings(cache_dir=str(workdir / "calibration"))
    return export_model(weights=str(fixture_path), output=workdir / "googlenet_int8.qdq.onnx", precision="int8", calib=calib)


@pytest.fixture(scope="session")
def int8_cpu(fixture_path: Path, workdir: Path, int8_trt):
    calib = CalibrationSettings(cache_dir=str(workdir / "calibration"))
    return export_model(weights=str(fixture_path), output=workdir / "googlenet_int8_cpu.qdq.onnx", precision="int8",
                        int8_target="cpu", calib=calib)


@pytest.fixture(scope="session")
def exported_aux(aux_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "googlenet_fp32.onnx"
    export_model(weights=str(aux_checkpoint), output=out, batches=[1, 3, 8])
    return out
