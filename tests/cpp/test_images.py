"""Images end to end: gnet-infer decodes PNG and JPEG files and preprocesses them as gnet's Python does (Pillow's
bilinear resize, centre crop, mean/std), so its answers on the 540 held-out digits agree with Python's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gnet.checks.images import digits_split, digits_to_pil, preprocess
from gnet.runners import OpenVINORunner
from tests.cpp import gnet_infer as cpp

AGREEMENT = 0.995
"""Top-1 agreement with Python on the held-out digits (the issue's bound)."""


def python_tensor(paths: list[Path]) -> np.ndarray:
    """What gnet's Python feeds for these files: checks/images.py's preprocessing of the opened images."""
    return preprocess((Image.open(p) for p in paths), 64, len(paths))


@pytest.fixture(scope="module")
def digit_pngs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The 540 held-out digits as 8-bit RGB PNG files, as a user would have them."""
    folder = tmp_path_factory.mktemp("digits")
    index, images, _ = digits_split("eval")
    paths = [folder / f"digit_{i:04d}.png" for i in index]
    for image, path in zip(digits_to_pil(images), paths):
        image.save(path)
    return paths


def test_the_held_out_digits_get_pythons_answers(gnet_infer: Path, fp32_onnx: Path, digit_pngs: list[Path],
                                                 tmp_path: Path):
    report, tensor = tmp_path / "answers.json", tmp_path / "input.npy"
    done = cpp.run(gnet_infer, fp32_onnx, *digit_pngs, "--batch", 64, "--json", report, "--write-input", tensor)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stderr
    answers = json.loads(report.read_text())
    reference = python_tensor(digit_pngs)
    with OpenVINORunner(fp32_onnx) as runner:
        python_top1 = runner.infer(reference).argmax(axis=1)

    assert [a["image"] for a in answers] == [str(p) for p in digit_pngs]  # one object per image, in input order
    cpp_top1 = np.array([a["top"][0]["index"] for a in answers])
    agreement = float((cpp_top1 == python_top1).mean())
    delta = float(np.abs(np.load(tensor) - reference).max())
    assert agreement >= AGREEMENT and delta == 0.0, (agreement, delta)  # PNG: the very same input tensor
    assert float((np.roll(cpp_top1, 1) == python_top1).mean()) < AGREEMENT  # answers out of order would fail


def test_the_preprocessing_is_pillows_at_every_shape(gnet_infer: Path, fp32_onnx: Path, tmp_path: Path):
    """Down- and upscaling, odd crops (Python rounds (side - 64) / 2 half to even), thin strips, RGBA and palette
    files: the C++ tensor equals Python's bit for bit."""
    rng = np.random.default_rng(7)
    sizes = [(8, 8), (73, 146), (75, 300), (333, 517), (1024, 768), (3, 500), (639, 480), (74, 73), (65, 64)]
    paths = []
    for width, height in sizes:
        noise = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None].astype(np.uint8)
        paths.append(tmp_path / f"{width}x{height}.png")
        Image.fromarray(noise // 4 + ramp // 2).save(paths[-1])
    Image.fromarray(rng.integers(0, 256, (90, 120, 4), dtype=np.uint8), "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)).convert("P").save(tmp_path / "palette.png")
    paths += [tmp_path / "rgba.png", tmp_path / "palette.png"]
    done = cpp.run(gnet_infer, fp32_onnx, *paths, "--write-input", tmp_path / "input.npy", "--json")
    assert done.returncode == 0, done.stderr
    cpp_tensor, reference = np.load(tmp_path / "input.npy"), python_tensor(paths)

    assert cpp_tensor.dtype == np.float32 and cpp_tensor.shape == (len(paths), 3, 64, 64)
    assert [float(np.abs(c - r).max()) for c, r in zip(cpp_tensor, reference)] == [0.0] * len(paths)
    # Sensitive to one intensity level: the 75×300 file resized with Pillow's two passes in the other order
    # (horizontal first, as Pillow before 13 always ran them) differs by one level at some pixels.
    tall = Image.open(paths[2]).convert("RGB")
    other_order = tall.resize((73, 300), Image.Resampling.BILINEAR).resize((73, 292), Image.Resampling.BILINEAR)
    assert 0 < np.abs(preprocess([other_order], 64)[0] - cpp_tensor[2]).max() <= 1.01 / 255 / 0.224


def test_a_jpeg_photo_matches_python(gnet_infer: Path, fp32_onnx: Path, tmp_path: Path):
    """libjpeg(-turbo) here and Pillow's bundled one both decode with the islow DCT and fancy upsampling."""
    import skimage.data

    photo = tmp_path / "chelsea.jpg"
    Image.fromarray(np.asarray(skimage.data.chelsea())).save(photo, quality=90)
    done = cpp.run(gnet_infer, fp32_onnx, photo, "--write-input", tmp_path / "input.npy", "--output-tensor",
                   tmp_path / "logits.npy", "--json")
    assert done.returncode == 0, done.stderr
    reference = python_tensor([photo])
    with OpenVINORunner(fp32_onnx) as runner:
        python_logits = runner.infer(reference)
    delta = float(np.abs(np.load(tmp_path / "input.npy") - reference).max())
    one_level = 1 / 255 / 0.224  # one intensity level, normalized by the smallest std
    assert delta <= 2 * one_level, delta
    assert int(np.load(tmp_path / "logits.npy").argmax()) == int(python_logits.argmax())
    assert json.loads(done.stdout)[0]["top"][0]["index"] == int(python_logits.argmax())
