"""Per-precision tolerances: each violation is named."""

import numpy as np
import pytest

from gnet.checks.metrics import compare_logits
from gnet.checks.tolerances import tolerance_for


def test_tolerance_reports_each_violation():
    ref = np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
    out = np.array([[3.0, 1.5, 0.0], [0.0, 1.0, 2.0]])
    reasons = tolerance_for("fp32").violations(compare_logits(ref, out))
    assert any("relative max error" in r for r in reasons)
    assert any("top-1 agreement" in r for r in reasons)
    assert tolerance_for("fp32").passes(compare_logits(ref, ref))
    with pytest.raises(ValueError):
        tolerance_for("int4")


def test_bf16_is_judged_by_fp16s_bounds():
    bf16, fp16 = tolerance_for("bf16"), tolerance_for("fp16")
    assert (bf16.rel_max, bf16.cosine_min, bf16.top1_agreement) == (fp16.rel_max, fp16.cosine_min, fp16.top1_agreement)
    assert tolerance_for("bf16", trained=False).top1_agreement == 0.0
