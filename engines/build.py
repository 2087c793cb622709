"""ONNX → strongly typed TensorRT engine (``googlenet_<prec>.plan``) + manifest + timing cache.

Precision lives in the ONNX graph (DESIGN.md): this module never sets a precision
flag. It parses, sets the optimization profile and builder options, builds,
proves the resulting precision with the engine inspector, and writes the plan and
its manifest atomically. Only names present in both TensorRT 10.x and 11.x are used.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gnet
from gnet.atomic import atomic_output, ensure_writable_dir, write_bytes_atomic
from gnet.errors import GnetError
from gnet.engines import manifest as manifest_mod
from gnet.engines.cuda_memory import CudaBackend, DeviceInfo, get_backend
from gnet.engines.engine_io import TensorSpec, tensor_specs
from gnet.engines.precision import PrecisionReport, inspect_engine, judge
from gnet.engines.trt_import import INSTALL_COMMAND, import_tensorrt, strongly_typed_flags

PRECISIONS = ("fp32", "fp16", "int8")
DEFAULT_TIMING_CACHE = "timing.cache"
MAX_OPT_LEVEL = 5


class EngineUnavailable(GnetError):
    """TensorRT, cuda-python or a GPU is missing: the ONNX is ready but no engine can be built here."""


@dataclass
class BuildOptions:
    """Everything ``gnet build`` lets a user choose; recorded verbatim in the manifest."""

    min_batch: int = 1
    opt_batch: int = 64
    max_batch: int = 256
    workspace_mib: int = 4096
    opt_level: int = 3
    timing_cache: str | None = None  # None: timing.cache beside the plan
    use_timing_cache: bool = True
    hardware_compat: str = "none"  # none | ampere+ | same-cc
    version_compatible: bool = False
    allow_mixed: bool = False

    def check(self) -> None:
        """Refuse impossible options with one sentence, before anything is built."""
        if self.min_batch < 1:
            raise GnetError(f"--min-batch must be at least 1, not {self.min_batch}")
        if not self.min_batch <= self.opt_batch <= self.max_batch:
            raise GnetError(f"batch sizes must satisfy min ≤ opt ≤ max, but got min {self.min_batch}, "
                            f"opt {self.opt_batch}, max {self.max_batch}")
        if self.workspace_mib < 1:
            raise GnetError(f"--workspace must be at least 1 MiB, not {self.workspace_mib}")
        if not 0 <= self.opt_level <= MAX_OPT_LEVEL:
            raise GnetError(f"--opt-level must be between 0 and {MAX_OPT_LEVEL}, not {self.opt_level}")
        if self.hardware_compat not in manifest_mod.HARDWARE_COMPAT:
            raise GnetError(f"--hardware-compat must be one of {', '.join(manifest_mod.HARDWARE_COMPAT)}, "
                            f"not {self.hardware_compat!r}")


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


@dataclass
class BuildInputs:
    """The validated ONNX side of a build (no TensorRT needed to compute it)."""

    onnx: Path
    plan: Path
    precision: str
    metadata: dict[str, Any]
    input_name: str
    input_shape: tuple[int | None, ...]  # None marks a dynamic dimension
    timing_cache: Path | None

    def profile(self, options: BuildOptions) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(min, opt, max) input shapes: the batch from the options, the rest from the ONNX."""
        rest = tuple(int(d) for d in self.input_shape[1:])  # checked static in prepare()
        return ((options.min_batch, *rest), (options.opt_batch, *rest), (options.max_batch, *rest))


def precision_of(onnx: Path, meta: dict[str, Any]) -> str:
    """The precision the ONNX encodes: its ``gnet.precision`` metadata, else its file name."""
    recorded = str(meta.get("precision", "")).lower()
    if recorded in PRECISIONS:
        return recorded
    found = [p for p in PRECISIONS if re.search(rf"(^|[_.\-]){p}([_.\-]|$)", onnx.name.lower())]
    if len(found) == 1:
        return found[0]
    raise GnetError(f"cannot tell the precision of {onnx}: it has no gnet.precision metadata and its name "
                    f"names none of {', '.join(PRECISIONS)}; export it with gnet export --precision")


def default_plan_path(onnx: Path, precision: str) -> Path:
    """``googlenet_<precision>.plan`` beside the ONNX."""
    return onnx.parent / f"googlenet_{precision}.plan"


def _input_of(model: Any, onnx: Path) -> tuple[str, tuple[int | None, ...]]:
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise GnetError(f"{onnx} has {len(inputs)} inputs, but gnet builds engines for one image input")
    dims = inputs[0].type.tensor_type.shape.dim
    shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
    if len(shape) != 4 or any(d is None for d in shape[1:]):
        raise GnetError(f"the input {inputs[0].name!r} of {onnx} must be [batch, channels, height, width] "
                        f"with only the batch dynamic, not {['?' if d is None else d for d in shape]}")
    return inputs[0].name, shape


def prepare(onnx_path: str | Path, output: str | Path | None, options: BuildOptions) -> BuildInputs:
    """Validate the ONNX and the options; nothing here needs TensorRT or a GPU."""
    from gnet.export import metadata
    from gnet.export.ort import load_onnx

    onnx = Path(onnx_path)
    model = load_onnx(onnx)
    options.check()
    meta = metadata.read(model)
    precision = precision_of(onnx, meta)
    name, shape = _input_of(model, onnx)
    if shape[0] is not None and not options.min_batch == options.max_batch == shape[0]:
        raise GnetError(f"{onnx} has a fixed batch of {shape[0]}, so the profile must be --min-batch "
                        f"{shape[0]} --opt-batch {shape[0]} --max-batch {shape[0]}; export it with a dynamic batch instead")
    plan = Path(output) if output else default_plan_path(onnx, precision)
    if plan.suffix != ".plan":
        raise GnetError(f"the engine file name must end in .plan (its manifest goes beside it as .json), not {plan.name}")
    ensure_writable_dir(plan)
    cache = None
    if options.use_timing_cache:
        cache = Path(options.timing_cache) if options.timing_cache else plan.parent / DEFAULT_TIMING_CACHE
    return BuildInputs(onnx, plan, precision, meta, name, shape, cache)


def unavailable_sentence(inputs: BuildInputs, reason: str) -> str:
    """One sentence: what is missing, that the ONNX is ready, and the exact commands for a GPU machine."""
    return (f"{reason}, so {inputs.plan.name} was not built; the ONNX {inputs.onnx} is ready: on a machine with "
            f"an NVIDIA GPU run {INSTALL_COMMAND} and then gnet build {inputs.onnx}")


def _parse_error_sentence(onnx: Path, errors: list[Any]) -> str:
    if not errors:
        return f"TensorRT cannot parse {onnx} and reported no error; run with a verbose TensorRT log to see why"
    first = errors[0]

    def field_of(attr: str) -> str:
        try:
            return str(getattr(first, attr)()).strip()
        except Exception:  # a binding without this method still has __str__
            return ""

    node, op, desc = field_of("node_name"), field_of("node_operator"), field_of("desc") or str(first).strip()
    where = f"node {node!r}" + (f" ({op})" if op else "") if node else (f"a {op} node" if op else "the graph")
    more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
    return f"TensorRT cannot parse {onnx}: {where} failed with: {desc.rstrip('.')}{more}"


def _calibration(meta: dict[str, Any]) -> dict[str, Any]:
    recorded = meta.get("calibration")
    out: dict[str, Any] = dict(recorded) if isinstance(recorded, dict) else {}
    out["sha256"] = out.get("sha256") or meta.get("calibration_sha256") or None
    return out


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
        raise GnetError("TensorRT refused a new, empty timing cache; rerun with --no-timing-cache")


def _write_cache(config: Any, path: Path | None) -> None:
    if path is None:
        return
    cache = config.get_timing_cache()
    if cache is None:
        return
    write_bytes_atomic(path, bytes(memoryview(cache.serialize())))


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        reason = str(exc).split(";")[0]
        raise EngineUnavailable(unavailable_sentence(inputs, reason)) from None
    opened = device is None
    if device is None:
        try:
            device = get_backend()
        except GnetError as exc:
            raise EngineUnavailable(unavailable_sentence(inputs, str(exc).split(";")[0])) from None
    try:
        return _build(trt, inputs, options, device.device_info())
    finally:
        if opened:
            device.close()


def _build(trt: Any, inputs: BuildInputs, options: BuildOptions, info: DeviceInfo) -> BuildResult:
    warnings: list[str] = []
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(strongly_typed_flags(trt))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(inputs.onnx)):
        raise GnetError(_parse_error_sentence(inputs.onnx, [parser.get_error(i) for i in range(parser.num_errors)]))

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

    start = time.perf_counter()
    serialized = builder.build_serialized_network(network, config)
    seconds = time.perf_counter() - start
    if serialized is None:
        raise GnetError(f"TensorRT could not build an engine from {inputs.onnx} (its log above says why); "
                        f"try a larger --workspace or a smaller --max-batch")
    plan_bytes = bytes(memoryview(serialized))
    _write_cache(config, inputs.timing_cache)

    runtime = trt.Runtime(logger)
    if options.version_compatible:
        runtime.engine_host_code_allowed = True
    engine = runtime.deserialize_cuda_engine(plan_bytes)
    if engine is None:
        raise GnetError(f"TensorRT built {inputs.plan.name} but cannot load it back (its log above says why)")
    specs = tensor_specs(trt, engine)
    report = judge(inspect_engine(trt, engine), inputs.precision, options.allow_mixed)
    del engine, runtime
    if not report.passed:
        raise GnetError(report.failure_sentence(inputs.plan.name))
    if not report.proven:
        warnings.append(f"{report.shortfall(inputs.plan.name)} (kept because of --allow-mixed)")

    doc = manifest_document(str(trt.__version__), inputs, options, info, specs, report, plan_bytes, seconds)
    manifest_path = manifest_mod.manifest_path_for(inputs.plan)
    problems = manifest_mod.validate(doc)
    if problems:
        raise ValueError(f"gnet built an invalid manifest: {problems[0]}")
    # The plan lands first, then its manifest: a reader that finds the new manifest finds the new plan.
    with atomic_output(manifest_path) as manifest_tmp:
        with atomic_output(inputs.plan) as plan_tmp:
            plan_tmp.write_bytes(plan_bytes)
        manifest_tmp.write_text(manifest_mod.dumps(doc), encoding="utf-8")
    return BuildResult(inputs.plan, manifest_path, doc, report, seconds, inputs.timing_cache, warnings)


def manifest_document(trt_version: str, inputs: BuildInputs, options: BuildOptions, info: DeviceInfo,
                      specs: list[TensorSpec], report: PrecisionReport, plan_bytes: bytes, seconds: float) -> dict[str, Any]:
    """The manifest of one build, as ``manifest.schema.json`` describes it."""
    from gnet.export.hashing import sha256_file

    meta = inputs.metadata
    return {
        "format": manifest_mod.FORMAT,
        "format_version": manifest_mod.FORMAT_VERSION,
        "gnet_version": gnet.__version__,
        "created_utc": _utc_now(),
        "plan": {"file": inputs.plan.name, "sha256": hashlib.sha256(plan_bytes).hexdigest(), "bytes": len(plan_bytes)},
        "precision": inputs.precision,
        "model": {
            "name": "googlenet",
            "onnx_file": os.path.relpath(inputs.onnx, inputs.plan.parent),  # the name, when side by side
            "onnx_sha256": sha256_file(inputs.onnx),
            "weights": meta.get("weights"),
            "weights_sha256": meta.get("weights_sha256"),
            "num_classes": meta.get("num_classes"),
            "image_size": meta.get("image_size"),
            "opset": meta.get("opset"),
            "class_names": [str(c) for c in meta.get("class_names") or []],
        },
        "calibration": _calibration(meta),
        "tensorrt": {
            "version": trt_version,
            "strongly_typed": True,
            "hardware_compatibility": options.hardware_compat,
            "version_compatible": options.version_compatible,
        },
        "device": info.to_dict(),
        "host": {"os": platform.system(), "machine": platform.machine(), "python": platform.python_version()},
        "inputs": [s.to_manifest() for s in specs if s.is_input],
        "outputs": [s.to_manifest() for s in specs if not s.is_input],
        "preprocessing": dict(meta.get("preprocessing") or {}),
        "build": {
            "seconds": round(seconds, 3),
            "options": {
                "min_batch": options.min_batch, "opt_batch": options.opt_batch, "max_batch": options.max_batch,
                "workspace_mib": options.workspace_mib, "opt_level": options.opt_level,
                "timing_cache": str(inputs.timing_cache) if inputs.timing_cache else None,
                "hardware_compat": options.hardware_compat, "version_compatible": options.version_compatible,
                "allow_mixed": options.allow_mixed, "profiling_verbosity": "detailed",
            },
        },
        "precision_proof": report.to_dict(),
    }
