"""The terminal report: one rich table of every row (parity failures in red, noisy timings marked),
the best CPU path's speed-ups, and what did not run with its reason."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from rich import box
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gnet.bench.best_cpu import best_cpu_lines
from gnet.bench.engine_builds import summary_line
from gnet.bench.report_serving import serving_lines
from gnet.bench.results import ON_DEVICE
from gnet.bench.rows import row_passed
from gnet.bench.stats import CV_WARNING

NOISY = "⚠"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _num(value: float | None, spec: str) -> str:
    """A metric that may be null in a JSON read back (NaN in the run that made it)."""
    return "nan" if value is None else format(value, spec)


def accuracy_caveat(doc: dict[str, Any]) -> str:
    """Why the run's accuracy figures mean nothing ("" when they do): the weights were trained at another size."""
    from gnet.checks.metrics import accuracy_caveat as caveat

    return caveat(doc["weights"].get("trained_image_size"), doc["image_size"])


def _accuracy(parity: dict[str, Any], caveat: str) -> str:
    if parity.get("accuracy") is None:
        return "—"
    if caveat:
        return "n/a"
    return f"{parity['accuracy']:.1%}"


def title(doc: dict[str, Any]) -> str:
    env = doc["environment"]
    cpu = env["cpu"]
    gpu = env.get("gpu") or {}
    extensions = f"{cpu['vector_extensions']}, " if cpu.get("vector_extensions") else ""
    where = f"{cpu['model']} ({extensions}{cpu['physical_cores']} cores)" + (f", {gpu['name']}" if gpu.get("name") else "")
    return escape(f"gnet bench — weights: {doc['weights']['name']}; {doc['image_size']}×{doc['image_size']} px; "
                  f"parity on {doc['images']['count']} images from {doc['images']['source']}; {where}")


def results_table(doc: dict[str, Any]) -> Table:
    """One row per backend × variant × precision × batch (× I/O mode); p90/p95 and more are in the JSON."""
    rows = doc["rows"]
    show_io = any(r["io"] == ON_DEVICE for r in rows)
    show_stages = any(r["stages_ms"] for r in rows)
    show_clients = any(r.get("concurrency") for r in rows)
    table = Table(title=title(doc), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    headers = ["backend:variant", "prec", "batch"] + (["I/O"] if show_io else []) + (["clients"] if show_clients else []) + [
        "img/s", "×eager", "×ort", "p50 ms", "p99 ms", "CV"]
    if show_stages:
        headers.append("h2d/gpu/d2h ms")
    headers += ["cos min", "max|Δ|", "top-1", "acc", "parity"]
    for header in headers:
        table.add_column(header, justify="left" if header in ("backend:variant", "prec", "I/O") else "right", no_wrap=True)
    caveat = accuracy_caveat(doc)
    for r in rows:
        lat, parity = r["latency_ms"], r["parity"]
        cv = f"{lat['cv']:.1%}" + (f" {NOISY}" if r["cv_warning"] else "")
        cells = [f"{r['backend']}:{r['variant']}", r["precision"], str(r["batch"])]
        if show_io:
            cells.append("device" if r["io"] == ON_DEVICE else "e2e")
        if show_clients:
            cells.append(str(r.get("concurrency") or "—"))
        cells += [f"{r['throughput_ips']:.1f}", _ratio(r["speedup"].get("vs_torch_cpu_eager_fp32")),
                  _ratio(r["speedup"].get("vs_ort_cpu_default_fp32")), f"{lat['median_ms']:.2f}",
                  f"{lat['p99_ms']:.2f}", cv]
        if show_stages:
            st = r["stages_ms"]
            cells.append("/".join(f"{st[s]['median_ms']:.2f}" if s in st else "—" for s in ("h2d", "compute", "d2h"))
                         if st else "—")
        passed = row_passed(r)
        verdict = "[bold]FAIL[/]" if not passed else "[dim]ref[/]" if parity.get("is_reference") else "[green]pass[/]"
        cells += [_num(parity["cosine_min"], ".5f"), _num(parity["max_abs"], ".1e"), f"{parity['top1_agreement']:.1%}"
                  + ("" if parity.get("top1_informative", True) else " n/i"), _accuracy(parity, caveat), verdict]
        table.add_row(*cells, style=None if passed else "red")
    table.caption = caption(doc)
    table.caption_justify = "left"
    return table


def caption(doc: dict[str, Any]) -> str:
    cfg = doc["config"]
    parts = [
        "img/s = batches/s × batch size; ×eager, ×ort = img/s over torch-cpu eager FP32, over ort-cpu default FP32 (same batch)",
        f"p50/p99 = latency of one batch; {NOISY} = coefficient of variation above {CV_WARNING:.1%} (machine busy: do not trust)",
        f"timing: {cfg['warmup_ms']:g} ms warm-up, ≥ {cfg['duration_s']:g} s and ≥ {cfg['min_iterations']} iterations per row",
        "parity vs PyTorch FP32 on the same images (acc = top-1 accuracy with labels); red = outside its precision's tolerance",
    ]
    if any(not r["parity"].get("top1_informative", True) for r in doc["rows"]):
        parts.append("n/i = top-1 not informative: PyTorch FP32 answers too few classes on these images for top-1 "
                     "agreement to prove anything; those rows are judged by their error bounds alone")
    caveat = accuracy_caveat(doc)
    if caveat:
        parts.append(f"acc n/a: the weights were {caveat}, so accuracy means nothing here; parity still does")
    return "\n".join(parts)


def unavailable_table(doc: dict[str, Any]) -> Table | None:
    """What did not run, grouped by backend and reason (every combination is in the JSON)."""
    groups: OrderedDict[tuple[str, str, str], dict[str, list[str]]] = OrderedDict()
    for item in doc["unavailable"]:
        key = (item["backend"], item["reason"], item["stage"])
        entry = groups.setdefault(key, {"variants": [], "precisions": []})
        if item["variant"] not in entry["variants"]:
            entry["variants"].append(item["variant"])
        if item["precision"] not in entry["precisions"]:
            entry["precisions"].append(item["precision"])
    if not groups:
        return None
    table = Table(title="not run here, and why", title_justify="left")
    for header in ("backend", "variants", "precisions", "reason"):
        table.add_column(header, overflow="fold")
    for (backend, reason, stage), entry in groups.items():
        text = reason if stage == "discovery" else f"{stage} failed: {reason}"
        table.add_row(backend, ", ".join(entry["variants"]), ", ".join(entry["precisions"]), Text(text))
    return table


MAX_WIDTH = 240


def natural_width(doc: dict[str, Any]) -> int:
    """How wide the results table wants to be (the CLI renders at least this wide, so that a narrow
    terminal wraps lines rather than hiding digits)."""
    from rich.console import Console
    from rich.measure import Measurement

    probe = Console(width=MAX_WIDTH)
    widths = [Measurement.get(probe, probe.options, results_table(doc)).maximum] if doc["rows"] else [80]
    return min(MAX_WIDTH, max(widths))


def render(doc: dict[str, Any]) -> Group:
    """Everything the terminal shows after a run."""
    parts: list[Any] = []
    if doc["rows"]:
        parts.append(results_table(doc))
    else:
        parts.append(Text("no backend could run here", style="bold red"))
    for line in best_cpu_lines(doc.get("best_cpu", [])):
        parts.append(Text(line, style="bold"))
    parts.extend(serving_lines(doc))
    noisy = sum(1 for r in doc["rows"] if r["cv_warning"])
    if noisy:
        parts.append(Text(f"{NOISY} {noisy} row(s) varied by more than {CV_WARNING:.1%}: the machine was busy; "
                          "re-run on a quiet machine before trusting them", style="yellow"))
    failed = sum(1 for r in doc["rows"] if not r["parity"]["passed"])
    if failed:
        parts.append(Text(f"{failed} row(s) outside their precision's parity tolerance (red):", style="bold red"))
        for r in doc["rows"]:
            if not r["parity"]["passed"]:
                parts.append(Text(f"  {r['backend']}:{r['variant']} {r['precision']} batch {r['batch']}: "
                                  + "; ".join(r["parity"]["violations"]), style="red"))
    missing = unavailable_table(doc)
    if missing is not None:
        parts.append(missing)
    builds = summary_line(doc.get("engine_builds") or [])
    if builds:
        parts.append(Text(builds))
    if doc.get("timeline"):
        parts.append(Text(timeline_line(doc["timeline"]), style="dim"))
    return Group(*parts)


def timeline_line(timeline: dict) -> str:
    """``time: reference 41 s, first row at 1 min 20 s, artifacts fp32 35 s + int8 80 s, whole run 7 min 12 s``."""
    def clock(seconds: float) -> str:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s" if minutes else f"{rest} s"

    first = timeline.get("first_row_s")
    made = " + ".join(f"{kind} {clock(s)}" for kind, s in timeline.get("artifacts", {}).items())
    return (f"time: reference {clock(timeline['reference_s'])}"
            + (f", first row at {clock(first)}" if first is not None else "")
            + (f", artifacts {made}" if made else "")
            + (f", TensorRT-RTX plans {clock(timeline['engine_builds_s'])}" if "engine_builds_s" in timeline else "")
            + f", whole run {clock(timeline['total_s'])}")
