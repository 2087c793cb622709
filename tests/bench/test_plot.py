"""--plot writes a PNG (a line chart over batch sizes, a bar chart for one)."""

from __future__ import annotations

import copy
from pathlib import Path

from gnet.bench.plot import plot_results


def test_plot_is_a_png(doc: dict, tmp_path: Path):
    path = plot_results(doc, tmp_path / "plot.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    single = copy.deepcopy(doc)
    single["rows"] = [r for r in single["rows"] if r["batch"] == 1]
    assert plot_results(single, tmp_path / "single.png").is_file()  # one batch size: a bar chart
