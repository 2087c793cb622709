"""Served rows in the reports: the network hop against the in-process row, and a failed request fails the row."""

from __future__ import annotations

import copy
import io

from rich.console import Console

from gnet.bench.baseline import compare
from gnet.bench.best_cpu import summarize_best_cpu
from gnet.bench.report_files import csv_rows
from gnet.bench.report_serving import serving_lines
from gnet.bench.report_table import render, results_table
from gnet.bench.results import validate
from gnet.bench.rows import row_key, row_passed


def _with_served_rows(doc: dict) -> dict:
    """The shared run's ort-cpu:default fp32 rows, each copied as a served row (2 clients), one with failures."""
    served = copy.deepcopy(doc)
    local = [r for r in served["rows"] if (r["backend"], r["variant"], r["precision"]) == ("ort-cpu", "default", "fp32")]
    for index, row in enumerate(local):
        twin = copy.deepcopy(row)
        twin.update(backend="triton", variant="grpc", concurrency=2, failed_requests=3 if index == 0 else 0,
                    request_errors=["InferenceServerException: [StatusCode.UNAVAILABLE] Socket closed"] if index == 0
                    else [], throughput_ips=row["throughput_ips"] / 2)
        twin["latency_ms"] = {**row["latency_ms"], "median_ms": row["latency_ms"]["median_ms"] + 1.5}
        served["rows"].append(twin)
    served["best_cpu"] = summarize_best_cpu(served["rows"])
    return served


def test_the_hop_cost_and_the_failed_requests_are_reported(doc: dict):
    served = _with_served_rows(doc)
    assert validate(served) == []
    lines = [line.plain for line in serving_lines(served)]
    first = [r for r in served["rows"] if r["backend"] == "triton"][0]
    assert lines[0].startswith(f"network hop: triton:grpc fp32 batch {first['batch']} × 2 client(s) = ")
    assert "0.50× in-process ort-cpu:default" in lines[0] and "median latency +1.50 ms" in lines[0]
    assert any("3 failed request(s), so the row fails: InferenceServerException" in line for line in lines)
    out = io.StringIO()
    Console(file=out, width=400).print(render(served))
    assert "clients" in out.getvalue() and "FAIL" in out.getvalue()
    table = results_table(served)
    failed_row = [i for i, r in enumerate(served["rows"]) if r.get("failed_requests")][0]
    assert table.rows[failed_row].style == "red"


def test_a_failed_request_fails_the_row_everywhere_and_served_rows_are_never_the_best_cpu_path(doc: dict):
    served = _with_served_rows(doc)
    bad = next(r for r in served["rows"] if r.get("failed_requests"))
    assert bad["parity"]["passed"] and not row_passed(bad)
    assert all(b["backend"] != "triton" for b in served["best_cpu"])
    assert row_key(bad)[4] == "end-to-end ×2"
    comparison = {c.key: c for c in compare(served, doc)}
    assert comparison[row_key(bad)].new_passed is False
    line = next(line for line in csv_rows(served) if line["backend"] == "triton")
    assert line["concurrency"] == 2


def test_without_an_in_process_row_the_report_says_how_to_get_one(doc: dict):
    served = _with_served_rows(doc)
    served["rows"] = [r for r in served["rows"] if r["backend"] == "triton"]
    assert "add --backend ort-cpu:default" in serving_lines(served)[0].plain
