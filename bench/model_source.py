"""Which weights and image size a benchmark runs; ``choose_weights`` is shared with the export commands."""

from __future__ import annotations

from gnet.export.weights_choice import ChosenWeights, choose_weights

__all__ = ["ChosenWeights", "DEFAULT_IMAGE_SIZE", "choose_weights", "image_size_for"]

DEFAULT_IMAGE_SIZE = 224


def image_size_for(requested: int | None) -> int:
    """``--image-size``, else 224: GoogLeNet's own input size, at which speed is what users deploy.

    The trained fixture (64 px) is measured at 224 px too: its parity (agreement with PyTorch FP32
    on the same images) stays meaningful there, its accuracy does not (it never saw 224-px digits).
    """
    return int(requested or DEFAULT_IMAGE_SIZE)
