"""The best CPU path over every runtime: what to deploy (artifact + runtime + settings), per batch size.

The rule: the fastest CPU row that passes parity, whatever its runtime. The answer says what a user
needs to get it, and what it was chosen over:

* the artifact file, the runtime (ONNX Runtime, OpenVINO, PyTorch), the options the row ran with (ORT
  session options or OpenVINO properties and requests in flight; an autotuned row's choice at that
  batch size), and the precision the runtime really executed (OpenVINO's read-back: an "fp32" row can
  never silently be BF16);
* ``per_runtime``: the best passing row of each runtime at that batch size, so a user tied to one
  runtime sees its best, and ``docs/cpu-runtimes.md``'s table comes from the same run;
* ``faster_but_failed``: every row faster than the chosen one that failed parity, with its violations
  (on an AVX2 CPU: OpenVINO on the TensorRT-format INT8 graph, fast and wrong).
"""

from __future__ import annotations

from typing import Any

from gnet.bench.rows import row_passed

PER_BATCH = ("layout_by_batch", "options_by_batch")
NOT_SETTINGS = ("autotune_img_s_by_batch", "compile_s_by_batch", "read_back", "executed_precision")
"""Recorded in a row's settings, but measurements rather than something a user sets."""


def deploy_settings(row: dict[str, Any]) -> dict[str, Any]:
    """The options a user sets to get this row: what the runner recorded, an autotuned row's at this batch size."""
    settings = row.get("settings") or {}
    batch = str(row["batch"])
    out = {key: value for key, value in settings.items() if key not in PER_BATCH + NOT_SETTINGS}
    for key in PER_BATCH:
        if batch in settings.get(key, {}):
            out[key.removesuffix("_by_batch")] = settings[key][batch]
    return out


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    settings = row.get("settings") or {}
    return {"backend": row["backend"], "variant": row["variant"], "precision": row["precision"],
            "runtime": row.get("runtime") or row["backend"], "artifact": row.get("artifact"),
            "executed_precision": settings.get("executed_precision") or row["precision"],
            "settings": deploy_settings(row), "throughput_ips": row["throughput_ips"],
            "top1_agreement": row["parity"]["top1_agreement"],
            "top1_informative": row["parity"].get("top1_informative", True)}


def row_speedups(row: dict[str, Any]) -> dict[str, float | None]:
    """The row's two speed-ups (None where that baseline did not run)."""
    speedup = row.get("speedup") or {}
    return {name: speedup.get(name) for name in ("vs_torch_cpu_eager_fp32", "vs_ort_cpu_default_fp32")}


def summarize_best_cpu(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per batch size: the fastest CPU row that passes parity with its speed-ups, the best of each runtime, and
    the faster rows that failed parity."""
    by_batch: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row["device"] == "cpu" and row.get("concurrency") is None:  # served rows measure a server, not a way to run it
            by_batch.setdefault(int(row["batch"]), []).append(row)
    out = []
    for batch, candidates in sorted(by_batch.items()):
        fastest_first = sorted(candidates, key=lambda r: -r["throughput_ips"])
        passing = [r for r in fastest_first if row_passed(r)]
        if not passing:
            continue
        best = passing[0]
        per_runtime: dict[str, dict[str, Any]] = {}
        for row in passing:
            per_runtime.setdefault(row.get("runtime") or row["backend"], _entry(row))
        failed = [{**_entry(r), "violations": list(r["parity"].get("violations", []))}
                  for r in fastest_first if not row_passed(r) and r["throughput_ips"] > best["throughput_ips"]]
        speedup = row_speedups(best)
        out.append({"batch": batch, **_entry(best), **speedup, "per_runtime": per_runtime, "faster_but_failed": failed})
    return out


def _options(settings: dict[str, Any]) -> str:
    """A row's options in one phrase: an autotuned row's layout, else its (session) options."""
    if "layout" in settings:
        return str(settings["layout"])
    options = settings.get("options", settings.get("session_options", "defaults"))
    if isinstance(options, dict):
        return ", ".join(f"{key}={value}" for key, value in options.items()) or "defaults"
    return str(options)


def best_cpu_lines(summary: list[dict[str, Any]]) -> list[str]:
    """The sentences the terminal report ends with: per batch, what to deploy, each runtime's best, and the faster
    rows that failed parity (a document written before these fields existed gives the first sentence only)."""
    lines = []
    for best in summary:
        ratios = []
        if best.get("vs_torch_cpu_eager_fp32") is not None:
            ratios.append(f"{best['vs_torch_cpu_eager_fp32']:.2f}× PyTorch eager FP32")
        if best.get("vs_ort_cpu_default_fp32") is not None:
            ratios.append(f"{best['vs_ort_cpu_default_fp32']:.2f}× ONNX Runtime FP32 with default options")
        how = ""
        if "runtime" in best:
            how = (f" — deploy {best['artifact']} on {best['runtime']}, runs {best['executed_precision']}, "
                   f"options: {_options(best.get('settings', {}))}")
        lines.append(f"best CPU path at batch {best['batch']}: {best['backend']}:{best['variant']} {best['precision']} "
                     f"= {best['throughput_ips']:.1f} img/s, top-1 agreement {best['top1_agreement']:.1%}"
                     + ("" if best.get("top1_informative", True) else " (not informative)")
                     + (f", {', '.join(ratios)}" if ratios else "") + how)
        others = [f"{name} {entry['throughput_ips']:.1f} img/s ({entry['backend']}:{entry['variant']} "
                  f"{entry['precision']}, {entry['artifact'] or 'no artifact'})"
                  for name, entry in best.get("per_runtime", {}).items() if name != best.get("runtime")]
        if others:
            lines.append(f"  best of each other runtime: {'; '.join(others)}")
        for fail in best.get("faster_but_failed", []):
            lines.append(f"  faster but outside its tolerance: {fail['backend']}:{fail['variant']} {fail['precision']} "
                         f"on {fail['artifact']} = {fail['throughput_ips']:.1f} img/s "
                         f"({'; '.join(fail['violations']) or 'parity failed'})")
    return lines
