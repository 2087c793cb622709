"""Hostile images: a decompression bomb is refused by its header, naming the file, in export and bench alike."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.helpers.cli import assert_one_sentence_failure, invoke


def test_a_20000_by_10000_png_is_one_sentence(tmp_path: Path):
    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("L", (20000, 10000)).save(folder / "bomb.png")  # 200 megapixels, a few hundred kB on disk
    export = invoke("export", "--weights", "random", "--image-size", "64", "--images", str(folder),
                    "-o", str(tmp_path / "m.onnx"))
    assert_one_sentence_failure(export, "cannot read image", "bomb.png", "decompression-bomb check")
    assert not (tmp_path / "m.onnx").exists()
    bench = invoke("bench", "--backend", "ort-cpu:default", "--precision", "fp32", "--weights", "random",
                   "--image-size", "64", "--images", str(folder), "--artifacts", str(tmp_path / "art"))
    assert_one_sentence_failure(bench, "bomb.png", "decompression-bomb check")


def test_an_image_just_under_the_limit_is_checked_by_size_not_refused_blindly(tmp_path: Path):
    from gnet.checks.images import MAX_IMAGE_PIXELS, load_folder

    folder = tmp_path / "ok"
    folder.mkdir()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(folder / "small.png")
    assert load_folder(folder, 64).data.shape == (1, 3, 64, 64)
    assert MAX_IMAGE_PIXELS < 20000 * 10000
