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


def test_the_timeline_says_where_the_time_went(doc: dict):
    from gnet.bench.report_table import timeline_line

    timeline = doc["timeline"]
    finished = [r["finished_s"] for r in doc["rows"]]
    assert finished == sorted(finished) and timeline["first_row_s"] == finished[0] <= timeline["total_s"]
    assert set(timeline["artifacts"]) <= {"fp32", "fp16", "int8", "int8-cpu"} and timeline["reference_s"] > 0
    assert all(r["parity_s"] > 0 for r in doc["rows"])
    assert timeline_line(timeline).startswith("time: reference ") and "whole run" in timeline_line(timeline)
    broken = copy.deepcopy(doc)
    broken["timeline"]["total_s"] = -1.0
    del broken["timeline"]["first_row_s"]
    problems = validate(broken)
    assert any("total_s" in p for p in problems) and any("first_row_s" in p for p in problems)
