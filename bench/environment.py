"""What machine and software a benchmark ran on: recorded in the JSON so two runs can be compared honestly."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import os
import platform
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from gnet.system import cpu_flags, cpu_model, vector_extensions

LIBRARIES = ("gnet", "numpy", "torch", "torchvision", "onnx", "onnxruntime", "onnxruntime-gpu", "openvino",
             "tensorrt", "cuda-python", "cuda-bindings", "pycuda", "rich", "matplotlib")
NVIDIA_SMI_FIELDS = ("name", "driver_version", "memory.total", "clocks.sm", "clocks.mem",
                     "clocks.max.sm", "clocks.max.mem", "power.limit", "temperature.gpu", "pstate")


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def cpu_info() -> dict[str, Any]:
    import psutil

    freq = None
    try:
        current = psutil.cpu_freq()
        if current is not None:
            freq = {"current_mhz": round(current.current), "max_mhz": round(current.max) or None}
    except (OSError, NotImplementedError, AttributeError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "model": cpu_model(),
        "vector_extensions": vector_extensions(),
        "physical_cores": psutil.cpu_count(logical=False),
        "logical_cores": psutil.cpu_count(logical=True),
        "affinity_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "flags": cpu_flags(),
        "frequency": freq,
        "governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        "load_average_1m": round(load[0], 2) if load else None,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
    }


def nvidia_smi() -> list[dict[str, str]]:
    """One dict per GPU from ``nvidia-smi --query-gpu`` (empty without a driver); never raises."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        proc = subprocess.run([exe, f"--query-gpu={','.join(NVIDIA_SMI_FIELDS)}", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if proc.returncode != 0:
        return []
    rows = []
    for line in proc.stdout.strip().splitlines():
        values = [v.strip() for v in line.split(",")]
        if len(values) == len(NVIDIA_SMI_FIELDS):
            rows.append({k: v for k, v in zip(NVIDIA_SMI_FIELDS, values) if v and "N/A" not in v and "Not Supported" not in v})
    return rows


def gpu_info() -> dict[str, Any] | None:
    """The GPU PyTorch sees, with driver and clocks from nvidia-smi where readable; None without one."""
    smi = nvidia_smi()
    info: dict[str, Any] = {}
    try:
        import torch

        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            info.update(name=props.name, compute_capability=f"{props.major}.{props.minor}",
                        memory_gib=round(props.total_memory / 2**30, 1), multiprocessors=props.multi_processor_count,
                        cuda_runtime=torch.version.cuda, cudnn=torch.backends.cudnn.version())
    except Exception:  # noqa: BLE001 - a broken CUDA install must not stop the benchmark's report
        pass
    if smi:
        info["nvidia_smi"] = smi[0]
        info.setdefault("name", smi[0].get("name"))
        info["driver"] = smi[0].get("driver_version")
        info["count"] = len(smi)
    return info or None


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that decide the figures (only those present)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def onnxruntime_providers() -> list[str]:
    try:
        import onnxruntime as ort

        return list(ort.get_available_providers())
    except ImportError:
        return []


def collect(argv: list[str] | None = None) -> dict[str, Any]:
    """Everything about this machine and run the JSON records under ``environment``."""
    return {
        "timestamp_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command_line": shlex.join(argv if argv is not None else sys.argv),
        "hostname": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "cpu": cpu_info(),
        "gpu": gpu_info(),
        "libraries": library_versions(),
        "onnxruntime_providers": onnxruntime_providers(),
        "openvino": openvino_info(),
    }


def openvino_info() -> dict[str, Any] | None:
    """OpenVINO's version, its name for the CPU, and what it says the CPU can do (OPTIMIZATION_CAPABILITIES:
    BF16 there is what gives a bf16 row); None without OpenVINO, and never raises."""
    from gnet.openvino_ir.runtime import environment, reason

    try:
        return environment()
    except Exception as exc:  # noqa: BLE001 - a broken OpenVINO install must not stop the benchmark's report
        return {"error": f"{type(exc).__name__}: {reason(exc, 160)}"}
