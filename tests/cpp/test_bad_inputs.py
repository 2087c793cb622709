"""Every bad input gets one sentence on stderr and exit status 1 from gnet-infer: never an abort, a C++ exception
text, or a library's own noise (libpng's warnings, OpenVINO's frontends, TensorFlow's logging)."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from tests.cpp import gnet_infer as cpp
from tests.cpp.plans import fake_plan


@dataclass
class Case:
    """What one test gets: a folder, the fixture's FP32 ONNX, a good digit PNG, and the IR when asked for."""

    folder: Path
    onnx: Path
    png: Path
    ir: Callable[[], Path]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(path: Path, width: int, height: int, depth: int, color: int, pixels: bytes) -> Path:
    """A PNG written by hand: any header, whatever the pixels (a bomb's header need not come with its pixels)."""
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(pixels))
                     + _png_chunk(b"IEND", b""))
    return path


def _cut(source: Path, dest: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    dest.write_bytes(data[:int(len(data) * keep)])
    return dest


def _photo(path: Path, **save: object) -> Path:
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(path, **save)
    return path


def _stripped(c: Case) -> Path:
    model = onnx.load(str(c.onnx))
    del model.metadata_props[:]
    onnx.save(model, str(c.folder / "foreign.onnx"))
    return c.folder / "foreign.onnx"


def _edited_weights(c: Case) -> Path:
    """The FP32 export with one weight tensor's bytes changed in place: a well-formed ONNX, its metadata intact."""
    data = c.onnx.read_bytes()
    weights = max(onnx.load(str(c.onnx)).graph.initializer, key=lambda t: len(t.raw_data)).raw_data
    at = data.index(weights) + len(weights) // 2
    path = c.folder / "edited.onnx"
    path.write_bytes(data[:at] + bytes(64) + data[at + 64:])
    return path


def _ir_copy(c: Case, name: str, weights: Callable[[Path, Path], object] | None) -> Path:
    xml = c.folder / f"{name}.xml"
    shutil.copy(c.ir(), xml)
    if weights:
        weights(c.ir().with_suffix(".bin"), xml.with_suffix(".bin"))
    return xml


def _edited_plan(c: Case) -> Path:
    plan = fake_plan(c.folder, c.onnx)
    plan.write_bytes(plan.read_bytes() + b"!")
    return plan


def _manifest_edit(c: Case, edit: Callable[[dict], object]) -> Path:
    plan = fake_plan(c.folder, c.onnx)
    path = plan.with_suffix(".json")
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return plan


def _npy(c: Case, array: np.ndarray, **save: object) -> Path:
    path = c.folder / "x.npy"
    np.save(path, array, **save)
    return path


def _npy_v3(c: Case) -> Path:
    path = _npy(c, np.zeros((1, 3, 64, 64), np.float32))
    data = bytearray(path.read_bytes())
    data[6] = 3
    path.write_bytes(bytes(data))
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _flip(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _manifest_text(c: Case, text: str) -> Path:
    plan = fake_plan(c.folder, c.onnx)
    plan.with_suffix(".json").write_text(text)
    return plan


ZEROS = np.zeros((1, 3, 64, 64), np.float32)
CASES: dict[str, Callable[[Case], tuple[list[object], tuple[str, ...]]]] = {
    # models
    "missing model": lambda c: ([c.folder / "gone.onnx", c.png], ("gone.onnx does not exist",)),
    "truncated ONNX": lambda c: ([_cut(c.onnx, c.folder / "cut.onnx"), c.png], ("truncated or not an ONNX model",)),
    "random bytes as ONNX": lambda c: ([_write(c.folder / "r.onnx", np.random.default_rng(1).bytes(4000)), c.png],
                                       ("cannot read the ONNX file",)),
    "non-gnet ONNX": lambda c: ([_stripped(c), c.png], ("lacks gnet's metadata", "gnet.precision")),
    "ONNX with edited weights": lambda c: ([_edited_weights(c), c.png], ("does not match its gnet metadata",
                                                                          "gnet.graph_sha256")),
    "IR without its .bin": lambda c: ([_ir_copy(c, "nobin", None), c.png], ("nobin.bin is missing or empty",)),
    "IR with a foreign .bin": lambda c: ([_ir_copy(c, "other", lambda s, d: shutil.copy(c.onnx, d)), c.png],
                                         ("cannot read the OpenVINO IR", "other.xml")),
    "IR with a truncated .bin": lambda c: ([_ir_copy(c, "cut", _cut), c.png], ("cannot read the OpenVINO IR",)),
    "edited plan": lambda c: ([_edited_plan(c), c.png], ("does not match its manifest", "bytes")),
    "edited manifest hash": lambda c: ([_manifest_edit(c, lambda d: d["plan"].update(sha256="0" * 64)), c.png],
                                       ("does not match its manifest", "SHA-256")),
    "manifest not JSON": lambda c: ([_manifest_text(c, "{not json"), c.png], ("is not valid JSON",)),
    "manifest of another format": lambda c: ([_manifest_edit(c, lambda d: d.update(format_version=9)), c.png],
                                             ("has format version 9",)),
    "manifest of another plan": lambda c: ([_manifest_edit(c, lambda d: d["plan"].update(file="other.plan")), c.png],
                                           ("describes other.plan",)),
    "manifest missing": lambda c: ([_write(c.folder / "lonely.plan", b"x"), c.png], ("lonely.json does not exist",)),
    # images
    "corrupt PNG": lambda c: ([c.onnx, _flip(_photo(c.folder / "p.png"))], ("p.png", "corrupt")),
    "truncated PNG": lambda c: ([c.onnx, _cut(_photo(c.folder / "p.png"), c.folder / "t.png")], ("t.png", "truncated")),
    "truncated JPEG": lambda c: ([c.onnx, _cut(_photo(c.folder / "p.jpg"), c.folder / "t.jpg")],
                                 ("t.jpg", "truncated")),
    "20000×20000 PNG": lambda c: ([c.onnx, _png(c.folder / "bomb.png", 20000, 20000, 8, 2, b"\0" * 1000)],
                                  ("bomb.png", "20000×20000", "decompression-bomb")),
    "grayscale PNG": lambda c: ([c.onnx, _png(c.folder / "g.png", 4, 4, 8, 0, b"\0\1\2\3\4" * 4)],
                                ("grayscale PNG", "convert it to an 8-bit RGB")),
    "16-bit PNG": lambda c: ([c.onnx, _png(c.folder / "s.png", 4, 4, 16, 2, (b"\0" + b"\1" * 24) * 4)],
                             ("16-bit PNG", "convert it to an 8-bit RGB")),
    "not an image": lambda c: ([c.onnx, _write(c.folder / "x.png", b"hello")], ("neither a PNG nor a JPEG",)),
    "missing image": lambda c: ([c.onnx, c.folder / "gone.png"], ("gone.png: no such file",)),
    # options and tensors
    "--batch 0": lambda c: ([c.onnx, c.png, "--batch", 0], ("--batch must be at least 1",)),
    "--top-k 0": lambda c: ([c.onnx, c.png, "--top-k", 0], ("--top-k must be at least 1",)),
    "unwritable --json path": lambda c: ([c.onnx, c.png, "--json", c.png / "out.json"], ("cannot write", "out.json")),
    "float64 tensor": lambda c: ([c.onnx, "--input-tensor", _npy(c, ZEROS.astype(np.float64))], ("'<f8'",)),
    "Fortran-order tensor": lambda c: ([c.onnx, "--input-tensor", _npy(c, np.asfortranarray(np.zeros((2, 3, 64, 64),
                                                                                                   np.float32)))],
                                       ("Fortran order",)),
    ".npy version 3.0": lambda c: ([c.onnx, "--input-tensor", _npy_v3(c)], ("version 3.0",)),
    "truncated tensor": lambda c: ([c.onnx, "--input-tensor", _cut(_npy(c, ZEROS), c.folder / "t.npy")],
                                   ("does not fill its shape",)),
    "tensor of another size": lambda c: ([c.onnx, "--input-tensor", _npy(c, np.zeros((1, 3, 32, 32), np.float32))],
                                         ("does not fit", "[1, 3, 32, 32]")),
}


@pytest.fixture()
def case(tmp_path: Path, fp32_onnx: Path, request: pytest.FixtureRequest) -> Case:
    png = tmp_path / "digit.png"
    Image.new("RGB", (8, 8), (200, 10, 10)).save(png)
    return Case(tmp_path, fp32_onnx, png, lambda: request.getfixturevalue("fp32_ir"))


@pytest.mark.parametrize("name", list(CASES))
def test_every_bad_input_is_one_sentence(name: str, case: Case, gnet_infer: Path):
    args, needles = CASES[name](case)
    done = cpp.run(gnet_infer, "--json", case.folder / "answers.json", *args)  # a later --json (a case's) wins
    cpp.assert_one_sentence(done, *needles)
    assert not (case.folder / "answers.json").exists()
    assert not list(case.folder.glob(".answers.json.*")), "a failed run leaves no temporary file"


def test_the_sentence_check_can_fail(case: Case, gnet_infer: Path):
    good = cpp.run(gnet_infer, case.onnx, case.png)
    with pytest.raises(AssertionError):
        cpp.assert_one_sentence(good)
    usage = cpp.run(gnet_infer, case.onnx, case.png, "--no-such-option")
    assert usage.returncode == 2 and "unknown option --no-such-option" in usage.stderr and usage.stdout == ""
    with pytest.raises(AssertionError):
        cpp.assert_one_sentence(usage)  # two lines (usage and error) and status 2: not the one-sentence kind


def test_an_unwritable_output_fails_before_the_model_is_read(case: Case, gnet_infer: Path):
    done = cpp.run(gnet_infer, case.folder / "gone.onnx", case.png, "--output-tensor", case.png / "y.npy")
    cpp.assert_one_sentence(done, "cannot write", "y.npy")
