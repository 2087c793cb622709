"""What the real-TensorRT-RTX tests share: the real module (installed by ``make install``), parsing through gnet."""

from __future__ import annotations

from pathlib import Path

import onnx

from gnet.engines.editions import TENSORRT_RTX
from gnet.engines.network import ParsedNetwork, parse_network
from gnet.engines.trt_import import import_runtime
from gnet.engines.trt_logger import logger_for


def real_rtx():
    """The installed tensorrt_rtx (gnet's import: a missing or too-old one fails the test with gnet's sentence)."""
    return import_runtime(TENSORRT_RTX)


def parse(model: onnx.ModelProto | Path, tmp_path: Path, name: str = "model.onnx") -> ParsedNetwork:
    """``model`` parsed by the real TensorRT-RTX parser through gnet's ``parse_network``."""
    trt = real_rtx()
    path = model if isinstance(model, Path) else tmp_path / name
    if not isinstance(model, Path):
        onnx.save(model, path)
    return parse_network(trt, TENSORRT_RTX, logger_for(trt), path)
