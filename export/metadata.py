"""``metadata_props`` that travel inside every ONNX gnet writes, so any later stage can read them back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import onnx

from gnet.defaults import MAX_IMAGE_SIZE, PRECISIONS
from gnet.errors import GnetError

PREFIX = "gnet."


def stamp(model: onnx.ModelProto, values: dict[str, Any]) -> None:
    """Set ``gnet.<key>`` entries (JSON-encoded unless already a string), replacing old ones."""
    encoded = {PREFIX + k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    kept = [p for p in model.metadata_props if p.key not in encoded]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in encoded.items():
        model.metadata_props.add(key=key, value=value)


def read(model: onnx.ModelProto) -> dict[str, Any]:
    """All ``gnet.*`` entries, JSON-decoded where they are JSON."""
    return decode({prop.key[len(PREFIX):]: prop.value for prop in model.metadata_props if prop.key.startswith(PREFIX)})


def decode(values: dict[str, str]) -> dict[str, Any]:
    """Stamped string values JSON-decoded where they are JSON (an OpenVINO IR carries the same strings)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_CHECKS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "image_size": (f"an integer up to {MAX_IMAGE_SIZE}", lambda v: _is_int(v) and 1 <= v <= MAX_IMAGE_SIZE),
    "num_classes": ("a positive integer", lambda v: _is_int(v) and v >= 1),
    "opset": ("a positive integer", lambda v: _is_int(v) and v >= 1),
    "precision": (f"one of {', '.join(PRECISIONS)}", lambda v: v in PRECISIONS),
    "weights_spec": ("a string", lambda v: isinstance(v, str) and bool(v)),
    "weights_sha256": ("a SHA-256 in hex", lambda v: isinstance(v, str) and len(v) == 64),
    "transform_input_folded": ("true or false", lambda v: isinstance(v, bool)),
    "class_names": ("a list of strings", lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v)),
}


def read_checked(model: onnx.ModelProto, where: str) -> dict[str, Any]:
    """:func:`read`, refusing (naming the key) a ``gnet.*`` entry of the wrong type or out of range.

    The metadata of a file is user input: an edited or foreign ``gnet.image_size = "abc"`` must be one
    sentence, not a traceback where it is first used.
    """
    return checked(read(model), where)


def checked(meta: dict[str, Any], where: str) -> dict[str, Any]:
    """``meta`` (an ONNX's or an OpenVINO IR's gnet metadata, decoded), refusing an entry of the wrong type or range."""
    for key, (wanted, ok) in _CHECKS.items():
        if key in meta and not ok(meta[key]):
            raise GnetError(f"{where} has unusable gnet metadata", f"gnet.{key} is {meta[key]!r}, not {wanted}",
                            "re-export it with gnet export")
    return meta
