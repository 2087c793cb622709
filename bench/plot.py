"""``--plot PNG``: throughput against batch size per backend × precision, and latency percentiles."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

from gnet.atomic import atomic_output
from gnet.bench.results import ON_DEVICE

PRECISION_MARKERS = {"fp32": "o", "fp16": "s", "bf16": "D", "int8": "^"}


def series_label(row: dict[str, Any]) -> str:
    label = f"{row['backend']}:{row['variant']} {row['precision']}"
    if row["io"] == ON_DEVICE:
        label += " (on-device)"
    return label


def _series(doc: dict[str, Any]) -> OrderedDict[str, list[dict[str, Any]]]:
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for row in doc["rows"]:
        groups.setdefault(series_label(row), []).append(row)
    for rows in groups.values():
        rows.sort(key=lambda r: r["batch"])
    return groups


Groups = OrderedDict[str, list[dict[str, Any]]]


def _lines(ax: Any, groups: Groups, batches: list[int], colors: Any) -> None:
    """Throughput against batch size, one line per series; a series that fails parity is dashed."""
    for i, (label, rows) in enumerate(groups.items()):
        failed = any(not r["parity"]["passed"] for r in rows)
        ax.plot([r["batch"] for r in rows], [r["throughput_ips"] for r in rows],
                marker=PRECISION_MARKERS.get(rows[0]["precision"], "o"), color=colors(i),
                linestyle="--" if failed else "-", label=label + (" (parity FAIL)" if failed else ""))
    ax.set_xscale("log", base=2)
    ax.set_xticks(batches, [str(b) for b in batches])
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("images/s")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    ax.grid(True, which="both", alpha=0.3)


def _bars(ax: Any, groups: Groups, batch: int | str, colors: Any) -> None:
    """Throughput at the one batch size, one bar per series; a series that fails parity is red and hatched."""
    labels = list(groups)
    failed = [not groups[k][-1]["parity"]["passed"] for k in labels]
    values = [groups[k][-1]["throughput_ips"] for k in labels]
    y = range(len(labels))
    bars = ax.barh(list(y), values, color=["tab:red" if f else colors(i) for i, f in enumerate(failed)])
    for bar, bad in zip(bars, failed):
        if bad:
            bar.set_hatch("//")
    ax.set_yticks(list(y), [k + ("  (parity FAIL)" if f else "") for k, f in zip(labels, failed)], fontsize=8)
    ax.invert_yaxis()
    for yi, value in zip(y, values):
        ax.text(value, yi, f" {value:.1f}", va="center", fontsize=8)
    ax.set_xlabel(f"images/s at batch {batch}")
    ax.grid(True, axis="x", alpha=0.3)


def _latencies(ax: Any, at_top: list[dict[str, Any]], groups: Groups, top_batch: int, colors: Any) -> None:
    """Median latency bars with p90/p95/p99 marks and the min–max range, at the largest batch size."""
    from matplotlib import ticker

    labels = [series_label(r) for r in at_top]
    y = list(range(len(at_top)))
    medians = [r["latency_ms"]["median_ms"] for r in at_top]
    ax.barh(y, medians, color=[colors(list(groups).index(lbl)) for lbl in labels], alpha=0.55, label="median")
    for name, marker in (("p90_ms", "|"), ("p95_ms", "x"), ("p99_ms", "D")):
        ax.scatter([r["latency_ms"][name] for r in at_top], y, marker=marker, color="black", s=28, zorder=3,
                   label=name.replace("_ms", ""))
    ax.hlines(y, [r["latency_ms"]["min_ms"] for r in at_top], [r["latency_ms"]["max_ms"] for r in at_top],
              color="gray", linewidth=1, zorder=2, label="min–max")
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel(f"latency per batch of {top_batch} (ms, log scale)")
    ax.set_title(f"latency percentiles at batch {top_batch}")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=5, frameon=False)


def plot_results(doc: dict[str, Any], path: str | Path) -> Path:
    """Write the two-panel PNG atomically; rows that fail parity are drawn dashed (or red) and say so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = _series(doc)
    batches = sorted({r["batch"] for r in doc["rows"]})
    top_batch = batches[-1] if batches else 1
    at_top = [rows[-1] for rows in groups.values() if rows[-1]["batch"] == top_batch]
    height = max(4.5, 0.32 * max(len(groups), len(at_top)) + 2.5) + (0.12 * len(groups) if len(batches) > 1 else 0)
    fig, (ax_tp, ax_lat) = plt.subplots(1, 2, figsize=(15, height), constrained_layout=True)
    palette = [c for i, c in enumerate(plt.get_cmap("tab20").colors) if i not in (6, 7)]  # red means a parity failure

    def colors(index: int) -> Any:
        return palette[index % len(palette)]

    if len(batches) > 1:
        _lines(ax_tp, groups, batches, colors)
    else:
        _bars(ax_tp, groups, batches[0] if batches else "?", colors)
    ax_tp.set_title("throughput (images/s = batches/s × batch)")
    _latencies(ax_lat, at_top, groups, top_batch, colors)
    env = doc["environment"]
    gpu = (env.get("gpu") or {}).get("name")
    fig.suptitle(f"gnet bench — weights: {doc['weights']['name']}; {doc['image_size']} px; "
                 f"{env['cpu']['model']} ({env['cpu'].get('vector_extensions', '?')})" + (f"; {gpu}" if gpu else "") + f"; {env['timestamp_utc']}", fontsize=10)
    dest = Path(path)
    with atomic_output(dest) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return dest
