"""What a checkpoint must hold before gnet trusts it: finite tensors and well-typed fields.

A checkpoint is user input: a NaN in ``fc.weight`` would otherwise export "successfully" (NaN
logits make every comparison meaningless), and a field such as ``image_size: "sixty-four"``
would surface as a traceback deep inside the export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from gnet import defaults
from gnet.errors import GnetError

RETRAIN = "fix or retrain the checkpoint"


def check_finite(tensors: Mapping[str, torch.Tensor], where: str, after: str = "") -> None:
    """Refuse the first tensor holding NaN or infinity, naming it (``after``: the step that produced it)."""
    for name, tensor in tensors.items():
        if not tensor.is_floating_point():
            continue
        bad = int((~torch.isfinite(tensor)).sum())
        if bad:
            step = f" after {after}" if after else ""
            raise GnetError(f"{where} holds non-finite weights{step}",
                            f"tensor {name} has {bad} NaN or infinite value(s)", RETRAIN)


def check_classes(num_classes: int, where: str) -> None:
    if num_classes < 1:
        raise GnetError(f"{where} is not a usable GoogLeNet checkpoint", "its 'fc.weight' has 0 output classes", RETRAIN)


@dataclass(frozen=True)
class CheckpointFields:
    """The fields gnet reads from a checkpoint dict besides its state_dict, validated."""

    image_size: int | None
    class_names: list[str] | None
    dataset: str | None
    transform_input: bool | None


def _image_size(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise GnetError(f"{where} records an unusable image_size", f"{value!r} is not an integer", RETRAIN)
    if not defaults.MIN_IMAGE_SIZE <= value <= defaults.MAX_IMAGE_SIZE:
        raise GnetError(f"{where} records an unusable image_size",
                        f"{value} px is outside {defaults.MIN_IMAGE_SIZE}–{defaults.MAX_IMAGE_SIZE} px", RETRAIN)
    return value


def _class_names(value: Any, num_classes: int, where: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise GnetError(f"{where} records unusable class_names", "they must be a list of strings", RETRAIN)
    if len(value) != num_classes:
        raise GnetError(f"{where} records {len(value)} class_names", f"but 'fc.weight' has {num_classes} classes", RETRAIN)
    return list(value)


def checkpoint_fields(meta: Mapping[str, Any], num_classes: int, where: str) -> CheckpointFields:
    """Validate the optional fields of a checkpoint dict (types and ranges) up front."""
    dataset, transform = meta.get("dataset"), meta.get("transform_input")
    if dataset is not None and not isinstance(dataset, str):
        raise GnetError(f"{where} records an unusable dataset", f"{dataset!r} is not a string", RETRAIN)
    if transform is not None and not isinstance(transform, bool):
        raise GnetError(f"{where} records an unusable transform_input", f"{transform!r} is not true or false", RETRAIN)
    return CheckpointFields(_image_size(meta.get("image_size"), where),
                            _class_names(meta.get("class_names"), num_classes, where), dataset, transform)
