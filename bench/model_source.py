"""Which weights a benchmark runs (``--weights auto|imagenet|random|PATH``), said once with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gnet.errors import GnetError
from gnet.export.weights import LoadedModel

DEFAULT_IMAGE_SIZE = 224


@dataclass
class ChosenWeights:
    """The loaded model and the sentence that says why these weights were chosen."""

    loaded: LoadedModel
    reason: str


def _fixture() -> tuple[bool, Path | None]:
    try:
        from gnet.export.fixture import FIXTURE_CHECKPOINT, fixture_available
    except ImportError:
        return False, None
    return fixture_available(), Path(FIXTURE_CHECKPOINT)


def choose_weights(spec: str = "auto", seed: int = 0) -> ChosenWeights:
    """Resolve ``--weights``; ``auto`` prefers ImageNet, then the trained fixture, then seeded random weights."""
    from gnet.export.weights import imagenet_available, load_imagenet, load_random, load_weights

    if spec != "auto":
        loaded = load_weights(spec, seed=seed)
        return ChosenWeights(loaded, f"--weights {spec}")
    if imagenet_available():
        return ChosenWeights(load_imagenet(allow_download=False), "auto: torchvision's ImageNet weights are cached")
    try:
        return ChosenWeights(load_imagenet(), "auto: downloaded torchvision's ImageNet weights")
    except GnetError as exc:
        why = str(exc).split(";")[0]
    found, path = _fixture()
    if found and path is not None:
        return ChosenWeights(load_weights(str(path)), f"auto: ImageNet weights unavailable ({why}); using the trained fixture {path}")
    return ChosenWeights(load_random(seed), f"auto: ImageNet weights unavailable ({why}) and no trained fixture "
                                            f"(gnet fixture trains one); using seeded random weights, whose parity says little")


def image_size_for(loaded: LoadedModel, requested: int | None) -> int:
    """``--image-size``, else the size the weights were trained at, else 224."""
    return int(requested or loaded.image_size or DEFAULT_IMAGE_SIZE)
