"""Parity of an ONNX file against PyTorch FP32, at batch 1 and at larger batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gnet.checks.images import ImageSet
from gnet.checks.metrics import ParityMetrics, accuracy_caveat, compare_logits
from gnet.checks.ort import cpu_session, run_batched
from gnet.checks.tolerances import Tolerance, tolerance_for
from gnet.errors import GnetError


@dataclass
class ParityCheck:
    """One comparison with PyTorch FP32 on the same images, judged: the metrics, the tolerance they were held to,
    and what broke it (nothing, when it passed). ``batch``: the batch size it ran at, where it matters."""

    metrics: ParityMetrics
    tolerance: Tolerance
    violations: list[str] = field(default_factory=list)
    batch: int | None = None
    is_reference: bool = False
    """These logits are the reference itself (the bench's PyTorch eager FP32 row): agreement by construction."""

    @property
    def passed(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "tolerance": self.tolerance.precision, "violations": list(self.violations),
                **self.metrics.to_dict(), **({"is_reference": True} if self.is_reference else {})}


@dataclass
class ParityReport:
    """All comparisons of one artifact, with the tolerance they were judged by."""

    artifact: str
    precision: str
    images: str
    weights: str
    tolerance: Tolerance
    checks: list[ParityCheck]
    accuracy_caveat: str = ""  # why the accuracy figures mean nothing here (weights trained at another size)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def first_failure(self) -> tuple[str, str]:
        """(what, why) of the first failing batch: which artifact, batch and images, and every violation."""
        for check in self.checks:
            if check.violations:
                return (f"{self.artifact} does not match PyTorch FP32 at batch {check.batch} on "
                        f"{check.metrics.count} images from {self.images}", "; ".join(check.violations))
        return "", ""


class ParityError(GnetError):
    """An artifact outside its precision's tolerance; carries the report so the CLI can print it."""

    def __init__(self, report: ParityReport, remedy: str = "", where: str = "") -> None:
        what, why = report.first_failure()
        super().__init__(what, f"{why}; {where}" if where else why, remedy)
        self.report = report


def parity_batches(count: int, requested: Sequence[int] | None = None) -> list[int]:
    """Batch sizes to check: 1 and the largest of up to 8 that the image count allows, unless given."""
    if requested:
        return sorted({max(1, min(b, count)) for b in requested})
    return sorted({1, min(8, count)})


def check_onnx(onnx_path: str | Path, reference: np.ndarray, images: ImageSet, precision: str, weights: str,
               batches: Sequence[int] | None = None, **judged: Any) -> ParityReport:
    """Run ``onnx_path`` with ONNX Runtime (CPU) and compare with PyTorch's ``reference`` logits at each batch
    size (``judged``: ``tolerance``, ``trained``, ``trained_image_size`` as for :func:`check_logits`)."""
    session = cpu_session(onnx_path)
    return check_logits(Path(onnx_path).name, lambda data, batch: run_batched(session, data, batch), reference,
                        images, precision, weights, batches, **judged)


def check_logits(
    artifact: str,
    run: Callable[[np.ndarray, int], np.ndarray],
    reference: np.ndarray,
    images: ImageSet,
    precision: str,
    weights: str,
    batches: Sequence[int] | None = None,
    tolerance: Tolerance | None = None,
    trained: bool = True,
    trained_image_size: int | None = None,
) -> ParityReport:
    """Compare ``run(images, batch)`` (any runtime's logits, ``batch`` images at a time) with PyTorch's
    ``reference`` logits at each parity batch size.

    ``trained_image_size``: the size the weights were trained at, when known; measured at another
    size, their accuracy means nothing and the report says so (parity still does).
    """
    tol = tolerance or tolerance_for(precision, trained)
    checks = []
    for batch in parity_batches(len(images), batches):
        metrics = compare_logits(reference, run(images.data, batch), images.labels)
        checks.append(ParityCheck(metrics, tol, tol.violations(metrics), batch))
    return ParityReport(
        artifact=artifact, precision=precision, images=images.source,
        weights=weights, tolerance=tol, checks=checks,
        accuracy_caveat=accuracy_caveat(trained_image_size, int(images.data.shape[-1])),
    )

