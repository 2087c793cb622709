"""--json and --csv files: round trips, NaN as null, and a baseline file that is not what it claims."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from gnet.bench.report_files import (
    CSV_COLUMNS,
    read_results,
    to_csv,
    write_csv,
    write_json,
)
from gnet.bench.report_table import render
from gnet.bench.results import validate
from gnet.errors import GnetError


def test_json_and_csv_round_trip(doc: dict, tmp_path: Path):
    path = write_json(doc, tmp_path / "out" / "run.json")
    again = read_results(path)
    assert again["rows"][0]["throughput_ips"] == pytest.approx(doc["rows"][0]["throughput_ips"])
    lines = list(csv.DictReader(io.StringIO(to_csv(doc))))
    assert len(lines) == len(doc["rows"]) and tuple(lines[0]) == CSV_COLUMNS
    assert lines[0]["weights"] == "random (seed 1)"
    openvino = [line for line in lines if line["backend"] == "openvino-cpu" and line["precision"] == "fp32"]
    assert openvino and all(line["executed_precision"] == "f32" and line["runtime"] == "openvino" for line in openvino)
    assert lines[0]["vector_extensions"] == doc["environment"]["cpu"]["vector_extensions"]
    write_csv(doc, tmp_path / "run.csv")
    assert (tmp_path / "run.csv").read_text().startswith("weights,image_size,backend")
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_nan_metrics_become_null_in_json(doc: dict, tmp_path: Path):
    odd = copy.deepcopy(doc)
    odd["rows"][0]["parity"]["cosine_min"] = float("nan")
    text = (write_json(odd, tmp_path / "nan.json")).read_text()
    assert "NaN" not in text and json.loads(text)["rows"][0]["parity"]["cosine_min"] is None
    assert validate(json.loads(text)) == []
    Console(file=io.StringIO(), width=200).print(render(json.loads(text)))  # a null metric still renders


def test_bad_baseline_files(tmp_path: Path, doc: dict):
    (tmp_path / "garbage.json").write_text("{not json")
    with pytest.raises(GnetError, match="is not a JSON file"):
        read_results(tmp_path / "garbage.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(GnetError, match="not a gnet bench results file"):
        read_results(tmp_path / "other.json")
    broken = copy.deepcopy(doc)
    del broken["environment"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(GnetError, match="does not follow the gnet bench results schema"):
        read_results(tmp_path / "broken.json")
    with pytest.raises(GnetError, match="does not exist"):
        read_results(tmp_path / "missing.json")
