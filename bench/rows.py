"""What identifies a row of a results document across runs, and whether it passed: shared by every report."""

from __future__ import annotations

from typing import Any


def row_key(row: dict[str, Any]) -> tuple[str, str, str, int, str]:
    """What identifies a row across runs (for baselines): backend, variant, precision, batch, I/O mode
    (a served row's clients at once joins its I/O mode: ``end-to-end ×4``)."""
    io = row["io"] if row.get("concurrency") is None else f"{row['io']} ×{row['concurrency']}"
    return (row["backend"], row["variant"], row["precision"], int(row["batch"]), io)


def row_passed(row: dict[str, Any]) -> bool:
    """Parity within tolerance and, for a served row, not one failed request."""
    return bool(row["parity"]["passed"]) and not row.get("failed_requests")
