from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gnet.checks.images import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    digits_split,
    load_folder,
    load_images,
    load_packaged_photos,
)
from gnet.errors import GnetError


def test_packaged_photos_are_real_preprocessed_images():
    photos = load_packaged_photos(224)
    assert len(photos) >= 8 and photos.data.shape[1:] == (3, 224, 224) and photos.data.dtype == np.float32
    assert all(n.startswith("skimage.data.") for n in photos.names)
    # real photographs are spatially smooth: neighbouring pixels correlate, unlike noise
    x = photos.data[0, 0]
    corr = np.corrcoef(x[:, :-1].ravel(), x[:, 1:].ravel())[0, 1]
    assert corr > 0.8


def test_preprocessing_matches_torchvision_formula(image_folder: Path):
    from PIL import Image

    path = image_folder / "cat" / "chelsea.png"
    got = load_folder(image_folder, 224).data[0]
    img = Image.open(path).convert("RGB")
    w, h = img.size
    short = 256
    img = img.resize((int(w * short / h) if w > h else short, short if w > h else int(h * short / w)), Image.BILINEAR)
    w, h = img.size
    left, top = int(round((w - 224) / 2.0)), int(round((h - 224) / 2.0))
    arr = np.asarray(img.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255.0
    expected = ((arr - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
    assert np.abs(got - expected).max() < 1e-5


def test_folder_is_recursive_with_imagefolder_labels(image_folder: Path):
    images = load_folder(image_folder, 64)
    assert len(images) == 5
    assert images.class_names == ["cat", "space"]
    assert list(images.labels) == [0, 0, 1, 1, 1]
    assert images.names[0] == str(Path("cat") / "chelsea.png")


def test_folder_without_class_layout_has_no_labels(image_folder: Path):
    (image_folder / "cat" / "deeper").mkdir()
    (image_folder / "cat" / "chelsea.png").rename(image_folder / "cat" / "deeper" / "chelsea.png")
    images = load_folder(image_folder, 64)
    assert len(images) == 5 and images.labels is None


def test_empty_and_missing_folders_are_one_sentence(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    with pytest.raises(GnetError, match="no images"):
        load_folder(tmp_path / "empty", 64)
    with pytest.raises(GnetError, match="does not exist"):
        load_folder(tmp_path / "nowhere", 64)


def test_unreadable_image_names_the_file(image_folder: Path):
    bad = image_folder / "cat" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 this is not a jpeg")
    with pytest.raises(GnetError, match="broken.jpg"):
        load_folder(image_folder, 64)


def test_digits_splits_are_disjoint_and_labelled():
    train_idx, _, train_y = digits_split("train")
    eval_idx, _, eval_y = digits_split("eval")
    assert not set(train_idx) & set(eval_idx)
    assert len(train_idx) + len(eval_idx) == 1797
    assert set(eval_y) == set(range(10))
    images = load_images("digits:eval", 32, limit=12)
    assert images.data.shape == (12, 3, 32, 32) and images.labels is not None
    with pytest.raises(GnetError):
        load_images("digits:test", 32)


def test_identities_see_one_folder_spelled_two_ways(image_folder: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(image_folder.parent)
    absolute = load_folder(image_folder, 32)
    relative = load_folder(Path(image_folder.name) / ".." / image_folder.name, 32)
    assert absolute.identities() == relative.identities() and len(absolute.identities()) == 5
    assert not load_images("digits:train", 32, limit=20).identities() & load_images("digits:eval", 32, limit=20).identities()


def test_an_image_of_more_than_8_bits_is_refused_not_clipped(tmp_path: Path):
    """Pillow turns a 16-bit PNG into RGB by clipping at 255 (a white image, no error); gnet-infer refuses it, and
    so does Python: one sentence naming the file. An 8-bit grayscale PNG is converted, as torchvision does."""
    Image.fromarray(np.full((40, 40), 30000, np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(GnetError, match="deep.png: it has I;16 pixels"):
        load_folder(tmp_path, 32)
    (tmp_path / "deep.png").unlink()
    Image.fromarray(np.full((40, 40), 200, np.uint8)).save(tmp_path / "gray.png")
    assert load_folder(tmp_path, 32).data.shape == (1, 3, 32, 32)
