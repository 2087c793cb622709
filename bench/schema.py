"""The results document's JSON Schema (``results.schema.json``) and checking a document against it."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from gnet.json_schema import schema_errors

SCHEMA_FILE = "results.schema.json"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The results schema, shipped beside this module."""
    return json.loads(resources.files("gnet.bench").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def validate(doc: Any) -> list[str]:
    """Problems of a results document against ``results.schema.json`` (empty when it is valid)."""
    return schema_errors(doc, schema(), "$")
