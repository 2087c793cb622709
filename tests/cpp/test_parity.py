"""C++ logits equal Python's for the same pixels: every ONNX artifact of the trained fixture and its FP32 IR, run
by gnet-infer (OpenVINO's C++ API) and by gnet.runners.OpenVINORunner (its Python API) on one float32 tensor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gnet.checks.images import load_digits_set
from gnet.checks.metrics import compare_logits
from gnet.checks.tolerances import tolerance_for
from gnet.runners import OpenVINORunner
from tests.cpp import gnet_infer as cpp

FP32_BOUND = 1e-4
"""max |Δ| relative to the largest |logit|, for FP32 (the issue's bound; gnet's FP32 tolerance against PyTorch)."""
ARTIFACTS = {"fp32": "fp32_onnx", "fp16": "fp16", "fp16-io": "fp16_io_onnx", "int8": "int8_trt", "int8-cpu": "int8_cpu",
             "fp32-ir": "fp32_ir"}
"""Each artifact kind and the session fixture that makes it (tests/conftest.py, tests/cpp/conftest.py)."""


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """Sixteen held-out digits, preprocessed by Python at the fixture's 64 px."""
    return load_digits_set("eval", 64, limit=16).data


def relative_max(reference: np.ndarray, candidate: np.ndarray) -> float:
    return float(np.abs(candidate - reference).max() / np.abs(reference).max())


def within(precision: str, reference: np.ndarray, candidate: np.ndarray) -> bool:
    """FP32: the relative bound; FP16 and INT8: gnet's tolerance of that precision (cosine, relative max, top-1)."""
    if precision == "fp32":
        return relative_max(reference, candidate) <= FP32_BOUND
    return tolerance_for(precision).passes(compare_logits(reference, candidate))


@pytest.mark.parametrize("kind", sorted(ARTIFACTS))
def test_cpp_logits_equal_pythons_for_the_same_pixels(kind: str, request: pytest.FixtureRequest, gnet_infer: Path,
                                                     digits: np.ndarray, tmp_path: Path):
    made = request.getfixturevalue(ARTIFACTS[kind])
    model = Path(getattr(made, "path", made))  # an export's result, or a path
    precision = kind.split("-")[0]
    cpp_logits = cpp.logits_of(gnet_infer, model, digits, tmp_path)
    with OpenVINORunner(model) as runner:
        python_logits = runner.infer(digits)
    assert cpp_logits.shape == python_logits.shape == (16, 10)
    assert within(precision, python_logits, cpp_logits), relative_max(python_logits, cpp_logits)
    assert within("fp32", python_logits, cpp_logits)  # the same runtime with the same hint: FP32's bound holds too
    # The comparison can fail: one logit moved by 1% of the logit scale, or two images' answers swapped.
    moved = cpp_logits.copy()
    moved[3, 0] += 0.01 * np.abs(python_logits).max()
    assert not within("fp32", python_logits, moved)
    assert not within(precision, python_logits, cpp_logits[[1, 0, *range(2, 16)]])


def test_the_batch_size_does_not_change_the_logits(gnet_infer: Path, fp32_onnx: Path, digits: np.ndarray,
                                                   tmp_path: Path):
    whole = cpp.logits_of(gnet_infer, fp32_onnx, digits, tmp_path, batch=16)
    by_five = cpp.logits_of(gnet_infer, fp32_onnx, digits, tmp_path, batch=5)  # 5 + 5 + 5 + 1
    assert relative_max(whole, by_five) <= FP32_BOUND
