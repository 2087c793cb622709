"""Can engines of each TensorRT edition be built and run on this machine, and if not, why: probed without raising."""

from __future__ import annotations

from dataclasses import dataclass

from gnet.availability import Availability
from gnet.engines import cuda_choice, rtx_targets
from gnet.engines.cuda_binding import DeviceInfo
from gnet.engines.editions import TENSORRT_RTX
from gnet.engines.trt_import import import_runtime, import_tensorrt
from gnet.errors import GnetError


@dataclass(frozen=True)
class EditionSupport:
    """What this machine offers one TensorRT edition: whether its engines run here (``ok``; else ``reason`` and
    ``remedy``), what it found on the way, and whether plans can at least be built."""

    ok: bool
    reason: str
    tensorrt_version: str | None = None
    cuda_binding: str | None = None
    device: DeviceInfo | None = None
    remedy: str = ""
    can_build: bool = False  # TensorRT-RTX builds plans without a GPU, even where it cannot run them

    @property
    def availability(self) -> Availability:
        return Availability(self.ok, self.reason, self.remedy)


def _gpu() -> tuple[str, DeviceInfo | None, str, str]:
    """(binding name, device, why there is none as a bare clause, remedy) for the CUDA GPU an edition would run on."""
    try:
        binding = cuda_choice.get_binding()
    except GnetError as exc:
        return "", None, exc.cause, exc.remedy
    try:
        return binding.name, binding.device_info(), "", ""
    except GnetError as exc:
        return binding.name, None, f"the GPU cannot be queried ({exc.cause})", ""
    finally:
        binding.close()


def tensorrt_support() -> EditionSupport:
    """Probe data-centre TensorRT and a CUDA GPU; for backend discovery (``gnet bench``, ``gnet info``)."""
    try:
        trt = import_tensorrt()
    except GnetError as exc:
        return EditionSupport(False, exc.cause, remedy=exc.remedy)
    version = str(trt.__version__)
    name, device, why, remedy = _gpu()
    if why:
        return EditionSupport(False, f"TensorRT {version} is installed but {why}", version, name or None, remedy=remedy)
    return EditionSupport(True, "", version, name, device, can_build=True)


def rtx_support() -> EditionSupport:
    """Probe TensorRT-RTX: it builds here whenever it imports; running needs a GPU it supports."""
    try:
        trt = import_runtime(TENSORRT_RTX)
    except GnetError as exc:
        return EditionSupport(False, exc.cause, remedy=exc.remedy)
    version = str(trt.__version__)
    name, device, why, remedy = _gpu()
    if why:
        why = f"TensorRT-RTX {version} builds plans here, but running them needs an NVIDIA GPU: {why}"
        return EditionSupport(False, why, version, name or None, remedy=remedy, can_build=True)
    assert device is not None
    if not rtx_targets.supports(trt, device.compute_capability):
        why = (f"TensorRT-RTX {version} cannot run on {device.name}: it runs only on GPUs of compute capability "
               f"{rtx_targets.supported_text(trt)}, and this GPU has {device.compute_capability}")
        return EditionSupport(False, why, version, name, device, "use data-centre TensorRT on this GPU (--runtime tensorrt)",
                            can_build=True)
    return EditionSupport(True, "", version, name, device, can_build=True)
