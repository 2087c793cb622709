"""The builder configuration of one build: shared options, then only those the edition has (``editions.py``).

Both editions: workspace, optimization level, ``ProfilingVerbosity.DETAILED``, the optimization
profile. Data-centre TensorRT: hardware compatibility, version compatibility, the timing cache.
TensorRT-RTX: the compute capabilities to build for. An edition's missing option was refused before
this runs; nothing here reads ``hardware_compatibility_level`` on TensorRT-RTX, whose getter logs an
internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gnet.atomic import write_bytes_atomic
from gnet.engines import rtx_targets
from gnet.engines.build_inputs import BuildInputs, BuildOptions
from gnet.errors import GnetError


def builder_config(trt: Any, builder: Any, inputs: BuildInputs, options: BuildOptions, warnings: list[str]) -> Any:
    """The builder config for ``inputs`` (an optimization profile of min/opt/max batch included)."""
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, options.workspace_mib << 20)
    config.builder_optimization_level = options.opt_level
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED  # the inspector proof needs per-layer types
    if "hardware_compat" in inputs.spec.options:
        config.hardware_compatibility_level = {
            "none": trt.HardwareCompatibilityLevel.NONE,
            "ampere+": trt.HardwareCompatibilityLevel.AMPERE_PLUS,
            "same-cc": trt.HardwareCompatibilityLevel.SAME_COMPUTE_CAPABILITY,
        }[options.hardware_compat]
        if options.version_compatible:
            config.set_flag(trt.BuilderFlag.VERSION_COMPATIBLE)
    if "compute_capabilities" in inputs.spec.options:
        _set_targets(trt, config, rtx_targets.parse(trt, options.compute_capabilities))
    _add_profile(builder, config, inputs, options)
    _use_timing_cache(config, inputs.timing_cache, warnings)
    return config


def _set_targets(trt: Any, config: Any, targets: list[Any]) -> None:
    """TensorRT-RTX's targets; none keeps its default list."""
    if not targets:
        return
    config.num_compute_capabilities = len(targets)
    for index, target in enumerate(targets):
        if not config.set_compute_capability(target, index):
            raise GnetError(f"TensorRT-RTX {trt.__version__} refused the compute capability {target}")


def _add_profile(builder: Any, config: Any, inputs: BuildInputs, options: BuildOptions) -> None:
    lo, opt, hi = inputs.profile(options)
    profile = builder.create_optimization_profile()
    profile.set_shape(inputs.input_name, lo, opt, hi)
    if config.add_optimization_profile(profile) < 0:
        raise GnetError(f"{inputs.spec.label} rejected the optimization profile {list(lo)} / {list(opt)} / {list(hi)} "
                        f"for the input {inputs.input_name!r}")


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


def write_timing_cache(config: Any, path: Path | None) -> None:
    """Write the (grown) timing cache back, atomically."""
    if path is None:
        return
    cache = config.get_timing_cache()
    if cache is None:
        return
    write_bytes_atomic(path, bytes(memoryview(cache.serialize())))
