"""``--weights auto``: torchvision's ImageNet weights, else the trained fixture, else seeded random weights.

Used by every command that must run offline (``make onnx``/``make engine`` with their default
``WEIGHTS=auto``, and the benchmark); the choice and its reason are said once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gnet.defaults import DEFAULT_IMAGE_SIZE, FIXTURE_CHECKPOINT, WEIGHTS, fixture_path
from gnet.errors import GnetError
from gnet.export.fixture import fixture_available
from gnet.export.weights import LoadedModel, imagenet_available, load_imagenet, load_random, load_weights


@dataclass
class ChosenWeights:
    """The loaded model and the sentence that says why these weights were chosen."""

    loaded: LoadedModel
    reason: str


def choose_weights(spec: str = WEIGHTS, seed: int = 0, transform_input: bool | None = None,
                   fixture: str | Path = FIXTURE_CHECKPOINT, image_size: int | None = None) -> ChosenWeights:
    """Resolve ``--weights``; ``auto`` prefers ImageNet, then the trained fixture (its checkpoint trained at
    ``image_size``, GoogLeNet's 224 px unless given, when there is one), then seeded random weights."""
    if spec != "auto":  # the one spelling of the automatic choice (defaults.WEIGHTS)
        return ChosenWeights(load_weights(spec, seed=seed, transform_input=transform_input), f"--weights {spec}")
    if imagenet_available():
        return ChosenWeights(load_imagenet(allow_download=False), "auto: torchvision's ImageNet weights are cached")
    try:
        return ChosenWeights(load_imagenet(), "auto: downloaded torchvision's ImageNet weights")
    except GnetError as exc:
        why = exc.cause
    for candidate in (fixture_path(image_size or DEFAULT_IMAGE_SIZE, Path(fixture)), fixture_path(DEFAULT_IMAGE_SIZE, Path(fixture)), Path(fixture)):
        if fixture_available(candidate):
            return ChosenWeights(load_weights(str(candidate)),
                                 f"auto: ImageNet weights unavailable ({why}); using the trained fixture {candidate}")
    return ChosenWeights(load_random(seed), f"auto: ImageNet weights unavailable ({why}) and no trained fixture "
                                            f"(gnet fixture trains one); using seeded random weights (seed {seed}), whose parity says little")
