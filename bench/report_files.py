"""Results files: ``--json`` (the whole document, see ``results.schema.json``) and ``--csv`` (one line per row).

Both are written atomically; a JSON file read back (``--baseline``) is checked against the schema first.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from gnet.atomic import write_text_atomic
from gnet.bench.results import FORMAT, validate
from gnet.errors import GnetError, first_line

CSV_COLUMNS = (
    "weights", "image_size", "backend", "runtime", "variant", "precision", "executed_precision", "batch", "io", "device", "artifact",
    "throughput_ips", "batches_per_s", "vs_torch_cpu_eager_fp32", "vs_ort_cpu_default_fp32",
    "min_ms", "mean_ms", "median_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms", "std_ms", "cv", "cv_warning",
    "iterations", "h2d_median_ms", "compute_median_ms", "d2h_median_ms", "setup_s",
    "parity_passed", "cosine_min", "max_abs", "rel_max", "top1_agreement", "top5_agreement", "accuracy",
    "reference_accuracy", "parity_images", "cpu", "vector_extensions", "gpu", "timestamp_utc", "concurrency",
    "failed_requests",
)


def finite(value: Any) -> Any:
    """The document with NaN and infinities replaced by null (JSON has no spelling for them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(finite(doc), indent=2, allow_nan=False) + "\n"


def write_json(doc: dict[str, Any], path: str | Path) -> Path:
    write_text_atomic(path, to_json(doc))
    return Path(path)


def csv_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat dict per row, with the run's weights, machine and time repeated so each line stands alone."""
    env = doc["environment"]
    gpu = (env.get("gpu") or {}).get("name") or ""
    out = []
    for r in doc["rows"]:
        lat, parity, stages = r["latency_ms"], r["parity"], r["stages_ms"]
        line = {
            "weights": doc["weights"]["name"], "image_size": doc["image_size"], "runtime": r.get("runtime", r["backend"]),
            "executed_precision": (r.get("settings") or {}).get("executed_precision", r["precision"]),
            **{k: r[k] for k in ("backend", "variant", "precision", "batch", "io", "device", "artifact",
                                 "throughput_ips", "batches_per_s", "cv_warning", "setup_s")},
            **r["speedup"],
            **{k: lat[k] for k in ("min_ms", "mean_ms", "median_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms",
                                   "std_ms", "cv", "iterations")},
            **{f"{s}_median_ms": stages[s]["median_ms"] if s in stages else None for s in ("h2d", "compute", "d2h")},
            "parity_passed": parity["passed"], "parity_images": parity["count"],
            **{k: parity[k] for k in ("cosine_min", "max_abs", "rel_max", "top1_agreement", "top5_agreement",
                                      "accuracy", "reference_accuracy")},
            "cpu": env["cpu"]["model"], "vector_extensions": env["cpu"].get("vector_extensions", ""), "gpu": gpu,
            "timestamp_utc": env["timestamp_utc"],
            "concurrency": r.get("concurrency"), "failed_requests": r.get("failed_requests"),
        }
        out.append(line)
    return out


def to_csv(doc: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for line in csv_rows(doc):
        writer.writerow({k: "" if v is None else v for k, v in finite(line).items()})
    return buffer.getvalue()


def write_csv(doc: dict[str, Any], path: str | Path) -> Path:
    write_text_atomic(path, to_csv(doc))
    return Path(path)


def read_results(path: str | Path) -> dict[str, Any]:
    """A results JSON written by ``gnet bench --json``, checked against the schema; GnetError otherwise."""
    file = Path(path)
    if not file.is_file():
        raise GnetError(f"results file {file} does not exist" if not file.exists() else f"{file} is not a file")
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GnetError(f"{file} is not a JSON file", f"{exc.__class__.__name__}: {first_line(exc, 120)}") from None
    except OSError as exc:
        raise GnetError(f"cannot read {file}", str(exc.strerror or exc)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise GnetError(f"{file} is not a gnet bench results file", remedy="write one with gnet bench --json")
    problems = validate(doc)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise GnetError(f"{file} does not follow the gnet bench results schema", f"{problems[0]}{more}")
    return doc
