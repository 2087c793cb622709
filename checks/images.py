"""The one image loader used by parity checks, calibration and the benchmark.

Sources (``--images``):

* a folder: ``jpg``/``jpeg``/``png``/``bmp`` files, searched recursively. When every
  image sits in a first-level sub-folder (torchvision's ImageFolder layout), the
  sorted sub-folder names are the classes and the images get labels.
* nothing: real photographs that ship inside scikit-image (``skimage.data``).
* ``digits:train`` / ``digits:eval``: scikit-learn's handwritten digits, split
  once with a fixed seed; the trained fixture (``make fixture``) uses them.
* ``skimage:faces``: the 200 face photographs of scikit-image's ``lfw_subset``,
  the default INT8 calibration set for weights other than the fixture (it never
  overlaps the packaged photos used for parity).

Every image goes through torchvision's ImageNet preprocessing for GoogLeNet
(resize the short side to ``size * 256 / 224``, centre-crop ``size``, scale to
``[0, 1]``, normalise with ImageNet's mean and std), giving float32 NCHW arrays.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from gnet.errors import GnetError, UsageError, first_line

if TYPE_CHECKING:
    from gnet.export.weights import LoadedModel

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
FRAME_ROUNDING = 0.01
"""How far from a whole pixel value an un-normalized float32 image may be (float32's own error is under 1e-4)."""
WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")
"""Pillow's modes of more than 8 bits per pixel (16-bit PNGs, 32-bit TIFFs): refused, as gnet-infer refuses them."""
MAX_IMAGE_PIXELS = 89_478_485
"""Pillow's own decompression-bomb threshold (about 89 megapixels); gnet refuses above it rather than warn."""
# Colour photographs bundled with scikit-image itself (no download needed).
PACKAGED_PHOTOS = (
    "astronaut", "chelsea", "coffee", "rocket", "retina", "stereo_motorcycle",
    "immunohistochemistry", "hubble_deep_field", "colorwheel", "logo",
    "camera", "coins", "moon", "page", "text", "brick", "grass", "gravel", "clock",
)
DIGITS_SPLITS = ("train", "eval")
DIGITS_EVAL_FRACTION = 0.3
DIGITS_SPLIT_SEED = 20240501


@dataclass(frozen=True)
class Preprocessing:
    """What a deployment must do to an image before feeding the network."""

    image_size: int
    resize: int
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    layout: str = "NCHW"
    color: str = "RGB"
    value_range: tuple[float, float] = (0.0, 1.0)
    interpolation: str = "bilinear"

    @classmethod
    def for_size(cls, image_size: int) -> Preprocessing:
        return cls(image_size=image_size, resize=int(round(image_size * 256 / 224)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "color": self.color,
            "resize_short_side": self.resize,
            "center_crop": self.image_size,
            "interpolation": self.interpolation,
            "value_range": list(self.value_range),
            "mean": list(self.mean),
            "std": list(self.std),
            "formula": "x = (pixel / 255 - mean) / std, per channel",
        }


@dataclass
class ImageSet:
    """Preprocessed images, float32 NCHW, with names and optional labels."""

    data: np.ndarray
    names: list[str]
    source: str
    labels: np.ndarray | None = None
    class_names: list[str] | None = None

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def take(self, count: int) -> ImageSet:
        """The first ``count`` images."""
        return ImageSet(
            data=self.data[:count], names=self.names[:count], source=self.source,
            labels=None if self.labels is None else self.labels[:count], class_names=self.class_names,
        )

    def identities(self) -> set[str]:
        """What each image is, independent of how the source was spelled (to detect overlapping sets)."""
        root = Path(self.source)
        if root.is_dir():
            return {str((root / name).resolve()) for name in self.names}
        return set(self.names)  # digits/NNNN and skimage.data.* names are global already

    def tile(self, count: int) -> np.ndarray:
        """A batch of exactly ``count`` images, repeating the set if it is smaller (for timing)."""
        reps = -(-count // len(self))
        return np.ascontiguousarray(np.concatenate([self.data] * reps)[:count])


def _transform(image_size: int) -> Callable[[Image.Image], Any]:
    from torchvision.models import GoogLeNet_Weights

    prep = Preprocessing.for_size(image_size)
    return GoogLeNet_Weights.IMAGENET1K_V1.transforms(crop_size=image_size, resize_size=prep.resize)


def preprocess(images: Iterable[Image.Image], image_size: int, count: int | None = None) -> np.ndarray:
    """Apply torchvision's ImageNet preprocessing to PIL images; float32 NCHW.

    Fills one preallocated array an image at a time (pass a generator that opens files lazily), so
    memory is the result alone, not a list of tensors plus stacked and cast copies of it.
    """
    if count is None:
        images = list(images)
        count = len(images)
    transform = _transform(image_size)
    out = np.empty((count, 3, image_size, image_size), dtype=np.float32)
    filled = 0
    for filled, img in enumerate(images, start=1):
        out[filled - 1] = transform(img.convert("RGB")).numpy()
    if filled != count:
        raise ValueError(f"expected {count} images, got {filled}")
    return out


def to_frames(data: np.ndarray) -> np.ndarray:
    """Normalized float NCHW images → the uint8 NHWC RGB frames they were made from, exactly.

    Every image gnet reads is 8-bit before ``(pixel / 255 - mean) / std``, so undoing that and rounding gives its
    pixels back; an array that is not such images (edited, or not from 8-bit pixels) is refused, never rounded."""
    if np.asarray(data).dtype == np.float16:
        raise GnetError("float16 images cannot be fed to a uint8-nhwc graph",
                        "float16 cannot hold normalized pixels exactly enough to give the 8-bit pixels back",
                        "pass the float32 images, or the uint8 frames themselves")
    mean = np.asarray(IMAGENET_MEAN, np.float64).reshape(1, 3, 1, 1)
    std = np.asarray(IMAGENET_STD, np.float64).reshape(1, 3, 1, 1)
    pixels = (np.asarray(data, np.float64) * std + mean) * 255.0
    frames = np.rint(pixels)
    if not (np.all(np.abs(pixels - frames) < FRAME_ROUNDING) and frames.min() >= 0 and frames.max() <= 255):
        raise GnetError("these images cannot be fed to a uint8-nhwc graph",
                        "they are not 8-bit RGB pixels normalized with ImageNet's mean and std")
    return np.ascontiguousarray(frames.astype(np.uint8).transpose(0, 2, 3, 1))


def graph_feed(data: np.ndarray, dtype: Any) -> np.ndarray:
    """``data`` (normalized float NCHW, or uint8 NHWC frames as they are) as a graph whose input is of ``dtype``
    takes it: uint8 frames for a frame-input graph, else the same images in that float type."""
    array = np.asarray(data)
    frames_given = array.dtype == np.uint8
    wanted = "uint8 RGB frames [N, H, W, 3] or normalized float images [N, 3, H, W]"
    if not (frames_given or np.issubdtype(array.dtype, np.floating)):
        raise UsageError(f"images of type {array.dtype} cannot be fed to a gnet graph", f"it takes {wanted}")
    if np.dtype(dtype) == np.uint8:
        if array.ndim != 4 or array.shape[-1 if frames_given else 1] != 3:
            raise UsageError(f"images of shape {list(array.shape)} cannot be fed to a uint8-nhwc graph",
                             f"it takes {wanted}")
        return np.ascontiguousarray(data) if frames_given else to_frames(data)
    if frames_given:
        raise UsageError("uint8 frames cannot be fed to a graph that takes normalized float images",
                         remedy="preprocess them (x = (pixel / 255 - mean) / std, NCHW), or export the graph with "
                                "--input-type uint8-nhwc")
    return np.ascontiguousarray(data, dtype=dtype)


def _open(path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                _refuse_huge(path, img.width, img.height)
                if img.mode in WIDE_MODES:  # Pillow's RGB conversion clips them at 255: a wrong image, no error
                    raise GnetError(f"cannot read image {path}",
                                    f"it has {img.mode} pixels (more than 8 bits), which gnet would have to clip",
                                    "save it as 8-bit RGB or grayscale")
                img.load()
                return img.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _huge(path, None, None) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise GnetError(f"cannot read image {path}", first_line(exc)) from None


def _huge(path: Path, width: int | None, height: int | None) -> GnetError:
    size = f"{width}×{height} pixels" if width and height else "too many pixels"
    return GnetError(f"cannot read image {path}",
                     f"it has {size}, more than the {MAX_IMAGE_PIXELS:,} a decompression-bomb check allows",
                     "resize it or leave it out of the folder")


def _refuse_huge(path: Path, width: int, height: int) -> None:
    """Refuse before decoding: the header says the size, and decoding a bomb would exhaust memory."""
    if width * height > MAX_IMAGE_PIXELS:
        raise _huge(path, width, height)


def find_images(folder: Path) -> list[Path]:
    """Image files under ``folder``, recursively, sorted."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def load_folder(folder: str | Path, image_size: int, limit: int | None = None) -> ImageSet:
    """Images from a folder (recursive); labels when it is laid out as an ImageFolder."""
    root = Path(folder)
    if not root.exists():
        raise GnetError(f"image folder {root} does not exist")
    if not root.is_dir():
        raise GnetError(f"{root} is not a folder of images")
    paths = find_images(root)
    if not paths:
        raise GnetError(f"no images (jpg, jpeg, png, bmp) found under {root}")
    if limit is not None:
        paths = paths[:limit]
    labels = class_names = None
    rel = [p.relative_to(root) for p in paths]
    if all(len(r.parts) == 2 for r in rel):
        class_names = sorted({r.parts[0] for r in rel})
        index = {name: i for i, name in enumerate(class_names)}
        labels = np.array([index[r.parts[0]] for r in rel], dtype=np.int64)
    data = preprocess((_open(p) for p in paths), image_size, len(paths))
    return ImageSet(data=data, names=[str(r) for r in rel], source=str(root), labels=labels, class_names=class_names)


def load_packaged_photos(image_size: int) -> ImageSet:
    """Real photographs shipped inside scikit-image: the default when no ``--images`` is given."""
    import skimage.data

    images, names = [], []
    for name in PACKAGED_PHOTOS:
        loader = getattr(skimage.data, name, None)
        if loader is None:
            continue
        try:
            loaded = loader()
        except Exception:  # noqa: BLE001 - a file this scikit-image build lacks is skipped, not fatal
            continue
        array = np.asarray(loaded[0] if isinstance(loaded, tuple) else loaded)  # stereo pairs: the left view
        if array.dtype == bool:
            array = array.astype(np.uint8) * 255
        images.append(Image.fromarray(array[..., :3] if array.ndim == 3 else array))
        names.append(f"skimage.data.{name}")
    if not images:
        raise GnetError("scikit-image ships no readable sample photos here", remedy="pass --images DIR")
    return ImageSet(data=preprocess(images, image_size), names=names, source="skimage.data")


def load_packaged_faces(image_size: int, limit: int | None = None) -> ImageSet:
    """The 200 face photographs (25x25, grey) of scikit-image's ``lfw_subset``."""
    import skimage.data

    faces = skimage.data.lfw_subset()[:limit]
    images = [Image.fromarray(np.uint8(np.clip(face, 0, 1) * 255)) for face in faces]
    return ImageSet(
        data=preprocess(images, image_size),
        names=[f"skimage.data.lfw_subset/{i:03d}" for i in range(len(images))],
        source="skimage:faces",
    )


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    index = np.arange(len(digits.target))
    train, held_out = train_test_split(
        index, test_size=DIGITS_EVAL_FRACTION, random_state=DIGITS_SPLIT_SEED, stratify=digits.target
    )
    return digits.images, digits.target, {"train": np.sort(train), "eval": np.sort(held_out)}


def digits_split(split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indices, 8x8 images in 0..16, labels) of one split of scikit-learn's digits."""
    if split not in DIGITS_SPLITS:
        raise UsageError(f"unknown digits split {split!r}", remedy=f"use one of {', '.join(DIGITS_SPLITS)}")
    images, targets, splits = _digits()
    chosen = splits[split]
    return chosen, images[chosen], targets[chosen]


def digits_to_pil(images: np.ndarray) -> list[Image.Image]:
    """8x8 digit arrays (0..16) as RGB PIL images, white ink on black, as scikit-learn stores them."""
    return [Image.fromarray(np.uint8(np.clip(img / 16.0, 0, 1) * 255)).convert("RGB") for img in images]


def load_digits_set(split: str, image_size: int, limit: int | None = None) -> ImageSet:
    """One split of the digits data set through the same preprocessing as every other image."""
    index, images, labels = digits_split(split)
    if limit is not None:
        index, images, labels = index[:limit], images[:limit], labels[:limit]
    return ImageSet(
        data=preprocess(digits_to_pil(images), image_size),
        names=[f"digits/{i:04d}" for i in index],
        source=f"digits:{split}",
        labels=labels.astype(np.int64),
        class_names=[str(d) for d in range(10)],
    )


def load_images(source: str | Path | None, image_size: int, limit: int | None = None) -> ImageSet:
    """Resolve an ``--images`` value: a folder, ``digits:SPLIT``, or None for the packaged photos."""
    if source is None:
        images = load_packaged_photos(image_size)
        return images.take(limit) if limit else images
    text = str(source)
    if text == "skimage:faces":
        return load_packaged_faces(image_size, limit)
    if text.startswith("digits:"):
        return load_digits_set(text.split(":", 1)[1], image_size, limit)
    return load_folder(text, image_size, limit)


PARITY_IMAGE_LIMIT: int | None = None  # every image of the source (the fixture's held-out split has 540)


def default_image_source(loaded: LoadedModel) -> str | None:
    """Held-out digits for gnet's fixture checkpoints, the packaged photos otherwise."""
    return "digits:eval" if loaded.dataset == "digits" else None


def parity_images(loaded: LoadedModel, source: str | Path | None, image_size: int, limit: int | None = PARITY_IMAGE_LIMIT) -> ImageSet:
    """The images a parity check runs on."""
    return load_images(source if source is not None else default_image_source(loaded), image_size, limit)
