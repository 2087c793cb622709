"""Which TensorRT a Triton release carries, so ``gnet triton-repo`` can refuse a plan that server cannot load.

A plan loads only on the TensorRT release that built it (exact major.minor.patch), or, when built
version-compatible, on a release of the same major at least as new. The server's TensorRT comes from
``--tensorrt-version`` when given (always right: it is what the user's image has), else from
``--triton-version`` through :data:`TRTLLM_PYTHON_PY3`.

Source of the table (read 2026-11-23): triton-inference-server/server, ``docs/introduction/compatibility.md``
(commit 0f963c9a8c6913aa4cd9b57ee04f9c2b76ee8d2a), table "Container Name: trtllm-python-py3", column
"TensorRT version" — the only TensorRT column that file has. It describes the ``YY.MM-trtllm-python-py3``
images. **Not established:** the TensorRT of the plain ``YY.MM-py3`` images (listed per release in
NVIDIA's release notes, which could not be read from this workplace); they may differ (25.10-py3 is
built on CUDA 13.0, the 25.10 trtllm image on CUDA 12.9). For those images pass ``--tensorrt-version``.
"""

from __future__ import annotations

from gnet.errors import UsageError

FLAVOUR = "trtllm-python-py3"
SOURCE = ("https://github.com/triton-inference-server/server/blob/0f963c9a8c6913aa4cd9b57ee04f9c2b76ee8d2a/"
          "docs/introduction/compatibility.md (trtllm-python-py3 table)")

TRTLLM_PYTHON_PY3: dict[str, str] = {
    "24.04": "9.3.0.post12.dev1", "24.05": "10.0.1.6", "24.06": "10.0.1", "24.07": "10.1.0", "24.08": "10.3.0",
    "24.09": "10.4.0", "24.10": "10.4.0", "24.11": "10.6.0", "24.12": "10.7.0",
    "25.01": "10.8.0.43", "25.02": "10.8.0.43", "25.03": "10.9.0.34", "25.04": "10.9.0.34", "25.05": "10.9.0.34",
    "25.06": "10.10.0.31", "25.07": "10.10.0.31", "25.08": "10.11.0.33", "25.09": "10.11.0.33", "25.10": "10.11.0.33",
    "25.11": "10.13.3.9", "25.12": "10.13.3.9", "26.01": "10.13.3.9", "26.02": "10.13.3.9",
    "26.03": "10.14.1.48", "26.04": "10.14.1.48", "26.05": "10.14.1.48", "26.06": "10.14.1.48", "26.07": "10.14.1.48",
}
"""Triton release (NGC tag ``YY.MM-trtllm-python-py3``) → the TensorRT version inside it."""


def tensorrt_for(release: str) -> str:
    """The TensorRT of a Triton release's trtllm-python-py3 image; UsageError for a release not in the table."""
    if release not in TRTLLM_PYTHON_PY3:
        known = sorted(TRTLLM_PYTHON_PY3)
        raise UsageError(f"gnet does not know which TensorRT Triton {release} carries",
                         f"its table ({FLAVOUR} images) covers {known[0]} to {known[-1]}",
                         "pass --tensorrt-version X.Y.Z from that release's notes instead")
    return TRTLLM_PYTHON_PY3[release]


def server_tensorrt(triton_version: str | None, tensorrt_version: str | None) -> str | None:
    """The server's TensorRT: ``--tensorrt-version`` if given, else looked up from ``--triton-version``."""
    if tensorrt_version:
        parts(tensorrt_version)
        return tensorrt_version
    return tensorrt_for(triton_version) if triton_version else None


def parts(version: str) -> tuple[int, int, int]:
    """``10.13.3.9`` → ``(10, 13, 3)``; UsageError for text that is not a version."""
    pieces = version.split(".")
    numbers = []
    for piece in pieces[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit()) if piece[:1].isdigit() else ""
        if not digits:
            raise UsageError(f"{version!r} is not a TensorRT version", remedy="write it like 10.13.3.9")
        numbers.append(int(digits))
    while len(numbers) < 3:
        numbers.append(0)
    return numbers[0], numbers[1], numbers[2]


def plan_refusal(plan_trt: str, version_compatible: bool, server_trt: str) -> str:
    """Why a plan built with TensorRT ``plan_trt`` cannot load on ``server_trt`` ("" when it can)."""
    built, serving = parts(plan_trt), parts(server_trt)
    if version_compatible:
        if built[0] != serving[0] or serving < built:
            return (f"it was built version-compatible with TensorRT {plan_trt}, which loads only on TensorRT "
                    f"{built[0]}.x from {plan_trt} on, but the server has TensorRT {server_trt}")
        return ""
    if built != serving:
        return f"it was built with TensorRT {plan_trt} but the server has TensorRT {server_trt}"
    return ""
