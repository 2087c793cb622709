"""The results of one benchmark run: rows, what did not run and why, and the document the reports read.

Every report (table, JSON, CSV, plot, baseline) reads the same plain-dict document, so a saved
``--json`` file can be re-plotted or compared later. Its schema is ``results.schema.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gnet.bench.stats import CV_WARNING, LatencyStats
from gnet.export.metrics import ParityMetrics
from gnet.export.tolerances import TOLERANCES, Tolerance

if TYPE_CHECKING:
    from gnet.bench.config import BenchConfig
    from gnet.export.images import ImageSet
    from gnet.export.weights_choice import ChosenWeights

FORMAT = "gnet-bench-results"
FORMAT_VERSION = 1
END_TO_END = "end-to-end"
ON_DEVICE = "on-device"
BASELINE_TORCH = ("torch-cpu", "eager", "fp32")
BASELINE_ORT = ("ort-cpu", "default", "fp32")


@dataclass
class Parity:
    """A row's agreement with PyTorch FP32 on the same real images."""

    metrics: ParityMetrics
    tolerance: Tolerance
    violations: list[str]

    @property
    def passed(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "tolerance": self.tolerance.precision,
            "violations": list(self.violations),
            **self.metrics.to_dict(),
        }


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
    parity: Parity
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    concurrency: int | None = None  # served rows: clients at once
    failed_requests: int = 0
    request_errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        served = {} if self.concurrency is None else {
            "concurrency": self.concurrency, "failed_requests": self.failed_requests,
            "request_errors": list(self.request_errors)}
        return {
            "backend": self.backend,
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
        }


def row_key(row: dict[str, Any]) -> tuple[str, str, str, int, str]:
    """What identifies a row across runs (for baselines): backend, variant, precision, batch, I/O mode
    (a served row's clients at once joins its I/O mode: ``end-to-end ×4``)."""
    io = row["io"] if row.get("concurrency") is None else f"{row['io']} ×{row['concurrency']}"
    return (row["backend"], row["variant"], row["precision"], int(row["batch"]), io)


def row_passed(row: dict[str, Any]) -> bool:
    """Parity within tolerance and, for a served row, not one failed request."""
    return bool(row["parity"]["passed"]) and not row.get("failed_requests")


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


def summarize_best_cpu(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per batch size: the fastest CPU row that passes parity, with its two speed-ups (requirement 5)."""
    best: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["device"] != "cpu" or not row_passed(row) or row.get("concurrency") is not None:
            continue  # served rows measure a server, not a way to run the model in process
        current = best.get(row["batch"])
        if current is None or row["throughput_ips"] > current["throughput_ips"]:
            best[row["batch"]] = row
    return [
        {
            "batch": batch,
            "backend": row["backend"],
            "variant": row["variant"],
            "precision": row["precision"],
            "throughput_ips": row["throughput_ips"],
            "top1_agreement": row["parity"]["top1_agreement"],
            **row["speedup"],
        }
        for batch, row in sorted(best.items())
    ]


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
             rows: list[Row], unavailable: list[Unavailable]) -> dict[str, Any]:
    """The results document every report reads (see ``results.schema.json``)."""
    loaded = chosen.loaded
    row_dicts = [row.to_dict() for row in rows]
    add_speedups(row_dicts)
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
    }
