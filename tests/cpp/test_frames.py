"""Camera frames in C++: a graph exported with ``--input-type uint8-nhwc`` (and its OpenVINO IR) takes the resized,
cropped uint8 RGB pixels of PNG files through gnet::load_frame and Runner::infer_frames, and its logits equal
Python's on the same pixels; --input-tensor takes uint8 frames for it; feeding one input type to the other, or a
contract that contradicts the graph, is one sentence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from gnet.checks.images import digits_split, digits_to_pil, preprocess, to_frames
from gnet.runners import OpenVINORunner
from tests.cpp import gnet_infer as cpp
from tests.cpp.plans import fake_plan
from tests.cpp.test_parity import relative_max, within

KINDS = ("fp32", "fp16", "int8", "int8-cpu", "fp16-ir")
"""Each frame graph of the session (tests/conftest.py, ``frame_graphs``), and the FP16 one's IR."""
SIZE = 64


@pytest.fixture(scope="module")
def frame_pngs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Six held-out digits and two photos (a real downscale) as PNG files: ``digits/`` and ``photos/``."""
    import skimage.data

    folder = tmp_path_factory.mktemp("frame-pngs")
    (folder / "digits").mkdir()
    (folder / "photos").mkdir()
    _, images, labels = digits_split("eval")
    paths = [folder / "digits" / f"digit_{i}_{label}.png" for i, label in enumerate(labels[:6])]
    for image, path in zip(digits_to_pil(images[:6]), paths):
        image.save(path)
    for name in ("chelsea", "coffee"):
        paths.append(folder / "photos" / f"{name}.png")
        Image.fromarray(np.asarray(getattr(skimage.data, name)())).save(paths[-1])
    return paths


@pytest.fixture(scope="module")
def python_frames(frame_pngs: list[Path]) -> np.ndarray:
    """What gnet's Python feeds a frame graph for these files: its preprocessing's exact 8-bit pixels, NHWC."""
    return to_frames(preprocess((Image.open(p) for p in frame_pngs), SIZE, len(frame_pngs)))


@pytest.fixture(scope="module")
def frame_models(frame_graphs: dict[str, Path], frame_pngs: list[Path],
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The frame graphs and the FP16 frame graph's IR (gnet openvino, proven on the digits at batch 6)."""
    from gnet.openvino_ir.export import export_openvino

    xml = tmp_path_factory.mktemp("frame-ir") / "googlenet_fp16_uint8.xml"
    ir = export_openvino(frame_graphs["fp16"], output=xml, images=frame_pngs[0].parent, batches=[6]).path
    return {**frame_graphs, "fp16-ir": ir}


@pytest.fixture(scope="module")
def image_runs(gnet_infer: Path, frame_models: dict[str, Path], frame_pngs: list[Path],
               tmp_path_factory: pytest.TempPathFactory):
    """``image_runs(kind)``: gnet-infer on the PNG files in one batch, as (the frames it fed, its logits); each
    kind run once per module."""
    done: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def run(kind: str) -> tuple[np.ndarray, np.ndarray]:
        if kind not in done:
            folder = tmp_path_factory.mktemp(f"frames-{kind}")
            fed, logits = folder / "fed.npy", folder / "logits.npy"
            result = cpp.run(gnet_infer, frame_models[kind], *frame_pngs, "--batch", len(frame_pngs), "--json",
                             folder / "answers.json", "--write-input", fed, "--output-tensor", logits)
            assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stderr
            done[kind] = np.load(fed), np.load(logits)
        return done[kind]

    return run


@pytest.mark.parametrize("kind", KINDS)
def test_cpp_logits_from_png_files_equal_pythons_on_the_frame_graph(kind: str, image_runs, frame_models,
                                                                    python_frames: np.ndarray):
    """gnet-infer decodes, resizes and crops the PNG files into Python's exact pixels (load_frame), feeds them as
    they are (infer_frames), and gets the logits Python's OpenVINO gets from the same file on the same frames."""
    fed, cpp_logits = image_runs(kind)
    assert fed.dtype == np.uint8 and fed.shape == python_frames.shape == (8, SIZE, SIZE, 3)
    assert np.array_equal(fed, python_frames)  # --write-input writes what was fed: the frames, uint8 NHWC
    with OpenVINORunner(frame_models[kind]) as runner:
        python_logits = runner.infer(python_frames)
    precision = kind.split("-")[0]
    assert cpp_logits.shape == python_logits.shape == (8, 10)
    assert within(precision, python_logits, cpp_logits), relative_max(python_logits, cpp_logits)
    assert within("fp32", python_logits, cpp_logits)  # the same runtime with the same hint: FP32's bound holds too
    moved = cpp_logits.copy()  # the comparison can fail: one logit moved by 1% of the logit scale
    moved[3, 0] += 0.01 * np.abs(python_logits).max()
    assert not within("fp32", python_logits, moved)


def test_uint8_frames_through_input_tensor_equal_the_image_path(gnet_infer: Path, frame_models, image_runs,
                                                               python_frames: np.ndarray, tmp_path: Path):
    fed, from_images = image_runs("fp32")  # what --write-input wrote, fed back
    assert np.array_equal(fed, python_frames)
    np.save(tmp_path / "frames.npy", fed)
    done = cpp.run(gnet_infer, frame_models["fp32"], "--input-tensor", tmp_path / "frames.npy", "--batch", 8,
                   "--output-tensor", tmp_path / "logits.npy", "--json", "--top-k", 1)
    assert done.returncode == 0, done.stderr
    assert [a["image"] for a in json.loads(done.stdout)][:2] == [f"{tmp_path / 'frames.npy'}[{i}]" for i in (0, 1)]
    assert np.array_equal(np.load(tmp_path / "logits.npy"), from_images)


def _with_input_type(source: Path, folder: Path, value: str) -> Path:
    """``source`` with gnet.input_type set to ``value`` (metadata only: the graph and its SHA-256 unchanged)."""
    model = onnx.load(str(source))
    entries = {p.key: p for p in model.metadata_props}
    entry = entries.get("gnet.input_type") or model.metadata_props.add(key="gnet.input_type")
    entry.value = json.dumps(value)
    path = folder / f"edited_{source.name}"
    onnx.save(model, str(path))
    return path


def _npy(folder: Path, array: np.ndarray) -> Path:
    np.save(folder / "x.npy", array)
    return folder / "x.npy"


MISUSES = {
    "float tensor to a frame graph": lambda f, frames, floats: (
        [frames, "--input-tensor", _npy(f, np.zeros((1, 3, SIZE, SIZE), np.float32))],
        ("does not fit", "it is float32 [1, 3, 64, 64]", "uint8 camera frames [images, 64, 64, 3]")),
    "frames to a float graph": lambda f, frames, floats: (
        [floats, "--input-tensor", _npy(f, np.zeros((1, SIZE, SIZE, 3), np.uint8))],
        ("does not fit", "it is uint8 [1, 64, 64, 3]", "normalized float32 images [images, 3, 64, 64]")),
    "frames of another size": lambda f, frames, floats: (
        [frames, "--input-tensor", _npy(f, np.zeros((1, 32, 32, 3), np.uint8))],
        ("does not fit", "it is [1, 32, 32, 3], not [images, 64, 64, 3]")),
    "a frame graph whose gnet.input_type says float": lambda f, frames, floats: (
        [_with_input_type(frames, f, "float-nchw"), f / "digit.png"],
        ("does not match its gnet metadata", "its input 'input' is uint8 [?, 64, 64, 3] (camera frames)",
         "gnet.input_type is float-nchw")),
    "a float graph whose gnet.input_type says frames": lambda f, frames, floats: (
        [_with_input_type(floats, f, "uint8-nhwc"), f / "digit.png"],
        ("does not match its gnet metadata", "is float32 [?, 3, 64, 64] (float images)",
         "gnet.input_type is uint8-nhwc")),
    "an unknown gnet.input_type": lambda f, frames, floats: (
        [_with_input_type(floats, f, "uint8-nchw"), f / "digit.png"],
        ("unusable gnet metadata", "gnet.input_type is \"uint8-nchw\", not float-nchw or uint8-nhwc")),
}


@pytest.mark.parametrize("name", list(MISUSES))
def test_each_misuse_is_one_sentence(name: str, gnet_infer: Path, frame_graphs: dict[str, Path], fp32_onnx: Path,
                                     tmp_path: Path):
    Image.new("RGB", (8, 8), (10, 200, 10)).save(tmp_path / "digit.png")
    args, needles = MISUSES[name](tmp_path, frame_graphs["fp32"], fp32_onnx)
    cpp.assert_one_sentence(cpp.run(gnet_infer, *args), *needles)


def _frame_plan(folder: Path, frame_onnx: Path, input_type: str) -> Path:
    """A plan whose manifest records a frame graph's input (uint8 [-1, 64, 64, 3]) as gnet build writes it, with
    ``input_type`` as given."""
    plan = fake_plan(folder, frame_onnx)
    path = plan.with_suffix(".json")
    doc = json.loads(path.read_text())
    dims = [SIZE, SIZE, 3]
    doc["input_type"] = input_type
    doc["inputs"][0].update(dtype="uint8", shape=[-1, *dims],
                            profile={"min": [1, *dims], "opt": [4, *dims], "max": [8, *dims]})
    path.write_text(json.dumps(doc))
    return plan


def test_a_frame_plans_manifest_is_read_and_a_contradicting_one_refused(gnet_infer: Path, frame_graphs, tmp_path):
    """The manifest's input_type and uint8 input reach the TensorRT runner (which then needs TensorRT, absent
    here); a manifest whose input_type contradicts its input is refused before any library is loaded."""
    shutil.copy(frame_graphs["fp32"], tmp_path / frame_graphs["fp32"].name)
    Image.new("RGB", (8, 8), (10, 200, 10)).save(tmp_path / "digit.png")
    plan = _frame_plan(tmp_path, tmp_path / frame_graphs["fp32"].name, "uint8-nhwc")
    sentence = cpp.assert_one_sentence(cpp.run(gnet_infer, plan, tmp_path / "digit.png"))
    assert "does not match its" not in sentence and any(  # past the contract: what this machine lacks or has
        reason in sentence for reason in ("TensorRT is not installed here", "built without TensorRT", "no CUDA GPU",
                                          "does not match this machine")), sentence
    plan = _frame_plan(tmp_path, tmp_path / frame_graphs["fp32"].name, "float-nchw")
    cpp.assert_one_sentence(cpp.run(gnet_infer, plan, tmp_path / "digit.png"), "does not match its manifest",
                            "the manifest's input_type is float-nchw", "rebuild both with gnet build")
