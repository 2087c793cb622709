"""ONNX → strongly typed TensorRT engine (``googlenet_<prec>.plan``) + manifest + timing cache.

Precision lives in the ONNX graph (docs/design.md): this module never sets a precision flag.
It parses, sets the optimization profile and builder options, builds, proves the resulting
precision with the engine inspector, and writes the plan and its manifest atomically. Only
names present in both TensorRT 10.x and 11.x are used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gnet.atomic import atomic_output, write_bytes_atomic
from gnet.engines import cuda_choice
from gnet.engines import manifest as manifest_mod
from gnet.engines.build_inputs import BuildInputs, BuildOptions, prepare
from gnet.engines.cuda_backend import CudaBackend, DeviceInfo
from gnet.engines.engine_io import TensorSpec, tensor_specs
from gnet.engines.precision_proof import PrecisionReport, inspect_engine, judge
from gnet.engines.trt_import import INSTALL_COMMAND, import_tensorrt, strongly_typed_flags
from gnet.errors import GnetError, NotAvailable


class EngineUnavailable(NotAvailable):
    """TensorRT, cuda-python or a GPU is missing: the ONNX is ready but no engine can be built here."""


@dataclass
class BuildResult:
    """What ``build_engine`` wrote and proved."""

    plan: Path
    manifest_path: Path
    manifest: dict[str, Any]
    precision: PrecisionReport
    seconds: float
    timing_cache: Path | None
    warnings: list[str] = field(default_factory=list)


def unavailable(inputs: BuildInputs, missing: GnetError) -> EngineUnavailable:
    """What is missing, that the ONNX is ready, and the exact commands for a GPU machine."""
    return EngineUnavailable(f"{missing.what}, so {inputs.plan.name} was not built", missing.why,
                             f"the ONNX {inputs.onnx} is ready: on a machine with an NVIDIA GPU run "
                             f"{INSTALL_COMMAND} and then gnet build {inputs.onnx}")


def _parse_error(onnx: Path, errors: list[Any]) -> GnetError:
    if not errors:
        return GnetError(f"TensorRT cannot parse {onnx}", "it reported no error",
                         "run with a verbose TensorRT log to see why")
    first = errors[0]

    def field_of(attr: str) -> str:
        try:
            return str(getattr(first, attr)()).strip()
        except Exception:  # a binding without this method still has __str__
            return ""

    node, op, desc = field_of("node_name"), field_of("node_operator"), field_of("desc") or str(first).strip()
    where = f"node {node!r}" + (f" ({op})" if op else "") if node else (f"a {op} node" if op else "the graph")
    more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
    return GnetError(f"TensorRT cannot parse {onnx}", f"{where} failed with: {desc.rstrip('.')}{more}")


def _use_timing_cache(config: Any, path: Path | None, warnings: list[str]) -> None:
    """Give the builder the timing cache at ``path`` (or a new one when it is missing, unreadable or foreign)."""
    if path is None:
        return
    data = path.read_bytes() if path.is_file() else b""
    if data:
        cache = config.create_timing_cache(data)
        if cache is None:
            warnings.append(f"the timing cache {path} is not readable by this TensorRT; a new one is started")
        elif config.set_timing_cache(cache, False):  # ignore_mismatch=False: refuse another GPU's/version's timings
            return
        else:
            warnings.append(f"the timing cache {path} was made by another TensorRT or GPU; a new one is started")
    fresh = config.create_timing_cache(b"")
    if fresh is None or not config.set_timing_cache(fresh, False):
        raise GnetError("TensorRT refused a new, empty timing cache", remedy="rerun with --no-timing-cache")


def _write_cache(config: Any, path: Path | None) -> None:
    if path is None:
        return
    cache = config.get_timing_cache()
    if cache is None:
        return
    write_bytes_atomic(path, bytes(memoryview(cache.serialize())))


def build_engine(
    onnx_path: str | Path,
    output: str | Path | None = None,
    options: BuildOptions | None = None,
    device: CudaBackend | None = None,
) -> BuildResult:
    """Build ``googlenet_<prec>.plan`` and its manifest from a gnet ONNX (any precision).

    Raises :class:`EngineUnavailable` (after validating the ONNX) when TensorRT,
    cuda-python or a GPU is missing, and GnetError for every other user-facing failure.
    """
    options = options or BuildOptions()
    inputs = prepare(onnx_path, output, options)
    try:
        trt = import_tensorrt()
    except GnetError as exc:
        raise unavailable(inputs, exc) from None
    opened = device is None
    if device is None:
        try:
            device = cuda_choice.get_backend()
        except GnetError as exc:
            raise unavailable(inputs, exc) from None
    try:
        return _build(trt, inputs, options, device.device_info())
    finally:
        if opened:
            device.close()


def _network(trt: Any, logger: Any, inputs: BuildInputs) -> tuple[Any, Any, Any]:
    """(builder, network, parser): the parsed strongly typed network (the parser owns its weights: keep it)."""
    builder = trt.Builder(logger)
    network = builder.create_network(strongly_typed_flags(trt))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(inputs.onnx)):
        raise _parse_error(inputs.onnx, [parser.get_error(i) for i in range(parser.num_errors)])
    return builder, network, parser


def _config(trt: Any, builder: Any, inputs: BuildInputs, options: BuildOptions, warnings: list[str]) -> Any:
    """The builder config: workspace, level, DETAILED verbosity, compatibility, profile, timing cache."""
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, options.workspace_mib << 20)
    config.builder_optimization_level = options.opt_level
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED  # the precision proof needs per-layer types
    config.hardware_compatibility_level = {
        "none": trt.HardwareCompatibilityLevel.NONE,
        "ampere+": trt.HardwareCompatibilityLevel.AMPERE_PLUS,
        "same-cc": trt.HardwareCompatibilityLevel.SAME_COMPUTE_CAPABILITY,
    }[options.hardware_compat]
    if options.version_compatible:
        config.set_flag(trt.BuilderFlag.VERSION_COMPATIBLE)
    lo, opt, hi = inputs.profile(options)
    profile = builder.create_optimization_profile()
    profile.set_shape(inputs.input_name, lo, opt, hi)
    if config.add_optimization_profile(profile) < 0:
        raise GnetError(f"TensorRT rejected the optimization profile {list(lo)} / {list(opt)} / {list(hi)} "
                        f"for the input {inputs.input_name!r}")
    _use_timing_cache(config, inputs.timing_cache, warnings)
    return config


def _load_back(trt: Any, logger: Any, inputs: BuildInputs, options: BuildOptions,
               plan_bytes: bytes) -> tuple[list[TensorSpec], PrecisionReport]:
    """Deserialize the new plan and read its I/O and per-layer precisions (the proof)."""
    runtime = trt.Runtime(logger)
    if options.version_compatible:
        runtime.engine_host_code_allowed = True
    engine = runtime.deserialize_cuda_engine(plan_bytes)
    if engine is None:
        raise GnetError(f"TensorRT built {inputs.plan.name} but cannot load it back", "its log above says why")
    specs = tensor_specs(trt, engine)
    report = judge(inspect_engine(trt, engine), inputs.precision, options.allow_mixed)
    del engine, runtime
    return specs, report


def _build(trt: Any, inputs: BuildInputs, options: BuildOptions, info: DeviceInfo) -> BuildResult:
    warnings: list[str] = []
    logger = trt.Logger(trt.Logger.WARNING)
    builder, network, _parser = _network(trt, logger, inputs)
    config = _config(trt, builder, inputs, options, warnings)
    start = time.perf_counter()
    serialized = builder.build_serialized_network(network, config)
    seconds = time.perf_counter() - start
    if serialized is None:
        raise GnetError(f"TensorRT could not build an engine from {inputs.onnx}", "its log above says why",
                        "try a larger --workspace or a smaller --max-batch")
    plan_bytes = bytes(memoryview(serialized))
    _write_cache(config, inputs.timing_cache)
    specs, report = _load_back(trt, logger, inputs, options, plan_bytes)
    if not report.passed:
        raise report.failure(inputs.plan.name)
    if not report.proven:
        warnings.append(f"{report.shortfall(inputs.plan.name)} (kept because of --allow-mixed)")
    doc = manifest_mod.document(str(trt.__version__), inputs, options, info, specs, report, plan_bytes, seconds)
    manifest_path = _write_plan_and_manifest(inputs.plan, plan_bytes, doc)
    return BuildResult(inputs.plan, manifest_path, doc, report, seconds, inputs.timing_cache, warnings)


def _write_plan_and_manifest(plan: Path, plan_bytes: bytes, doc: dict[str, Any]) -> Path:
    """The plan lands first, then its manifest: a reader that finds the new manifest finds the new plan."""
    manifest_path = manifest_mod.manifest_path_for(plan)
    problems = manifest_mod.validate(doc)
    if problems:  # gnet itself built an invalid manifest: a bug, so keep the traceback
        raise ValueError(f"gnet built an invalid manifest: {problems[0]}")
    with atomic_output(manifest_path) as manifest_tmp:
        with atomic_output(plan) as plan_tmp:
            plan_tmp.write_bytes(plan_bytes)
        manifest_tmp.write_text(manifest_mod.dumps(doc), encoding="utf-8")
    return manifest_path
