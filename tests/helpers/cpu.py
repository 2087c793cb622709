"""The two CPU kinds this project is built and tested on, and a way to make gnet believe it runs on either.

The machines that run ``make test`` change CPU model from one day to the next (AMD Zen 3 with AVX2 only, AMD Zen 4
with AVX-512, VNNI and BF16), and CI runs on the machine that submits. gnet reads the CPU in two places:
``/proc/cpuinfo`` (:mod:`gnet.system`: model, flags, vector extensions) and OpenVINO's
``OPTIMIZATION_CAPABILITIES`` (:func:`gnet.openvino_ir.runtime.capabilities`: whether a bf16 row exists).
:func:`fake_cpu` replaces both answers, so a test of either branch runs on every machine.

What is faked is what gnet *reads*, never what the kernels *do*: OpenVINO still executes what the real CPU can, so
a bf16 row faked onto an AVX2 CPU compiles in f32, and gnet's read-back refuses it (as it must refuse any lie).

``GNET_TEST_CPU=avx2`` or ``GNET_TEST_CPU=avx512-vnni-bf16`` runs the whole suite as if on that kind
(``tests/conftest.py``); the ``cpu_kind`` fixture runs one test on each kind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from gnet import system
from gnet.openvino_ir import runtime as openvino_runtime

ENV = "GNET_TEST_CPU"
"""The environment variable that runs the suite as if on another CPU kind (its value: a :data:`KINDS` name)."""


@dataclass(frozen=True)
class CpuKind:
    """What gnet reads of one CPU kind: its ``/proc/cpuinfo`` lines and OpenVINO's capability list."""

    name: str
    model: str
    flags: str
    openvino_capabilities: tuple[str, ...]
    vector_extensions: str
    """The label :func:`gnet.system.vector_extensions` must give it (the test of the label, written out)."""

    @property
    def has_bf16(self) -> bool:
        return "BF16" in self.openvino_capabilities

    def cpuinfo(self) -> str:
        return f"model name\t: {self.model}\nflags\t\t: {self.flags}\n"


_BASE_FLAGS = "fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt aes pclmulqdq avx f16c fma avx2 bmi1 bmi2"
AVX2 = CpuKind("avx2", "AMD EPYC 7B13 (faked Zen 3)", _BASE_FLAGS, ("FP32", "INT8", "BIN", "EXPORT_IMPORT"), "AVX2")
"""AMD Zen 3 as this workplace has it: what OpenVINO 2026.4 lists there (seen on the machine)."""
AVX512_VNNI_BF16 = CpuKind(
    "avx512-vnni-bf16", "AMD EPYC 9B14 (faked Zen 4)",
    _BASE_FLAGS + " avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni avx512_bf16 avx512_vbmi",
    ("BF16", "WINOGRAD", "FP32", "INT8", "BIN", "EXPORT_IMPORT"), "AVX-512 VNNI BF16")
"""AMD Zen 4 as this workplace has it: what OpenVINO 2026.4 lists there (issue 17's report from such a machine)."""
KINDS = {kind.name: kind for kind in (AVX2, AVX512_VNNI_BF16)}

_REAL_CPUINFO = system._cpuinfo
_REAL_CAPABILITIES = openvino_runtime.capabilities


def real_openvino_capabilities() -> list[str]:
    """OpenVINO's own answer for the machine the tests run on, even while a kind is faked."""
    return _REAL_CAPABILITIES()


def real_cpuinfo() -> str:
    """This machine's ``/proc/cpuinfo``, even while a kind is faked."""
    return _REAL_CPUINFO()


def fake_cpu(monkeypatch: pytest.MonkeyPatch, kind: CpuKind) -> CpuKind:
    """Make every gnet module read ``kind`` as this machine's CPU until ``monkeypatch`` is undone."""
    monkeypatch.setattr(system, "_cpuinfo", kind.cpuinfo)
    monkeypatch.setattr(openvino_runtime, "capabilities", lambda: list(kind.openvino_capabilities))
    return kind


def kind_from_environment() -> CpuKind | None:
    """The kind ``GNET_TEST_CPU`` names (None when unset); a name it does not know stops the run with the list."""
    name = os.environ.get(ENV, "").strip()
    if not name:
        return None
    if name not in KINDS:
        raise pytest.UsageError(f"{ENV}={name!r} is not a CPU kind the tests know; use one of {', '.join(KINDS)}")
    return KINDS[name]
