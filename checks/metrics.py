"""Per-output parity metrics between a reference (PyTorch FP32) and a candidate's logits."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

INFORMATIVE_CLASS_SHARE = 0.8
"""Top-1 agreement is evidence only when the reference's own top-1 answers cover at least this share of the
classes it could show on these images (all classes, or one per image when there are fewer images): a
reference that answers one class for everything agrees with any candidate that does the same."""


@dataclass(frozen=True)
class ParityMetrics:
    """How closely a candidate's logits follow the reference's on the same images."""

    count: int
    max_abs: float
    mean_abs: float
    rel_max: float  # max_abs / max |reference|
    cosine_min: float  # worst per-image cosine similarity
    cosine_mean: float
    top1_agreement: float  # fraction of images whose top-1 class matches the reference's
    top5_agreement: float  # fraction whose top-5 set equals the reference's (as sets)
    accuracy: float | None = None  # candidate's top-1 accuracy, when labels are known
    reference_accuracy: float | None = None
    nonfinite: int = 0  # NaN or infinite values in either array: always a failure
    reference_classes: int = 0  # distinct top-1 classes among the reference's answers
    num_classes: int = 0

    @property
    def classes_needed(self) -> int:
        """How many distinct reference answers make top-1 agreement informative on these images."""
        return max(1, math.ceil(INFORMATIVE_CLASS_SHARE * min(self.num_classes, self.count)))

    @property
    def top1_informative(self) -> bool:
        return self.reference_classes >= self.classes_needed

    def top1_caveat(self) -> str:
        """Why top-1 agreement proves nothing here ("" when it does)."""
        if self.top1_informative:
            return ""
        return (f"top-1 not informative: the reference answers {self.reference_classes} of {self.num_classes} "
                f"classes on these {self.count} images (needs {self.classes_needed})")

    @property
    def accuracy_drop(self) -> float | None:
        """Reference accuracy minus candidate accuracy, in percentage points."""
        if self.accuracy is None or self.reference_accuracy is None:
            return None
        return 100.0 * (self.reference_accuracy - self.accuracy)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["accuracy_drop_points"] = self.accuracy_drop
        data["top1_informative"] = self.top1_informative
        return data


def _topk(logits: np.ndarray, k: int) -> np.ndarray:
    k = min(k, logits.shape[1])
    return np.argsort(-logits, axis=1, kind="stable")[:, :k]


def compare_logits(reference: np.ndarray, candidate: np.ndarray, labels: np.ndarray | None = None) -> ParityMetrics:
    """Compare two ``[N, classes]`` logit arrays (the candidate is cast to float64 first).

    A NaN or infinity in either array is counted in ``nonfinite`` and makes every error metric
    NaN (never 0 or a perfect cosine): :meth:`Tolerance.violations` fails such a comparison.
    """
    ref = np.asarray(reference, dtype=np.float64)
    out = np.asarray(candidate, dtype=np.float64)
    if ref.shape != out.shape:
        raise ValueError(f"shape mismatch: reference {ref.shape} vs candidate {out.shape}")
    nonfinite = int(np.count_nonzero(~np.isfinite(ref)) + np.count_nonzero(~np.isfinite(out)))
    diff = np.abs(out - ref)
    norms = np.linalg.norm(ref, axis=1) * np.linalg.norm(out, axis=1)
    with np.errstate(invalid="ignore"):
        cos = np.where(norms > 0, np.sum(ref * out, axis=1) / np.maximum(norms, 1e-300),
                       np.where(np.isfinite(norms), 1.0, np.nan))
    top1_ref, top1_out = ref.argmax(axis=1), out.argmax(axis=1)
    top5_ref, top5_out = np.sort(_topk(ref, 5), axis=1), np.sort(_topk(out, 5), axis=1)
    accuracy = ref_accuracy = None
    if labels is not None:
        labels = np.asarray(labels)
        accuracy = float(np.mean(top1_out == labels))
        ref_accuracy = float(np.mean(top1_ref == labels))
    nan = float("nan")
    peak = float(np.max(np.abs(ref))) if ref.size else 0.0
    max_abs = float(diff.max()) if diff.size else 0.0
    return ParityMetrics(
        count=int(ref.shape[0]),
        max_abs=nan if nonfinite else max_abs,
        mean_abs=nan if nonfinite else (float(diff.mean()) if diff.size else 0.0),
        rel_max=nan if nonfinite else (max_abs / peak if peak > 0 else 0.0),
        cosine_min=nan if nonfinite else (float(cos.min()) if cos.size else 1.0),
        cosine_mean=nan if nonfinite else (float(cos.mean()) if cos.size else 1.0),
        top1_agreement=float(np.mean(top1_ref == top1_out)),
        top5_agreement=float(np.mean(np.all(top5_ref == top5_out, axis=1))),
        accuracy=accuracy,
        reference_accuracy=ref_accuracy,
        nonfinite=nonfinite,
        reference_classes=int(np.unique(top1_ref).size) if ref.size else 0,
        num_classes=int(ref.shape[1]) if ref.ndim == 2 else 0,
    )


def accuracy_caveat(trained_image_size: int | None, measured_image_size: int) -> str:
    """Why accuracy means nothing at this size ("" when it does): the weights were trained at another one."""
    if trained_image_size and trained_image_size != measured_image_size:
        return f"trained at {trained_image_size} px, measured at {measured_image_size} px"
    return ""
