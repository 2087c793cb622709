"""OpenVINO IR export: a proven .xml/.bin pair with gnet's metadata and FP32 weights kept, nothing written when
parity fails, ``check`` accepting it, and one sentence for every kind of bad IR file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from gnet.checks.check import check_model
from gnet.checks.images import ImageSet
from gnet.checks.parity import ParityError, check_logits
from gnet.errors import GnetError, UsageError
from gnet.export.hashing import sha256_file
from gnet.openvino_ir import runtime as ovr
from gnet.openvino_ir.export import export_openvino
from gnet.openvino_ir.ir import check_interface, ir_metadata, read_ir, write_ir
from tests.helpers import tiny_onnx


@pytest.fixture(scope="module")
def exported(random64, tmp_path_factory: pytest.TempPathFactory):
    """The seeded 64-px FP32 GoogLeNet as an IR."""
    return export_openvino(random64("fp32"), output=tmp_path_factory.mktemp("ir") / "googlenet_fp32.xml")


def test_the_pair_is_proven_and_carries_gnets_metadata(exported, random64):
    xml, onnx_path = exported.path, random64("fp32")
    assert exported.parity.passed and exported.weights_path == xml.with_suffix(".bin") and exported.weights_path.is_file()
    assert sorted(p.name for p in xml.parent.iterdir()) == ["googlenet_fp32.bin", "googlenet_fp32.xml"]  # no temporaries
    meta = ir_metadata(read_ir(xml))
    onnx_meta = exported.metadata
    assert meta["precision"] == "fp32" and meta["weights_sha256"] == onnx_meta["weights_sha256"]
    assert meta["image_size"] == 64 and meta["class_names"] == onnx_meta["class_names"]  # JSON-decoded as from an ONNX
    assert meta["format"] == "openvino-ir" and meta["source_onnx"] == onnx_path.name
    assert meta["source_onnx_sha256"] == sha256_file(onnx_path) and meta["openvino_version"] == ovr.version()
    assert 'element_type="f16"' not in xml.read_text()  # FP32 weights are not rounded to FP16
    assert exported.notes == [f"OpenVINO {ovr.version()} ran it as f32"]


def test_check_accepts_the_ir(exported):
    result = check_model(exported.path, batches=[2])
    assert result.parity.passed and result.parity.precision == "fp32" and result.parity.artifact == "googlenet_fp32.xml"
    assert [row.batch for row in result.parity.checks] == [2] and result.notes == exported.notes
    with pytest.raises(UsageError, match="only an OpenVINO IR's weights"):
        check_model(exported.path.with_suffix(".bin"))


def test_the_cpu_format_int8_graph_exports_and_runs_quantized(random64, tmp_path: Path):
    result = export_openvino(random64("int8-cpu"), output=tmp_path / "int8.xml", batches=[8])
    assert result.parity.passed and result.parity.precision == "int8"
    assert result.notes[0].endswith("ran it as u8 convolutions, f32 elsewhere")


def test_a_parity_failure_writes_nothing_and_keeps_the_previous_pair(exported, random64, tmp_path: Path):
    dest = tmp_path / "googlenet_fp32.xml"
    shutil.copy(exported.path, dest)
    shutil.copy(exported.weights_path, dest.with_suffix(".bin"))
    before = (dest.read_bytes(), dest.with_suffix(".bin").read_bytes())
    model = onnx.load(str(random64("fp32")))  # the weights changed, the metadata (and so the reference) not
    conv = next(init for init in model.graph.initializer if len(init.dims) == 4)
    weights = onnx.numpy_helper.to_array(conv)
    conv.CopyFrom(onnx.numpy_helper.from_array((weights * 1.5).astype(np.float32), conv.name))
    tampered = tmp_path / "tampered.onnx"
    onnx.save(model, str(tampered))
    with pytest.raises(ParityError, match="nothing was written") as info:
        export_openvino(tampered, output=dest, batches=[8])
    assert "googlenet_fp32.xml does not match PyTorch FP32" in str(info.value)
    assert (dest.read_bytes(), dest.with_suffix(".bin").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["googlenet_fp32.bin", "googlenet_fp32.xml", "tampered.onnx"]


@pytest.fixture()
def tiny_ir(tmp_path: Path) -> Path:
    """A tiny model's IR, written through write_ir with a real parity check against ONNX Runtime."""
    source = tiny_onnx.write(tmp_path, "fp32")
    x = tiny_onnx.images(4)
    reference = tiny_onnx.ort_logits(source, x)
    images = ImageSet(data=x, names=[str(i) for i in range(4)], source="tiny")

    def prove(model):
        compiled = ovr.compile_cpu(model, "fp32")
        return check_logits("tiny.xml", lambda data, batch: ovr.infer_batched(compiled, data, batch), reference,
                            images, "fp32", "tiny")

    xml = tmp_path / "ir" / "tiny.xml"
    assert write_ir(source, xml, prove).passed
    return xml


def test_an_ir_from_plain_save_model_still_has_the_onnx_metadata(tmp_path: Path):
    import openvino as ov

    source = tiny_onnx.write(tmp_path, "fp32")
    ov.save_model(ovr.core().read_model(str(source)), str(tmp_path / "plain.xml"), compress_to_fp16=False)
    assert ir_metadata(read_ir(tmp_path / "plain.xml"))["precision"] == "fp32"


def test_the_interface_is_checked(tiny_ir: Path):
    model = read_ir(tiny_ir)
    check_interface(model, tiny_onnx.CLASSES, tiny_onnx.SIZE)
    with pytest.raises(GnetError, match=r"the IR's 'logits' has shape \[batch, 10\]"):
        check_interface(model, 1000, tiny_onnx.SIZE)
    with pytest.raises(GnetError, match=r"the IR's 'input' has shape \[batch, 3, 32, 32\]"):
        check_interface(model, tiny_onnx.CLASSES, 224)


def test_an_output_not_named_xml_is_refused(tmp_path: Path):
    with pytest.raises(UsageError, match="its name must end in .xml"):
        write_ir(tiny_onnx.write(tmp_path, "fp32"), tmp_path / "model.ir", lambda model: None)
    assert not (tmp_path / "model.ir").exists()


def _damage(xml: Path, how: str) -> Path:
    weights = xml.with_suffix(".bin")
    if how == "bin missing":
        weights.unlink()
    elif how == "bin truncated":
        weights.write_bytes(weights.read_bytes()[:100])
    elif how == "xml truncated":
        xml.write_bytes(xml.read_bytes()[: len(xml.read_bytes()) // 2])
    elif how == "not xml":
        xml.write_bytes(b"\x00\x01 not xml")
    elif how == "an onnx named .xml":
        xml.write_bytes(tiny_onnx.build("fp32").SerializeToString())
    elif how == "xml missing":
        xml.unlink()
    return xml


@pytest.mark.parametrize("how, why", [
    ("bin missing", "its weights file tiny.bin is missing or empty"),
    ("bin truncated", "Incorrect weights in bin file"),
    ("xml truncated", "Error parsing"),
    ("not xml", "it is not an OpenVINO IR (no XML header)"),
    ("an onnx named .xml", "it is not an OpenVINO IR (no XML header)"),
    ("xml missing", "no such file"),
])
def test_a_bad_ir_is_one_sentence(tiny_ir: Path, how: str, why: str):
    with pytest.raises(GnetError) as info:
        read_ir(_damage(tiny_ir, how))
    text = str(info.value)
    assert text.startswith(f"cannot read the OpenVINO IR {tiny_ir}: ") and why in text
    assert "\n" not in text and "core.cpp" not in text and "Exception from" not in text
