"""Parity of an ONNX file against PyTorch FP32, at batch 1 and at larger batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gnet.errors import GnetError
from gnet.export.images import ImageSet
from gnet.export.metrics import ParityMetrics, compare_logits
from gnet.export.ort import cpu_session, run_batched
from gnet.export.tolerances import Tolerance, tolerance_for


@dataclass
class ParityRow:
    """One comparison: a runtime at one batch size."""

    batch: int
    metrics: ParityMetrics
    violations: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations


@dataclass
class ParityReport:
    """All comparisons of one artifact, with the tolerance they were judged by."""

    artifact: str
    precision: str
    images: str
    weights: str
    tolerance: Tolerance
    rows: list[ParityRow]

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    def failure_sentence(self) -> str:
        """One sentence naming the first failing batch and why."""
        for row in self.rows:
            if row.violations:
                return (f"{self.artifact} does not match PyTorch FP32 at batch {row.batch} "
                        f"({'; '.join(row.violations)}) on {row.metrics.count} images from {self.images}")
        return ""


class ParityError(GnetError):
    """An artifact outside its precision's tolerance; carries the report so the CLI can print it."""

    def __init__(self, report: ParityReport, suffix: str = "") -> None:
        super().__init__(report.failure_sentence() + suffix)
        self.report = report


def parity_batches(count: int, requested: Sequence[int] | None = None) -> list[int]:
    """Batch sizes to check: 1 and the largest of up to 8 that the image count allows, unless given."""
    if requested:
        return sorted({max(1, min(b, count)) for b in requested})
    return sorted({1, min(8, count)})


def check_onnx(
    onnx_path: str | Path,
    reference: np.ndarray,
    images: ImageSet,
    precision: str,
    weights: str,
    batches: Sequence[int] | None = None,
    tolerance: Tolerance | None = None,
    trained: bool = True,
) -> ParityReport:
    """Run ``onnx_path`` with ONNX Runtime (CPU) and compare with PyTorch's ``reference`` logits."""
    tol = tolerance or tolerance_for(precision, trained)
    session = cpu_session(onnx_path)
    rows = []
    for batch in parity_batches(len(images), batches):
        metrics = compare_logits(reference, run_batched(session, images.data, batch), images.labels)
        rows.append(ParityRow(batch=batch, metrics=metrics, violations=tol.violations(metrics)))
    return ParityReport(
        artifact=Path(onnx_path).name, precision=precision, images=images.source,
        weights=weights, tolerance=tol, rows=rows,
    )
