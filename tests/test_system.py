"""Machine facts: the CPU's model and vector extensions, cores, and why no GPU is usable."""

from __future__ import annotations

import pytest

from gnet import system
from gnet.openvino_ir import runtime as openvino_runtime
from tests.helpers import cpu


def test_cpu_facts_are_read(monkeypatch):
    assert system.cpu_model()
    assert system.physical_cores() >= 1
    assert set(system.cpu_flags()) <= set(system.CPU_FLAGS)
    cpuinfo = "model name\t: Test CPU\nflags\t\t: fpu avx avx2 fma avx512f avx512_vnni avx512_bf16\n"
    monkeypatch.setattr(system, "_cpuinfo", lambda: cpuinfo)
    assert system.cpu_model() == "Test CPU"
    assert system.cpu_flags() == ["avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"]
    assert system.vector_extensions() == "AVX-512 VNNI BF16"


def test_vector_extension_labels(monkeypatch):
    for flags, label in (("avx avx2 fma", "AVX2"), ("avx2 avx_vnni", "AVX2 VNNI"), ("sse4_2", "no AVX2"),
                         ("asimd", "NEON"), ("avx512f amx_tile amx_bf16", "AVX-512 BF16 AMX")):
        monkeypatch.setattr(system, "_cpuinfo", lambda f=flags: f"flags : {f}\n")
        assert system.vector_extensions() == label, flags


def test_gpu_missing_reason_is_one_clause():
    reason = system.gpu_missing_reason()
    assert reason == "" or ("GPU" in reason and "\n" not in reason)


def test_each_cpu_kind_reads_as_itself_through_gnet(cpu_kind: cpu.CpuKind):
    """The faked kind reaches every reader: model, flags, label, OpenVINO's list (tests/helpers/cpu.py)."""
    assert system.cpu_model() == cpu_kind.model
    assert system.vector_extensions() == cpu_kind.vector_extensions
    assert openvino_runtime.capabilities() == list(cpu_kind.openvino_capabilities)
    assert ("avx512_vnni" in system.cpu_flags()) == (cpu_kind.name == "avx512-vnni-bf16")


def test_the_fake_is_undone_and_the_real_machine_read_again(monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as patch:
        cpu.fake_cpu(patch, cpu.AVX512_VNNI_BF16)
        assert system.vector_extensions() == "AVX-512 VNNI BF16"
    if cpu.kind_from_environment() is None:  # the real machine, unless the whole run fakes a kind
        assert system._cpuinfo() == cpu.real_cpuinfo()
        assert openvino_runtime.capabilities() == cpu.real_openvino_capabilities()


def test_the_environment_variable_names_a_known_kind_or_stops_the_run(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(cpu.ENV, "avx512-vnni-bf16")
    assert cpu.kind_from_environment() is cpu.AVX512_VNNI_BF16
    monkeypatch.setenv(cpu.ENV, "")
    assert cpu.kind_from_environment() is None
    monkeypatch.setenv(cpu.ENV, "zen5")
    with pytest.raises(pytest.UsageError, match="'zen5' is not a CPU kind the tests know; use one of avx2, "):
        cpu.kind_from_environment()


def test_cpu_identity_tells_apart_two_cpus_that_share_a_name_and_gnets_flags(monkeypatch):
    zen4 = "processor : 0\ncpu family : 25\nmodel : 17\nmodel name : AMD EPYC\nstepping : 1\nflags : avx2 avx512f\n"
    zen5 = zen4.replace("cpu family : 25", "cpu family : 26").replace("avx512f", "avx512f avx512_vp2intersect")
    seen = []
    for text in (zen4, zen5, zen4 + "\nprocessor : 1\ncpu family : 99\n"):
        monkeypatch.setattr(system, "_cpuinfo", lambda t=text: t)
        seen.append(system.cpu_identity())
    assert seen[0] != seen[1] and seen[0] == seen[2]  # only the first processor counts
    assert "cpu family : 25" in seen[0] and "flags : avx2 avx512f" in seen[0]
    monkeypatch.setattr(system, "_cpuinfo", lambda: zen5)
    assert system.cpu_flags() == ["avx2", "avx512f"]  # what gnet's labels read: the same for both
