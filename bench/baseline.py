"""``--baseline OLD.json``: speed-ups and regressions of this run against an earlier one, row by row."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text

from gnet.bench.rows import row_key, row_passed

MIN_BAND = 0.05
"""A change smaller than 5% (or than twice the two runs' combined CV, if larger) is reported as no change."""


@dataclass(frozen=True)
class Comparison:
    """One row matched (or not) between the baseline and this run."""

    key: tuple[str, str, str, int, str]
    old_ips: float | None
    new_ips: float | None
    band: float
    old_passed: bool | None
    new_passed: bool | None

    @property
    def finite(self) -> bool:
        """Both throughputs are finite and positive (a NaN once compared as "same")."""
        return all(v is not None and math.isfinite(v) and v > 0 for v in (self.old_ips, self.new_ips))

    @property
    def ratio(self) -> float | None:
        if not self.finite:
            return None
        return self.new_ips / self.old_ips  # type: ignore[operator]

    @property
    def verdict(self) -> str:
        """faster, slower, same, new (only in this run), gone (only in the baseline), or not comparable (a throughput
        that is not a finite positive number: a failure, like a regression)."""
        if self.old_ips is None:
            return "new"
        if self.new_ips is None:
            return "gone"
        if not self.finite:
            return "not comparable"
        ratio = self.ratio or 0.0
        if ratio > 1 + self.band:
            return "faster"
        if ratio < 1 - self.band:
            return "slower"
        return "same"

    @property
    def parity_regressed(self) -> bool:
        return bool(self.old_passed) and self.new_passed is False

    def to_dict(self) -> dict[str, Any]:
        backend, variant, precision, batch, io = self.key
        return {"backend": backend, "variant": variant, "precision": precision, "batch": batch, "io": io,
                "old_ips": self.old_ips, "new_ips": self.new_ips, "ratio": self.ratio, "verdict": self.verdict,
                "parity_regressed": self.parity_regressed}


def compare(current: dict[str, Any], baseline: dict[str, Any]) -> list[Comparison]:
    """Match rows by backend, variant, precision, batch and I/O mode; this run's order first, then rows gone."""
    old = {row_key(r): r for r in baseline["rows"]}
    new = {row_key(r): r for r in current["rows"]}
    out = []
    for key in [*new, *(k for k in old if k not in new)]:
        a, b = old.get(key), new.get(key)
        cv = (a["latency_ms"]["cv"] if a else 0.0) + (b["latency_ms"]["cv"] if b else 0.0)
        out.append(Comparison(
            key=key,
            old_ips=a["throughput_ips"] if a else None,
            new_ips=b["throughput_ips"] if b else None,
            band=max(MIN_BAND, 2.0 * cv),
            old_passed=row_passed(a) if a else None,
            new_passed=row_passed(b) if b else None,
        ))
    return out


def check_baseline(baseline: dict[str, Any], source: str) -> None:
    """Refuse, before anything runs, a baseline with a throughput that is not a finite positive number."""
    from gnet.errors import GnetError

    for row in baseline["rows"]:
        value = row.get("throughput_ips")
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            backend, variant, precision, batch, io = row_key(row)
            raise GnetError(f"the baseline {source} cannot be compared with",
                            f"its {backend} {variant} {precision} batch {batch} row has throughput {value}",
                            "pass the --json file of a run that completed")


def caveats(current: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """What differs between the two runs besides the code (so a change may not be the code's doing)."""
    notes = []
    if current["weights"]["sha256"] != baseline["weights"]["sha256"]:
        notes.append(f"different weights ({baseline['weights']['name']} then, {current['weights']['name']} now)")
    if current["image_size"] != baseline["image_size"]:
        notes.append(f"different image size ({baseline['image_size']} then, {current['image_size']} now)")
    then_cpu, now_cpu = baseline["environment"]["cpu"]["model"], current["environment"]["cpu"]["model"]
    if then_cpu != now_cpu:
        notes.append(f"different CPU ({then_cpu} then, {now_cpu} now)")
    then_gpu = (baseline["environment"].get("gpu") or {}).get("name")
    now_gpu = (current["environment"].get("gpu") or {}).get("name")
    if then_gpu != now_gpu:
        notes.append(f"different GPU ({then_gpu or 'none'} then, {now_gpu or 'none'} now)")
    for name in ("torch", "onnxruntime", "tensorrt"):
        a = baseline["environment"]["libraries"].get(name)
        b = current["environment"]["libraries"].get(name)
        if a != b:
            notes.append(f"{name} {a or 'absent'} then, {b or 'absent'} now")
    return notes


STYLES = {"faster": "green", "slower": "bold red", "same": "", "new": "cyan", "gone": "yellow", "not comparable": "bold red"}


def baseline_table(current: dict[str, Any], baseline: dict[str, Any], source: str) -> Table:
    comparisons = compare(current, baseline)
    table = Table(title=f"against the baseline {source} ({baseline['environment']['timestamp_utc']})", title_justify="left")
    for header in ("backend", "variant", "prec", "batch", "I/O", "then img/s", "now img/s", "change", "verdict"):
        table.add_column(header, justify="left" if header in ("backend", "variant", "prec", "I/O", "verdict") else "right",
                         no_wrap=True)
    for c in comparisons:
        backend, variant, precision, batch, io = c.key
        change = "—" if c.ratio is None else f"{(c.ratio - 1):+.1%}"
        verdict = c.verdict + (" (regression)" if c.verdict == "slower" else "")
        if c.parity_regressed:
            verdict += ", parity now FAILS"
        style = "bold red" if c.parity_regressed else STYLES[c.verdict]
        table.add_row(backend, variant, precision, str(batch), io,
                      "—" if c.old_ips is None else f"{c.old_ips:.1f}",  # a NaN shows as nan
                      "—" if c.new_ips is None else f"{c.new_ips:.1f}", change, Text(verdict, style=style))
    notes = caveats(current, baseline)
    table.caption = (f"'same' = within ±{MIN_BAND:.0%} or twice the runs' combined CV"
                     + ("; caution: " + "; ".join(notes) if notes else ""))
    table.caption_justify = "left"
    return table


def regressions(current: dict[str, Any], baseline: dict[str, Any]) -> list[Comparison]:
    return [c for c in compare(current, baseline) if c.verdict in ("slower", "not comparable") or c.parity_regressed]
