"""Facts about this machine that several stages need: CPU model, vector extensions, cores, an NVIDIA GPU."""

from __future__ import annotations

import platform
import shutil
from functools import lru_cache
from pathlib import Path

CPU_FLAGS = ("avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni",
             "amx_tile", "amx_int8", "amx_bf16", "neon", "asimd")
"""The vector extensions that decide which kernels ONNX Runtime, OpenVINO and PyTorch pick."""


@lru_cache(maxsize=1)
def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what the platform module says."""
    for line in _cpuinfo().splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """Which of :data:`CPU_FLAGS` this CPU has, in that order."""
    for line in _cpuinfo().splitlines():
        if line.lower().startswith(("flags", "features")):
            present = set(line.split(":", 1)[1].split())
            return [flag for flag in CPU_FLAGS if flag in present]
    return []


def cpu_identity() -> str:
    """The first processor's model name, family, model, stepping and every flag from /proc/cpuinfo: what tells two
    CPUs apart whose kernels may round differently (two models can share a name and :data:`CPU_FLAGS`)."""
    keys = ("model name", "cpu family", "model", "stepping", "flags", "features")
    lines = []
    for line in _cpuinfo().split("\n\n", 1)[0].splitlines():
        key = line.split(":", 1)[0].strip().lower()
        if key in keys:
            lines.append(line.strip())
    return "\n".join(lines) or cpu_model()


def vector_extensions() -> str:
    """A short human label of the extensions that matter for the figures, e.g. ``AVX2`` or ``AVX-512 VNNI BF16``."""
    flags = set(cpu_flags())
    parts = []
    if "avx512f" in flags:
        parts.append("AVX-512")
    elif "avx2" in flags:
        parts.append("AVX2")
    if flags & {"avx512_vnni", "avx_vnni"}:
        parts.append("VNNI")
    if "avx512_bf16" in flags or "amx_bf16" in flags:
        parts.append("BF16")
    if "amx_tile" in flags:
        parts.append("AMX")
    if flags & {"neon", "asimd"}:
        parts.append("NEON")
    return " ".join(parts) or "no AVX2"


def physical_cores() -> int:
    """Physical CPU cores (what ONNX Runtime and PyTorch size their thread pools by)."""
    import psutil

    return psutil.cpu_count(logical=False) or psutil.cpu_count() or 1


def gpu_missing_reason() -> str:
    """Why no NVIDIA GPU can be used here ("" when one can); asks PyTorch, then looks for nvidia-smi."""
    try:
        import torch

        if torch.cuda.is_available():
            return ""
    except Exception:  # noqa: BLE001 - a broken torch install only means we cannot tell this way
        pass
    if shutil.which("nvidia-smi") is None:
        return "no NVIDIA GPU or driver here (no nvidia-smi on the PATH)"
    return "no CUDA GPU is visible (torch.cuda.is_available() is False)"
