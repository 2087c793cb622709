"""Load a gnet plan for ``EngineRunner``: manifest first, the edition it names, the checks, then the engine.

The manifest's ``runtime`` key decides the edition (never the file name). Data-centre TensorRT plans
are checked against the manifest (TensorRT version, compute capability); TensorRT-RTX plans with
TensorRT-RTX's own ``get_engine_validity``, then get a runtime cache and, when asked, TensorRT-RTX's
own CUDA graphs. Both: the plan's SHA-256 must match the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnet.engines import manifest as manifest_mod
from gnet.engines import rtx_runtime
from gnet.engines.cuda_binding import DeviceInfo
from gnet.engines.editions import Edition, spec_for
from gnet.engines.trt_logger import first_error, logger_for, mark
from gnet.errors import GnetError


@dataclass
class LoadedPlan:
    """A deserialized plan and its execution context (destroy in the order context, engine, runtime)."""

    trt: Any
    spec: Edition
    runtime: Any
    engine: Any
    context: Any
    cache: rtx_runtime.RuntimeCache | None = None
    runtime_graphs: bool = False  # TensorRT-RTX captures CUDA graphs itself


def read_manifest(plan: Path) -> tuple[dict[str, Any], Edition]:
    """The plan's manifest (read first: refuse before touching the plan) and the edition it names."""
    manifest_path = manifest_mod.manifest_path_for(plan)
    doc = manifest_mod.read(manifest_path)
    if doc["plan"]["file"] != plan.name:
        raise GnetError(f"{manifest_path.name} describes {doc['plan']['file']}, not {plan.name}",
                        remedy="keep each plan with the manifest gnet build wrote for it")
    return doc, spec_for(manifest_mod.runtime_of(doc))


def read_plan(plan: Path, doc: dict[str, Any], verify_hash: bool) -> bytes:
    """The plan's bytes, refused when they are not what the manifest recorded."""
    if not plan.is_file():
        raise GnetError(f"the engine {plan} does not exist",
                        remedy=f"build it with: gnet build {plan.parent / doc['model']['onnx_file']}")
    data = plan.read_bytes()
    why = manifest_mod.plan_mismatch(doc, data) if verify_hash else ""
    if why:
        raise GnetError(f"{plan.name} does not match its manifest", why, "rebuild both with gnet build")
    return data


def load_plan(trt: Any, spec: Edition, plan: Path, doc: dict[str, Any], device: DeviceInfo, *,
              verify_hash: bool = True, cuda_graphs: bool = False, runtime_cache: Path | None = None,
              warnings: list[str] | None = None) -> LoadedPlan:
    """Check the plan against this machine, deserialize it and open one execution context."""
    warnings = warnings if warnings is not None else []
    if not spec.rtx:
        manifest_mod.check_compatible(doc, plan, str(trt.__version__), device.compute_capability)
    data = read_plan(plan, doc, verify_hash)
    logger = logger_for(trt)
    runtime = trt.Runtime(logger)  # must outlive the engine
    onnx = plan.parent / doc["model"]["onnx_file"]
    if spec.rtx:
        built_for = doc["tensorrt"].get("compute_capabilities")
        check = rtx_runtime.plan_check(trt, runtime, data, device.compute_capability, built_for)
        rtx_runtime.refuse_unusable(check, plan, onnx)
    elif doc["tensorrt"].get("version_compatible"):
        runtime.engine_host_code_allowed = True  # version-compatible plans embed a lean runtime
    start = mark(logger)
    engine = runtime.deserialize_cuda_engine(data)
    if engine is None:
        raise GnetError(f"{spec.label} {trt.__version__} cannot deserialize {plan.name}", first_error(logger, start),
                        f"rebuild it here with: gnet build {onnx} --runtime {spec.name}")
    loaded = LoadedPlan(trt, spec, runtime, engine, None)
    if spec.rtx:
        loaded.context, loaded.cache = rtx_runtime.open_context(trt, engine, runtime_cache, cuda_graphs, warnings)
        loaded.runtime_graphs = cuda_graphs
    else:
        loaded.context = engine.create_execution_context()
    if loaded.context is None:
        raise GnetError(f"{spec.label} cannot create an execution context for {plan.name}", first_error(logger, start))
    return loaded
