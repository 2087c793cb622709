"""The results of one benchmark run: rows, what did not run and why, and the document the reports read.

Every report (table, JSON, CSV, plot, baseline) reads the same plain-dict document, so a saved
``--json`` file can be re-plotted or compared later. Its schema is ``results.schema.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from gnet.bench.best_cpu import summarize_best_cpu
from gnet.bench.stats import CV_WARNING, LatencyStats
from gnet.checks.tolerances import TOLERANCES
from gnet.json_schema import schema_errors

if TYPE_CHECKING:
    from gnet.bench.config import BenchConfig
    from gnet.checks.images import ImageSet
    from gnet.checks.parity import ParityCheck
    from gnet.export.weights_choice import ChosenWeights

SCHEMA_FILE = "results.schema.json"
FORMAT = "gnet-bench-results"
FORMAT_VERSION = 1
END_TO_END = "end-to-end"
ON_DEVICE = "on-device"
BASELINE_TORCH = ("torch-cpu", "eager", "fp32")
BASELINE_ORT = ("ort-cpu", "default", "fp32")


@dataclass
class Row:
    """One backend × variant × precision × batch × I/O mode, measured and checked."""

    backend: str
    variant: str
    precision: str
    batch: int
    io: str
    device: str
    artifact: str | None
    throughput_ips: float
    latency: LatencyStats
    stages: dict[str, LatencyStats]
    warmup_iterations: int
    setup_s: float
    parity: ParityCheck
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    runtime: str = ""  # the runtime a user deploys the row with (Runner.runtime)
    concurrency: int | None = None  # served rows: clients at once
    failed_requests: int = 0
    request_errors: list[str] = field(default_factory=list)
    parity_s: float | None = None  # running the parity images through the row's runner
    finished_s: float | None = None  # seconds from the run's start to this row's last timed iteration

    def to_dict(self) -> dict[str, Any]:
        served = {} if self.concurrency is None else {
            "concurrency": self.concurrency, "failed_requests": self.failed_requests,
            "request_errors": list(self.request_errors)}
        return {
            "backend": self.backend,
            "runtime": self.runtime or self.backend,
            "variant": self.variant,
            "precision": self.precision,
            "batch": self.batch,
            "io": self.io,
            "device": self.device,
            "artifact": self.artifact,
            "throughput_ips": self.throughput_ips,
            "batches_per_s": self.throughput_ips / self.batch,
            "latency_ms": self.latency.to_dict(),
            "cv_warning": self.latency.cv > CV_WARNING,
            "stages_ms": {name: stats.to_dict() for name, stats in self.stages.items()},
            "warmup_iterations": self.warmup_iterations,
            "setup_s": self.setup_s,
            "parity": self.parity.to_dict(),
            "settings": self.settings,
            "notes": list(self.notes),
            "speedup": {},
            **served,
            **({"parity_s": self.parity_s} if self.parity_s is not None else {}),
            **({"finished_s": self.finished_s} if self.finished_s is not None else {}),
        }


def add_speedups(rows: list[dict[str, Any]]) -> None:
    """Fill each row's ``speedup`` with its throughput over torch-cpu eager FP32 and ort-cpu default FP32
    at the same batch size (end to end), where those rows ran."""
    refs: dict[tuple[str, str, str, int], float] = {}
    for row in rows:
        if row["io"] == END_TO_END:
            refs[(row["backend"], row["variant"], row["precision"], row["batch"])] = row["throughput_ips"]
    for row in rows:
        speedup = {}
        for name, key in (("vs_torch_cpu_eager_fp32", BASELINE_TORCH), ("vs_ort_cpu_default_fp32", BASELINE_ORT)):
            ref = refs.get((*key, row["batch"]))
            speedup[name] = row["throughput_ips"] / ref if ref else None
        row["speedup"] = speedup


@dataclass(frozen=True)
class Unavailable:
    """A backend × variant × precision that did not run, and the one clause saying why."""

    backend: str
    variant: str
    precision: str
    reason: str
    stage: str = "discovery"  # discovery | artifact | prepare | run

    def to_dict(self) -> dict[str, str]:
        return {"backend": self.backend, "variant": self.variant, "precision": self.precision,
                "reason": self.reason, "stage": self.stage}


def run_failure(doc: dict[str, Any], asked: list[str] | None) -> str:
    """Why a benchmark run failed ("" when it did not): no row ran, a runner failed after discovery,
    or a backend the user named (``asked``) produced no row. Combinations that cannot run here are
    listed in every report but fail nothing when the user did not ask for that backend by name."""
    if not doc["rows"]:
        reasons = sorted({f"{u['backend']}: {u['reason']}" for u in doc["unavailable"]})
        return "no backend could run here" + (f" ({'; '.join(reasons[:3])})" if reasons else "")
    failed = [u for u in doc["unavailable"] if u["stage"] != "discovery"]
    if failed:
        first = failed[0]
        return (f"{len(failed)} backend row(s) failed while running, e.g. {first['backend']}:{first['variant']} "
                f"{first['precision']} ({first['stage']}: {first['reason']})")
    ran = {row["backend"] for row in doc["rows"]}
    missing = [name for name in asked or [] if name not in ran]
    if missing:
        why = next((u["reason"] for u in doc["unavailable"] if u["backend"] == missing[0]), "")
        return f"the asked-for backend {missing[0]} did not run" + (f" ({why})" if why else "")
    return ""


def _config(config: BenchConfig, backends: list[tuple[str, str | None]], precisions: list[str]) -> dict[str, Any]:
    return {
        "backends": [f"{b}:{v}" if v else b for b, v in backends],
        "precisions": precisions,
        "batches": list(config.batches),
        "threads": config.threads,
        "warmup_ms": config.timing.warmup_ms,
        "duration_s": config.timing.duration_s,
        "min_iterations": config.timing.min_iterations,
        "on_device": config.on_device,
        "artifacts": str(config.artifacts),
        "concurrency": list(config.concurrency),
    }


def document(config: BenchConfig, backends: list[tuple[str, str | None]], precisions: list[str],
             chosen: ChosenWeights, image_size: int, images: ImageSet, environment: dict[str, Any],
             rows: list[Row], unavailable: list[Unavailable],
             engine_builds: list[dict[str, Any]] | None = None,
             timeline: dict[str, Any] | None = None) -> dict[str, Any]:
    """The results document every report reads (see ``results.schema.json``); ``engine_builds`` (optional):
    what building each precision's TensorRT-RTX plan cost here (``gnet.bench.engine_builds``); ``timeline``
    (optional): where the run's wall-clock time went (see :class:`gnet.bench.harness.Timeline`)."""
    loaded = chosen.loaded
    row_dicts = [row.to_dict() for row in rows]
    add_speedups(row_dicts)
    extra = {"engine_builds": engine_builds} if engine_builds is not None else {}
    if timeline is not None:
        extra["timeline"] = timeline
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "weights": {"name": loaded.weights, "spec": loaded.spec, "sha256": loaded.weights_sha256,
                    "dataset": loaded.dataset, "reason": chosen.reason, "trained_image_size": loaded.image_size},
        "image_size": image_size,
        "images": {"source": images.source, "count": len(images), "labels": images.labels is not None},
        "config": _config(config, backends, precisions),
        "tolerances": {name: {"rel_max": t.rel_max, "cosine_min": t.cosine_min, "top1_agreement": t.top1_agreement,
                              "max_accuracy_drop_points": t.max_accuracy_drop_points}
                       for name, t in TOLERANCES.items()},
        "environment": environment,
        "rows": row_dicts,
        "unavailable": [u.to_dict() for u in unavailable],
        "best_cpu": summarize_best_cpu(row_dicts),
        **extra,
    }


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The results schema, shipped beside this module."""
    return json.loads(resources.files("gnet.bench").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def validate(doc: Any) -> list[str]:
    """Problems of a results document against ``results.schema.json`` (empty when it is valid)."""
    return schema_errors(doc, schema(), "$")
