"""TensorRT-RTX's compute-capability targets, read from the real module's enum."""

from __future__ import annotations

import pytest

from gnet.engines import rtx_targets
from gnet.errors import UsageError
from tests.helpers.rtx import real_rtx


def test_targets_come_from_the_enum_in_order():
    trt = real_rtx()
    assert rtx_targets.targets(trt) == ["sm75", "sm80", "sm86", "sm89", "sm120", "sm121"]
    assert rtx_targets.supported_text(trt) == "7.5, 8.0, 8.6, 8.9, 12.0 and 12.1"
    assert rtx_targets.supports(trt, "8.9") and not rtx_targets.supports(trt, "9.0")  # the H100: no SM90
    assert rtx_targets.cc_text("sm121") == "12.1"


def test_parse_gives_enum_members():
    trt = real_rtx()
    assert rtx_targets.parse(trt, None) == []
    assert rtx_targets.parse(trt, " sm86, SM89 ") == [trt.ComputeCapability.SM86, trt.ComputeCapability.SM89]
    assert rtx_targets.parse(trt, "current") == [trt.ComputeCapability.CURRENT]


@pytest.mark.parametrize("text, needle", [
    ("sm90", "--compute-capability 'sm90' is not a comma-separated list of sm75, sm80, sm86, sm89, sm120, sm121"),
    ("", "is not a comma-separated list"),
    ("sm86,current", "current cannot be combined with other targets"),
    ("sm86,sm86", "names a target twice"),
])
def test_bad_lists_are_one_sentence(text: str, needle: str):
    with pytest.raises(UsageError, match=needle):
        rtx_targets.parse(real_rtx(), text)
