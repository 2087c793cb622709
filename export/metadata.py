"""``metadata_props`` that travel inside every ONNX gnet writes, so any later stage can read them back."""

from __future__ import annotations

import json
from typing import Any

import onnx

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
