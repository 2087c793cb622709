"""Which TensorRT a Triton release carries, and which plans it can load."""

from __future__ import annotations

import pytest

from gnet.errors import UsageError
from gnet.serve.triton_versions import TRTLLM_PYTHON_PY3, parts, plan_refusal, server_tensorrt, tensorrt_for


@pytest.mark.parametrize("built, compatible, server, ok", [
    ("10.13.3.9", False, "10.13.3.9", True), ("10.13.3.9", False, "10.13.2", False),
    ("10.11.0.33", True, "10.13.3.9", True), ("10.13.3.9", True, "10.11.0.33", False),
    ("10.8.0.43", True, "11.0.0", False), ("10.13.3.9", False, "10.13.3", True),  # the build number is not the version
])
def test_plan_loading_rules(built, compatible, server, ok):
    assert (plan_refusal(built, compatible, server) == "") is ok


def test_the_table_and_the_override():
    assert tensorrt_for("25.10") == "10.11.0.33" and tensorrt_for("25.12") == "10.13.3.9"
    assert server_tensorrt("25.10", "10.13.3.9") == "10.13.3.9"  # the user's own figure wins
    assert server_tensorrt(None, None) is None
    with pytest.raises(UsageError, match="does not know which TensorRT Triton 23.01 carries.*--tensorrt-version"):
        tensorrt_for("23.01")
    with pytest.raises(UsageError, match="'ten' is not a TensorRT version"):
        server_tensorrt(None, "ten")


def test_the_table_is_ordered_and_every_entry_is_a_version():
    releases = list(TRTLLM_PYTHON_PY3)
    assert releases == sorted(releases)
    assert all(parts(v)[0] in (9, 10) for v in TRTLLM_PYTHON_PY3.values())
    assert parts("9.3.0.post12.dev1") == (9, 3, 0) and parts("10.0.1") == (10, 0, 1)
