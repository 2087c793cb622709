"""ONNX → strongly typed TensorRT or TensorRT-RTX engine (``googlenet_<prec>.plan`` / ``.rtx.plan``) + manifest.

Precision lives in the ONNX graph (docs/design.md): this module never sets a precision flag. One
build path serves both editions; what differs between them is read from ``editions.py``. It parses,
proves the parsed network's precision (before building, so a wrong graph is refused without a build),
configures (``build_config.py``), builds, proves the engine's precision again with the engine
inspector where the edition builds on its GPU, and writes the plan and its manifest atomically.
Only names present in TensorRT 10.x, 11.x and TensorRT-RTX are used on the shared path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gnet.atomic import atomic_output
from gnet.engines import cuda_choice
from gnet.engines import manifest as manifest_mod
from gnet.engines.build_config import builder_config, write_timing_cache
from gnet.engines.build_inputs import BuildInputs, BuildOptions, prepare
from gnet.engines.cuda_binding import CudaBinding, DeviceInfo
from gnet.engines.editions import RUNTIMES, TENSORRT_RTX, Edition
from gnet.engines.engine_io import TensorSpec, network_specs, tensor_specs
from gnet.engines.network import ParsedNetwork, parse_network
from gnet.engines.network_proof import prove_network
from gnet.engines.precision_proof import PrecisionReport, inspect_engine, judge
from gnet.engines.proofs import RTX_NO_INSPECTOR, Proofs
from gnet.engines.rtx_targets import CURRENT
from gnet.engines.trt_import import choose_runtime
from gnet.engines.trt_logger import first_error, logger_for, mark, since
from gnet.errors import GnetError, NotAvailable


class EngineUnavailable(NotAvailable):
    """TensorRT, cuda-python or a GPU is missing: the ONNX is ready but no engine can be built here."""


@dataclass
class BuildResult:
    """What ``build_engine`` wrote and proved."""

    plan: Path
    manifest_path: Path
    manifest: dict[str, Any]
    precision: Proofs
    seconds: float
    timing_cache: Path | None
    spec: Edition
    warnings: list[str] = field(default_factory=list)


def unavailable(inputs: BuildInputs, missing: GnetError) -> EngineUnavailable:
    """What is missing, that the ONNX is ready, and the exact commands that would build it."""
    spec, onnx = inputs.spec, inputs.onnx
    remedy = missing.remedy or ("run it on a machine with an NVIDIA GPU" if spec.build_needs_gpu
                                else f"install it with: {spec.install}")
    remedy = f"the ONNX {onnx} is ready: {remedy} and then run gnet build {onnx}"
    if spec.build_needs_gpu:
        remedy += f"; or build a TensorRT-RTX plan here, without a GPU: gnet build {onnx} --runtime tensorrt-rtx"
    return EngineUnavailable(f"{missing.what}, so {inputs.plan.name} was not built", missing.why, remedy)


def build_engine(
    onnx_path: str | Path,
    output: str | Path | None = None,
    options: BuildOptions | None = None,
    device: CudaBinding | None = None,
) -> BuildResult:
    """Build the plan and its manifest from a gnet ONNX (any precision) with the runtime ``options.runtime`` picks.

    Raises :class:`EngineUnavailable` (after validating the ONNX and the options) when the runtime,
    cuda-python or a GPU it needs is missing, and GnetError for every other user-facing failure.
    """
    options = options or BuildOptions()
    options.check()  # profile, workspace, level: refused before anything is imported or built
    explicit = RUNTIMES.get(options.runtime)
    if explicit is not None:
        options.check_runtime(explicit)
    try:
        spec, trt = choose_runtime(options.runtime)
    except GnetError as exc:
        raise unavailable(prepare(onnx_path, output, options, explicit or TENSORRT_RTX), exc) from None
    options.check_runtime(spec)
    inputs = prepare(onnx_path, output, options, spec)
    needs_gpu = spec.build_needs_gpu or options.compute_capabilities == CURRENT
    opened = device is None and needs_gpu
    if opened:
        try:
            device = cuda_choice.get_binding()
        except GnetError as exc:
            if spec.build_needs_gpu:
                raise unavailable(inputs, exc) from None
            raise NotAvailable(f"--compute-capability {CURRENT} needs a CUDA GPU here", exc.cause,
                               "name the targets instead, e.g. --compute-capability sm86,sm89") from None
    try:
        info = device.device_info() if device is not None and needs_gpu else None
        return _build(trt, inputs, options, info)
    finally:
        if opened and device is not None:
            device.close()


def _load_back(trt: Any, logger: Any, inputs: BuildInputs, options: BuildOptions,
               plan_bytes: bytes) -> tuple[list[TensorSpec], PrecisionReport]:
    """Deserialize the new plan and read its I/O and per-layer precisions (the inspector proof)."""
    runtime = trt.Runtime(logger)
    if options.version_compatible:
        runtime.engine_host_code_allowed = True
    start = mark(logger)
    engine = runtime.deserialize_cuda_engine(plan_bytes)
    if engine is None:
        raise GnetError(f"{inputs.spec.label} built {inputs.plan.name} but cannot load it back", first_error(logger, start))
    specs = tensor_specs(trt, engine)
    report = judge(inspect_engine(trt, engine), inputs.precision, options.allow_mixed)
    del engine, runtime
    return specs, report


def _serialize(trt: Any, parsed: ParsedNetwork, config: Any, inputs: BuildInputs, logger: Any) -> tuple[bytes, float]:
    start, begin = mark(logger), time.perf_counter()
    serialized = parsed.builder.build_serialized_network(parsed.network, config)
    seconds = time.perf_counter() - begin
    if serialized is None:
        raise GnetError(f"{inputs.spec.label} could not build an engine from {inputs.onnx}", first_error(logger, start),
                        "try a larger --workspace or a smaller --max-batch")
    return bytes(memoryview(serialized)), seconds


def _build(trt: Any, inputs: BuildInputs, options: BuildOptions, info: DeviceInfo | None) -> BuildResult:
    warnings: list[str] = []
    logger = logger_for(trt)
    start = mark(logger)
    parsed = parse_network(trt, inputs.spec, logger, inputs.onnx)
    proofs = Proofs(prove_network(trt, parsed.network, inputs.precision, options.allow_mixed))
    if not proofs.network.passed:
        raise proofs.failure(inputs.plan.name)
    config = builder_config(trt, parsed.builder, inputs, options, warnings)
    plan_bytes, seconds = _serialize(trt, parsed, config, inputs, logger)
    write_timing_cache(config, inputs.timing_cache)
    if inputs.spec.inspector_proof:
        specs, proofs.inspector = _load_back(trt, logger, inputs, options, plan_bytes)
    else:
        specs, proofs.inspector_skipped = network_specs(trt, parsed.network, inputs.profile(options)), RTX_NO_INSPECTOR
    if not (proofs.proven or options.allow_mixed):
        raise proofs.failure(inputs.plan.name)
    if not proofs.proven:
        warnings.append(f"{proofs.shortfall(inputs.plan.name)} (kept because of --allow-mixed)")
    warnings += [f"{inputs.spec.label}: {text}" for text in since(logger, start, "WARNING", "ERROR")]
    doc = manifest_mod.document(str(trt.__version__), inputs, options, info, specs, proofs, plan_bytes, seconds)
    manifest_path = _write_plan_and_manifest(inputs.plan, plan_bytes, doc)
    return BuildResult(inputs.plan, manifest_path, doc, proofs, seconds, inputs.timing_cache, inputs.spec, warnings)


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
