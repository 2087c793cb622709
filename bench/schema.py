"""A small JSON Schema validator: exactly the keywords ``results.schema.json`` uses (no new dependency)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

SCHEMA_FILE = "results.schema.json"

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
SUPPORTED = {"$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "type", "required", "properties",
             "additionalProperties", "items", "enum", "const", "pattern", "minimum", "maximum", "exclusiveMinimum",
             "minLength", "minItems"}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The results schema, shipped beside this module."""
    return json.loads(resources.files("gnet.bench").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref is supported, not {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def errors(value: Any, rule: dict[str, Any], root: dict[str, Any], where: str = "$") -> list[str]:
    """Every way ``value`` breaks ``rule``, each as ``path: problem``."""
    unknown = set(rule) - SUPPORTED
    if unknown:
        raise ValueError(f"schema keyword(s) {sorted(unknown)} at {where} are not supported by this validator")
    if "$ref" in rule:
        return errors(value, _resolve(root, rule["$ref"]), root, where)
    problems: list[str] = []
    if "type" in rule:
        types = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{where}: expected {' or '.join(types)}, got {type(value).__name__}"]
    if "const" in rule and value != rule["const"]:
        problems.append(f"{where}: must be {rule['const']!r}")
    if "enum" in rule and value not in rule["enum"]:
        problems.append(f"{where}: {value!r} is not one of {rule['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in rule and value < rule["minimum"]:
            problems.append(f"{where}: {value} < minimum {rule['minimum']}")
        if "maximum" in rule and value > rule["maximum"]:
            problems.append(f"{where}: {value} > maximum {rule['maximum']}")
        if "exclusiveMinimum" in rule and value <= rule["exclusiveMinimum"]:
            problems.append(f"{where}: {value} must be > {rule['exclusiveMinimum']}")
    if isinstance(value, str):
        if "minLength" in rule and len(value) < rule["minLength"]:
            problems.append(f"{where}: shorter than {rule['minLength']} characters")
        if "pattern" in rule and not re.search(rule["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {rule['pattern']}")
    if isinstance(value, list):
        if "minItems" in rule and len(value) < rule["minItems"]:
            problems.append(f"{where}: fewer than {rule['minItems']} items")
        if "items" in rule:
            for i, item in enumerate(value):
                problems += errors(item, rule["items"], root, f"{where}[{i}]")
    if isinstance(value, dict):
        for key in rule.get("required", []):
            if key not in value:
                problems.append(f"{where}: missing required key {key!r}")
        properties = rule.get("properties", {})
        for key, item in value.items():
            if key in properties:
                problems += errors(item, properties[key], root, f"{where}.{key}")
            elif rule.get("additionalProperties") is False:
                problems.append(f"{where}: unexpected key {key!r}")
            elif isinstance(rule.get("additionalProperties"), dict):
                problems += errors(item, rule["additionalProperties"], root, f"{where}.{key}")
    return problems


def validate(doc: Any) -> list[str]:
    """Problems of a results document against ``results.schema.json`` (empty when it is valid)."""
    root = schema()
    return errors(doc, root, root)
