import numpy as np
import pytest

from gnet.checks.metrics import compare_logits


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


def test_top1_is_not_informative_when_the_reference_answers_one_class():
    rng = np.random.default_rng(0)
    one_class = rng.normal(size=(40, 10))
    one_class[:, 1] += 100.0  # the old fixture at 224 px: class 1 for every digit
    metrics = compare_logits(one_class, one_class.copy())
    assert metrics.top1_agreement == 1.0 and not metrics.top1_informative
    assert "answers 1 of 10 classes" in metrics.top1_caveat() and metrics.to_dict()["top1_informative"] is False
    spread = rng.normal(size=(40, 10))
    spread[np.arange(40), np.arange(40) % 10] += 100.0
    assert compare_logits(spread, spread).top1_informative and compare_logits(spread, spread).top1_caveat() == ""
    assert compare_logits(spread[:3], spread[:3]).classes_needed == 3  # fewer images than classes: one per image


def test_edited_precision_metadata_cannot_choose_a_looser_tolerance():
    from gnet.checks.check import judged_precision
    from gnet.errors import GnetError

    assert judged_precision("fp32", {"precision": "fp32"}, "m.onnx") == "fp32"
    with pytest.raises(GnetError, match="says it is int8 but its graph is fp32"):
        judged_precision("fp32", {"precision": "int8"}, "m.onnx")
