"""Machine facts: the CPU's model and vector extensions, cores, and why no GPU is usable."""

from __future__ import annotations

from gnet import system


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
