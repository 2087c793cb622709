"""What the terminal report adds for served rows (``triton``): the cost of the network hop against the
in-process ``ort-cpu`` row on the same artifact, and every failed request."""

from __future__ import annotations

from typing import Any

from rich.text import Text

IN_PROCESS = ("ort-cpu", "default")
"""The row a served row is compared with: the same ONNX file in ONNX Runtime, in the caller's process."""


def _in_process(doc: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["precision"], r["batch"]): r for r in doc["rows"]
            if (r["backend"], r["variant"]) == IN_PROCESS and r.get("concurrency") is None}


def hop_line(row: dict[str, Any], local: dict[str, Any]) -> str:
    """One served row against its in-process row: throughput ratio and median latency added."""
    ratio = row["throughput_ips"] / local["throughput_ips"] if local["throughput_ips"] else float("nan")
    added = row["latency_ms"]["median_ms"] - local["latency_ms"]["median_ms"]
    return (f"network hop: {row['backend']}:{row['variant']} {row['precision']} batch {row['batch']} × "
            f"{row['concurrency']} client(s) = {row['throughput_ips']:.1f} img/s, {ratio:.2f}× in-process "
            f"{IN_PROCESS[0]}:{IN_PROCESS[1]} ({local['throughput_ips']:.1f} img/s); median latency "
            f"{added:+.2f} ms ({row['latency_ms']['median_ms']:.2f} vs {local['latency_ms']['median_ms']:.2f} ms)")


def serving_lines(doc: dict[str, Any]) -> list[Text]:
    """The hop cost of every served row that has an in-process row to compare with, then failed requests."""
    served = [r for r in doc["rows"] if r.get("concurrency") is not None]
    local = _in_process(doc)
    lines = [Text(hop_line(r, local[(r["precision"], r["batch"])]))
             for r in served if (r["precision"], r["batch"]) in local]
    if served and not lines:
        lines.append(Text(f"network hop: add --backend {IN_PROCESS[0]}:{IN_PROCESS[1]} to compare the served rows "
                          "with the same artifact run in process", style="dim"))
    for r in served:
        if r.get("failed_requests"):
            errors = "; ".join(r.get("request_errors") or [])
            lines.append(Text(f"{r['backend']}:{r['variant']} {r['precision']} batch {r['batch']} × {r['concurrency']}"
                              f" client(s): {r['failed_requests']} failed request(s), so the row fails: {errors}",
                              style="red"))
    return lines
