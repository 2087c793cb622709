"""Can TensorRT engines run on this machine, and if not, why: probed without ever raising."""

from __future__ import annotations

from dataclasses import dataclass

from gnet.engines import cuda_choice
from gnet.engines.cuda_backend import DeviceInfo
from gnet.engines.trt_import import import_tensorrt
from gnet.errors import GnetError


@dataclass(frozen=True)
class Availability:
    """Whether TensorRT engines can run here; ``reason`` says why not, ``remedy`` what would fix it."""

    usable: bool
    reason: str
    tensorrt_version: str | None = None
    cuda_backend: str | None = None
    device: DeviceInfo | None = None
    remedy: str = ""


def tensorrt_availability() -> Availability:
    """Probe TensorRT and a CUDA GPU; for backend discovery (``gnet bench``, ``gnet info``)."""
    try:
        trt = import_tensorrt()
    except GnetError as exc:
        return Availability(False, exc.cause, remedy=exc.remedy)
    version = str(trt.__version__)
    try:
        backend = cuda_choice.get_backend()
    except GnetError as exc:
        return Availability(False, f"TensorRT {version} is installed but {exc.cause}", version, remedy=exc.remedy)
    try:
        info = backend.device_info()
    except GnetError as exc:
        return Availability(False, f"TensorRT {version} is installed but the GPU cannot be queried ({exc.cause})",
                            version, backend.name)
    finally:
        backend.close()
    return Availability(True, "", version, backend.name, info)
