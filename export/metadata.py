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
    out: dict[str, Any] = {}
    for prop in model.metadata_props:
        if prop.key.startswith(PREFIX):
            try:
                out[prop.key[len(PREFIX):]] = json.loads(prop.value)
            except json.JSONDecodeError:
                out[prop.key[len(PREFIX):]] = prop.value
    return out
