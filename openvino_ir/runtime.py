"""OpenVINO on the CPU: one Core, the precision forced and read back, and one clause from its exceptions.

OpenVINO chooses its own inference precision. On a CPU with BF16 (AVX512_BF16, AMX) it runs an FP32
model in BF16 unless told otherwise, and on a CPU without BF16 a BF16 request silently runs in f32 (no
error, no warning). So gnet always sets ``INFERENCE_PRECISION_HINT`` and always reads back what the
compiled model runs (:func:`read_back`). The IR's parity check (:mod:`gnet.openvino_ir.ir`) and the
benchmark's runner (:mod:`gnet.bench.runners.openvino_cpu`) both go through here.
"""

from __future__ import annotations

import collections
import importlib.metadata
import re
from functools import lru_cache
from typing import Any

import numpy as np

from gnet.checks.images import graph_feed
from gnet.errors import GnetError, NotAvailable

DEVICE = "CPU"
INSTALL = 'pip install "openvino>=2026.4" (or: pip install -e ".[openvino]")'
HINT = {"fp32": "f32", "fp16": "f16", "bf16": "bf16", "int8": "f32"}
"""INFERENCE_PRECISION_HINT per gnet precision. An INT8 graph's Q/DQ layers run in u8/i8 whatever the
hint; the hint decides the non-quantized remainder, kept in f32 as ONNX Runtime keeps it."""
RUNS_AS = {"fp32": ("f32",), "fp16": ("f16",), "bf16": ("bf16",), "int8": ("u8", "i8")}
"""The convolutions' ``runtimePrecision`` that proves a compiled model runs at a gnet precision."""
CAPABILITY = {"fp16": "FP16", "bf16": "BF16"}
"""The OPTIMIZATION_CAPABILITIES entry a CPU needs to execute a reduced float precision."""


def version() -> str | None:
    """The installed openvino package's version, or None without one."""
    try:
        return importlib.metadata.version("openvino")
    except importlib.metadata.PackageNotFoundError:
        return None


def reason(exc: BaseException, limit: int = 200) -> str:
    """The useful clause of an OpenVINO exception: its last line, without the ``Check '…' failed at …`` prefix.

    OpenVINO's messages start with a source location (``Exception from src/inference/src/cpp/core.cpp:84:``);
    what went wrong is the last line.
    """
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return re.sub(r"^Check '.*' failed at \S+:\d+:\s*", "", text)[:limit]


@lru_cache(maxsize=1)
def core() -> Any:
    """One ``openvino.Core`` per process (it loads the device plugins once); NotAvailable without OpenVINO."""
    try:
        import openvino as ov
    except ImportError:
        raise NotAvailable("OpenVINO is not installed", "the Python package openvino cannot be imported",
                           INSTALL) from None
    return ov.Core()


def capabilities() -> list[str]:
    """The CPU plugin's ``OPTIMIZATION_CAPABILITIES``, e.g. ``['FP32', 'INT8', 'BIN', 'EXPORT_IMPORT']`` on an
    AVX2 CPU, with ``'BF16'`` where AVX512_BF16 or AMX is present: OpenVINO's own answer, not /proc/cpuinfo's."""
    engine = core()  # first: NotAvailable without OpenVINO
    from openvino.properties import device

    return [str(c) for c in engine.get_property(DEVICE, device.capabilities)]


def precision_missing_reason(precision: str) -> str:
    """Why this CPU cannot execute ``bf16`` / ``fp16`` ("" when it can, and always for fp32 and int8)."""
    wanted = CAPABILITY.get(precision)
    found = capabilities() if wanted else []
    if wanted is None or wanted in found:
        return ""
    return f"this CPU has no {wanted} (OpenVINO's OPTIMIZATION_CAPABILITIES: {', '.join(found)})"


def compile_cpu(model: Any, precision: str, config: dict[str, Any] | None = None, name: str = "the model") -> Any:
    """Compile ``model`` (an ``openvino.Model`` or a file path) for the CPU with the precision hint of ``precision``
    forced, plus ``config``; OpenVINO's refusal becomes one sentence."""
    engine = core()  # first: NotAvailable without OpenVINO
    import openvino as ov
    import openvino.properties.hint as hints

    properties = {hints.inference_precision: getattr(ov.Type, HINT[precision]), **(config or {})}
    try:
        return engine.compile_model(model, DEVICE, properties)
    except RuntimeError as exc:  # OpenVINO raises RuntimeError with a multi-line message
        raise GnetError(f"OpenVINO cannot compile {name} for the CPU", reason(exc)) from None


def _layer_precisions(compiled: Any) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """(every runtime layer, the convolutions) counted by ``runtimePrecision``."""
    layers: collections.Counter[str] = collections.Counter()
    convolutions: collections.Counter[str] = collections.Counter()
    for op in compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        kind = info["layerType"].astype(str)
        if kind in ("Const", "Input", "Output"):
            continue
        precision = info["runtimePrecision"].astype(str)
        layers[precision] += 1
        if kind == "Convolution":
            convolutions[precision] += 1
    return layers, convolutions


def read_back(compiled: Any) -> dict[str, Any]:
    """What a compiled model really runs: ``runtime_precision`` (that of most of its convolutions, which decide
    the speed: ``f32``, ``bf16``, ``u8`` …), the precision hint it settled on, layer counts per precision,
    streams, threads, requests, pinning and the instruction set of its kernels."""
    import openvino.properties as props
    import openvino.properties.hint as hints

    layers, convolutions = _layer_precisions(compiled)
    found = {
        "runtime_precision": convolutions.most_common(1)[0][0] if convolutions else "",
        "inference_precision": compiled.get_property(hints.inference_precision).get_type_name(),
        "convolutions_by_precision": dict(convolutions),
        "layers_by_precision": dict(layers),
        # compiled models answer in plain str/int where the Core answers in enums: normalise both
        "performance_hint": str(compiled.get_property(hints.performance_mode)).split(".")[-1],
        "num_streams": int(compiled.get_property(props.num_streams)),
        "threads": int(compiled.get_property(props.inference_num_threads)),
        "optimal_requests": int(compiled.get_property(props.optimal_number_of_infer_requests)),
        "cpu_pinning": bool(compiled.get_property(hints.enable_cpu_pinning)),
    }
    try:  # "meta=1.0;ov=2026.4.1;isa=Intel AVX2": OpenVINO's own word for the kernels' instruction set
        requirements = str(compiled.get_property("RUNTIME_REQUIREMENTS"))
        found["isa"] = dict(p.split("=", 1) for p in requirements.split(";") if "=" in p).get("isa", "")
    except RuntimeError:  # an OpenVINO without the property
        pass
    return found


def runs_as(back: dict[str, Any], precision: str) -> bool:
    """Whether a read-back proves the compiled model executes at ``precision``."""
    return back.get("runtime_precision") in RUNS_AS[precision]


def executed(back: dict[str, Any]) -> str:
    """The read-back in words: ``f32``, or ``u8 convolutions, f32 elsewhere``."""
    convs, rest = back.get("runtime_precision", ""), back.get("inference_precision", "")
    return convs if convs == rest or not rest else f"{convs} convolutions, {rest} elsewhere"


def infer_batched(compiled: Any, data: np.ndarray, batch: int) -> np.ndarray:
    """``data`` through a compiled single-input model ``batch`` images at a time (the last batch smaller)."""
    request = compiled.create_infer_request()
    dtype = compiled.input(0).get_element_type().to_dtype()  # float16 (FP16 I/O) or uint8 (camera frames)
    outputs = [np.array(request.infer({0: graph_feed(data[start:start + batch], dtype)})[0],
                        dtype=np.float32, copy=True)
               for start in range(0, len(data), batch)]
    return np.concatenate(outputs)


def environment() -> dict[str, Any] | None:
    """What a benchmark's environment block records about OpenVINO (None when it is not installed)."""
    if version() is None:
        return None
    import openvino.properties as props

    return {"version": version(), "device": str(core().get_property(DEVICE, props.device.full_name)),
            "optimization_capabilities": capabilities()}
