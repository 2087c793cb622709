import numpy as np
import pytest

from gnet.export.metrics import compare_logits


def test_identical_logits_are_perfect():
    ref = np.random.default_rng(0).normal(size=(6, 20)).astype(np.float32)
    m = compare_logits(ref, ref.copy())
    assert m.max_abs == 0 and m.mean_abs == 0 and m.rel_max == 0
    assert m.cosine_min == pytest.approx(1.0) and m.top1_agreement == 1.0 and m.top5_agreement == 1.0


def test_metrics_count_disagreements_and_errors():
    ref = np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
    out = np.array([[3.0, 1.5, 0.0], [0.0, 1.0, 2.0]])  # second image flips its top-1
    m = compare_logits(ref, out, labels=np.array([0, 1]))
    assert m.max_abs == pytest.approx(1.0)
    assert m.mean_abs == pytest.approx((0.5 + 1.0 + 1.0) / 6)
    assert m.rel_max == pytest.approx(1.0 / 3.0)
    assert m.top1_agreement == 0.5
    assert m.accuracy == 0.5 and m.reference_accuracy == 1.0 and m.accuracy_drop == pytest.approx(50.0)
    cos2 = (0 + 2 + 2) / (np.sqrt(5) * np.sqrt(5))
    assert m.cosine_min == pytest.approx(cos2)


def test_top5_is_compared_as_a_set():
    ref = np.arange(10, dtype=float)[None, :]
    out = ref.copy()
    out[0, [9, 8]] = out[0, [8, 9]]  # reorder within the top-5 only
    assert compare_logits(ref, out).top5_agreement == 1.0
    out[0, 0] = 100.0  # a new class enters the top-5
    assert compare_logits(ref, out).top5_agreement == 0.0
