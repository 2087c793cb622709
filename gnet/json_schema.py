"""Checking a JSON document against one of gnet's JSON Schemas (draft 2020-12), with readable paths."""

from __future__ import annotations

from typing import Any

import jsonschema


def _path(root: str, parts: Any) -> str:
    text = root
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def schema_errors(document: Any, schema: dict[str, Any], root: str) -> list[str]:
    """Every way ``document`` breaks ``schema``, each as ``path: problem`` (empty when it is valid)."""
    validator = jsonschema.Draft202012Validator(schema)
    found = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{_path(root, error.absolute_path)}: {error.message}" for error in found]
