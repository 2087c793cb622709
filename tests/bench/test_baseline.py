"""--baseline: speed-ups, regressions and caveats against an earlier run."""

from __future__ import annotations

import copy
import io

import pytest
from rich.console import Console

from gnet.bench.baseline import baseline_table, caveats, compare, regressions


def test_baseline_comparison(doc: dict):
    same = compare(doc, doc)
    assert all(c.verdict == "same" and c.ratio == pytest.approx(1.0) for c in same)
    assert caveats(doc, doc) == [] and regressions(doc, doc) == []
    old = copy.deepcopy(doc)
    rows = old["rows"]
    for r in rows:
        r["latency_ms"]["cv"] = 0.0
    rows[0]["throughput_ips"] *= 2.0   # was twice as fast → now slower
    rows[1]["throughput_ips"] *= 0.5   # was half as fast → now faster
    rows[2]["parity"]["passed"] = True
    gone = copy.deepcopy(rows[3])
    gone["batch"] = 256
    rows.append(gone)
    current = copy.deepcopy(doc)
    for r in current["rows"]:
        r["latency_ms"]["cv"] = 0.0
    current["rows"][2]["parity"]["passed"] = False
    verdicts = {c.key: c for c in compare(current, old)}
    assert verdicts[tuple(list(doc["rows"][0][k] for k in ("backend", "variant", "precision", "batch", "io")))].verdict == "slower"
    assert verdicts[tuple(list(doc["rows"][1][k] for k in ("backend", "variant", "precision", "batch", "io")))].verdict == "faster"
    assert sum(c.verdict == "gone" for c in verdicts.values()) == 1
    assert len(regressions(current, old)) == 2  # the slower row and the parity regression
    old["image_size"] = 224
    assert any("image size" in c for c in caveats(current, old))
    out = io.StringIO()
    Console(file=out, width=200).print(baseline_table(current, old, "old.json"))
    assert "regression" in out.getvalue() and "parity now FAILS" in out.getvalue()


def test_a_throughput_that_is_not_finite_is_never_same(doc: dict):
    """Issue 19 #7: a NaN baseline throughput printed "+nan%", verdict "same", exit 0."""
    from gnet.bench.baseline import check_baseline
    from gnet.errors import GnetError

    old = copy.deepcopy(doc)
    old["rows"][0]["throughput_ips"] = float("nan")
    verdicts = [c.verdict for c in compare(doc, old)]
    assert verdicts[0] == "not comparable" and verdicts[1:] == ["same"] * (len(verdicts) - 1)
    assert len(regressions(doc, old)) == 1 and compare(doc, old)[0].ratio is None
    with pytest.raises(GnetError, match="the baseline old.json cannot be compared with: its .* row has throughput nan"):
        check_baseline(old, "old.json")
    check_baseline(doc, "doc.json")
    old["rows"][0]["throughput_ips"] = 0.0
    with pytest.raises(GnetError, match="has throughput 0.0"):
        check_baseline(old, "old.json")
