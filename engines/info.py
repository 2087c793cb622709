"""``gnet info``: what this machine has for each backend (CPU, OpenVINO, torch/CUDA, ONNX Runtime, TensorRT,
TensorRT-RTX, cuda-python/pycuda)."""

from __future__ import annotations

import importlib
import platform
from dataclasses import dataclass
from importlib import metadata as importlib_metadata

import gnet
from gnet.errors import GnetError, first_line


@dataclass(frozen=True)
class InfoRow:
    """One line of ``gnet info``: ``ok`` is None for plain facts, else whether the capability is usable."""

    item: str
    value: str
    ok: bool | None = None


def _version(dist: str) -> str | None:
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return None


def _torch_rows() -> list[InfoRow]:
    try:
        torch = importlib.import_module("torch")
    except Exception as exc:  # not installed or broken: report, never fail
        return [InfoRow("torch", f"not usable ({first_line(exc)})", False)]
    rows = [InfoRow("torch", torch.__version__)]
    if torch.cuda.is_available():
        gpus = [f"{torch.cuda.get_device_name(i)} (compute capability {'.'.join(map(str, torch.cuda.get_device_capability(i)))})"
                for i in range(torch.cuda.device_count())]
        rows.append(InfoRow("torch CUDA", f"yes, CUDA {torch.version.cuda}; " + "; ".join(gpus), True))
    else:
        built = torch.version.cuda or "none"
        rows.append(InfoRow("torch CUDA", f"no GPU visible (torch built for CUDA {built})", False))
    return rows


def _onnxruntime_rows() -> list[InfoRow]:
    try:
        ort = importlib.import_module("onnxruntime")
    except Exception as exc:
        return [InfoRow("onnxruntime", f"not usable ({first_line(exc)})", False)]
    providers = ort.get_available_providers()
    return [InfoRow("onnxruntime", ort.__version__),
            InfoRow("onnxruntime providers", ", ".join(providers), "CPUExecutionProvider" in providers)]


def _cpu_rows() -> list[InfoRow]:
    """The CPU and its vector extensions (what the CPU figures depend on), and OpenVINO's view of it."""
    from gnet.openvino_ir import runtime as openvino_runtime
    from gnet.system import cpu_model, vector_extensions

    rows = [InfoRow("CPU", f"{cpu_model()} ({vector_extensions()})")]
    if openvino_runtime.version() is None:
        return rows + [InfoRow("openvino", f"not installed ({openvino_runtime.INSTALL})", False)]
    try:
        capabilities = ", ".join(openvino_runtime.capabilities())
    except Exception as exc:  # a broken install: report, never fail
        return rows + [InfoRow("openvino", f"{openvino_runtime.version()}; not usable ({openvino_runtime.reason(exc)})", False)]
    return rows + [InfoRow("openvino", f"{openvino_runtime.version()}; CPU OPTIMIZATION_CAPABILITIES: {capabilities}", True)]


def _cuda_binding_rows() -> list[InfoRow]:
    from gnet.engines.cuda_python_binding import CudaPythonBinding
    from gnet.engines.pycuda_binding import PyCudaBinding

    rows = []
    for label, dist, module, binding in (("cuda-python", "cuda-bindings", "cuda.bindings.runtime", CudaPythonBinding),
                                         ("pycuda", "pycuda", "pycuda.driver", PyCudaBinding)):
        version = _version(dist) or (_version("cuda-python") if label == "cuda-python" else None)
        try:
            importlib.import_module(module)
        except Exception:
            rows.append(InfoRow(label, "not installed", False))
            continue
        try:
            opened = binding()
        except GnetError as exc:
            rows.append(InfoRow(label, f"{version or 'installed'}; no usable GPU ({exc.cause})", False))
            continue
        try:
            info = opened.device_info()
            rows.append(InfoRow(label, f"{version or 'installed'}; GPU {info.index}: {info.name}, compute capability "
                                       f"{info.compute_capability}, {info.total_memory_bytes / 2**30:.1f} GiB, "
                                       f"driver CUDA {info.driver_version}", True))
        finally:
            opened.close()
    return rows


def _rtx_rows() -> list[InfoRow]:
    """TensorRT-RTX: its version, that it builds here without a GPU, whether it can run here and why, its targets."""
    from gnet.engines import rtx_targets
    from gnet.engines.availability import rtx_support
    from gnet.engines.editions import TENSORRT_RTX
    from gnet.engines.trt_import import import_runtime

    try:
        trt = import_runtime(TENSORRT_RTX)
    except GnetError as exc:
        return [InfoRow("tensorrt-rtx", str(exc), False)]
    found = rtx_support()
    return [InfoRow("tensorrt-rtx", f"{trt.__version__} ({TENSORRT_RTX.module}): builds engines here without a GPU; "
                                    f"targets {' '.join(rtx_targets.targets(trt))}", True),
            InfoRow("TensorRT-RTX engines", "can run here" if found.ok else found.reason, found.ok)]


def machine_info() -> list[InfoRow]:
    """Everything ``gnet info`` prints, probing each library without ever raising."""
    from gnet.engines.availability import tensorrt_support
    from gnet.engines.trt_import import import_tensorrt

    rows = [InfoRow("gnet", gnet.__version__),
            InfoRow("python", f"{platform.python_version()} on {platform.system()} {platform.machine()}")]
    rows += _cpu_rows()
    rows += _torch_rows()
    rows += _onnxruntime_rows()
    try:
        trt = import_tensorrt()
        rows.append(InfoRow("tensorrt", str(trt.__version__), True))
    except GnetError as exc:
        rows.append(InfoRow("tensorrt", str(exc), False))  # the remedy too: info says how to get it
    rows += _rtx_rows()
    rows += _cuda_binding_rows()
    available = tensorrt_support()
    rows.append(InfoRow("TensorRT engines", "usable" if available.ok else available.reason, available.ok))
    return rows
