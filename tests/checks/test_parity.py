"""Parity reports: which batches are checked, and accuracy that means nothing at another image size."""

from __future__ import annotations

from gnet.checks.metrics import accuracy_caveat
from gnet.checks.parity import parity_batches


def test_batches_checked():
    assert parity_batches(540) == [1, 8]
    assert parity_batches(3) == [1, 3]
    assert parity_batches(5, [1, 64, 3]) == [1, 3, 5]  # never more than the images


def test_accuracy_caveat_only_for_another_size():
    assert accuracy_caveat(64, 224) == "trained at 64 px, measured at 224 px"
    assert accuracy_caveat(224, 224) == ""
    assert accuracy_caveat(None, 224) == ""
