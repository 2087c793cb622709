"""The C++ tests' fixtures: gnet-infer built once per session, and the trained fixture's 64-px exports
(tests/conftest.py) plus its OpenVINO IR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.cpp import gnet_infer as cpp


@pytest.fixture(scope="session")
def gnet_infer() -> Path:
    """The built gnet-infer; a failed build fails every C++ test with the compiler's own words."""
    try:
        return cpp.build()
    except cpp.BuildFailed as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def fp32_ir(fp32_onnx: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture's FP32 export as an OpenVINO IR (gnet openvino), its parity proven on four photos at batch 4."""
    import skimage.data

    from gnet.openvino_ir.export import export_openvino

    photos = tmp_path_factory.mktemp("ir-photos")
    for name in ("chelsea", "coffee", "rocket", "astronaut"):
        Image.fromarray(np.asarray(getattr(skimage.data, name)())).save(photos / f"{name}.png")
    out = tmp_path_factory.mktemp("ir") / "googlenet_fp32.xml"
    return export_openvino(fp32_onnx, output=out, images=photos, batches=[4]).path


@pytest.fixture(scope="session")
def fp16_io_onnx(fp32_onnx: Path, fp16, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An FP16 graph with float16 input and output, as ``gnet export --precision fp16 --io-dtype fp16`` writes it,
    made here from the fixture's FP32 export with gnet's own converter and the FP16 export's metadata (without the
    export's parity run, which the FP16 artifact already had: the tests compare it with Python on the same file)."""
    import onnx

    from gnet.export import metadata
    from gnet.precision.fp16 import convert_fp16

    model = convert_fp16(onnx.load(str(fp32_onnx)), io_dtype="fp16")
    recorded = metadata.read(onnx.load(str(fp16.path), load_external_data=False))
    metadata.stamp(model, {**recorded, "io_dtype": "fp16"})
    path = tmp_path_factory.mktemp("fp16-io") / "googlenet_fp16.onnx"
    onnx.save(model, str(path))
    return path
