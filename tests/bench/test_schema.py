"""The results schema: it accepts gnet's documents and catches broken ones."""

from __future__ import annotations

import copy
import json

import pytest

from gnet.bench.results import validate


def test_schema_catches_broken_documents(doc: dict):
    broken = copy.deepcopy(doc)
    del broken["rows"][0]["latency_ms"]["p99_ms"]
    broken["rows"][1]["precision"] = "int4"
    broken["unexpected"] = 1
    problems = validate(broken)
    assert any("p99_ms" in p for p in problems)
    assert any("int4" in p for p in problems)
    assert any("unexpected" in p for p in problems)


def test_schema_agrees_with_jsonschema_where_installed(doc: dict):
    jsonschema = pytest.importorskip("jsonschema")
    from gnet.bench.results import schema

    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.Draft202012Validator(schema()).validate(json.loads(json.dumps(doc)))
