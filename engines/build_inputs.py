"""What an engine build starts from: the user's options and the validated ONNX side (no TensorRT needed)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnet import defaults
from gnet.atomic import ensure_writable_dir
from gnet.errors import GnetError, UsageError


@dataclass
class BuildOptions:
    """Everything ``gnet build`` lets a user choose; recorded verbatim in the manifest."""

    min_batch: int = defaults.MIN_BATCH
    opt_batch: int = defaults.OPT_BATCH
    max_batch: int = defaults.MAX_BATCH
    workspace_mib: int = defaults.WORKSPACE_MIB
    opt_level: int = defaults.OPT_LEVEL
    timing_cache: str | None = None  # None: timing.cache beside the plan
    use_timing_cache: bool = True
    hardware_compat: str = defaults.HARDWARE_COMPAT[0]  # none | ampere+ | same-cc
    version_compatible: bool = False
    allow_mixed: bool = False

    def check(self) -> None:
        """Refuse impossible options with one sentence, before anything is built."""
        if self.min_batch < 1:
            raise UsageError(f"--min-batch must be at least 1, not {self.min_batch}")
        if not self.min_batch <= self.opt_batch <= self.max_batch:
            raise UsageError(f"batch sizes must satisfy min ≤ opt ≤ max, but got min {self.min_batch}, "
                             f"opt {self.opt_batch}, max {self.max_batch}")
        if self.workspace_mib < 1:
            raise UsageError(f"--workspace must be at least 1 MiB, not {self.workspace_mib}")
        if not 0 <= self.opt_level <= defaults.MAX_OPT_LEVEL:
            raise UsageError(f"--opt-level must be between 0 and {defaults.MAX_OPT_LEVEL}, not {self.opt_level}")
        if self.hardware_compat not in defaults.HARDWARE_COMPAT:
            raise UsageError(f"--hardware-compat must be one of {', '.join(defaults.HARDWARE_COMPAT)}, "
                             f"not {self.hardware_compat!r}")

    def to_manifest(self, timing_cache: Path | None) -> dict[str, Any]:
        """The options as the manifest's ``build.options`` records them."""
        return {
            "min_batch": self.min_batch, "opt_batch": self.opt_batch, "max_batch": self.max_batch,
            "workspace_mib": self.workspace_mib, "opt_level": self.opt_level,
            "timing_cache": str(timing_cache) if timing_cache else None,
            "hardware_compat": self.hardware_compat, "version_compatible": self.version_compatible,
            "allow_mixed": self.allow_mixed, "profiling_verbosity": "detailed",
        }


@dataclass
class BuildInputs:
    """The validated ONNX side of a build."""

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
    if recorded in defaults.PRECISIONS:
        return recorded
    found = [p for p in defaults.PRECISIONS if re.search(rf"(^|[_.\-]){p}([_.\-]|$)", onnx.name.lower())]
    if len(found) == 1:
        return found[0]
    raise GnetError(f"cannot tell the precision of {onnx}",
                    f"it has no gnet.precision metadata and its name names none of {', '.join(defaults.PRECISIONS)}",
                    "export it with gnet export --precision")


def default_plan_path(onnx: Path, precision: str) -> Path:
    """``googlenet_<precision>.plan`` beside the ONNX."""
    return onnx.parent / defaults.plan_name(precision)


def _input_of(model: Any, onnx: Path) -> tuple[str, tuple[int | None, ...]]:
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise GnetError(f"{onnx} has {len(inputs)} inputs", "gnet builds engines for one image input")
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
    meta = metadata.read_checked(model, str(onnx))
    precision = precision_of(onnx, meta)
    name, shape = _input_of(model, onnx)
    if shape[0] is not None and not options.min_batch == options.max_batch == shape[0]:
        raise UsageError(f"{onnx} has a fixed batch of {shape[0]}",
                         f"so the profile must be --min-batch {shape[0]} --opt-batch {shape[0]} --max-batch {shape[0]}",
                         "export it with a dynamic batch instead")
    plan = Path(output) if output else default_plan_path(onnx, precision)
    if plan.suffix != defaults.PLAN_SUFFIX:
        raise UsageError(f"the engine file name must end in {defaults.PLAN_SUFFIX} (its manifest goes beside it as "
                         f"{defaults.MANIFEST_SUFFIX}), not {plan.name}")
    ensure_writable_dir(plan)
    cache = None
    if options.use_timing_cache:
        cache = Path(options.timing_cache) if options.timing_cache else plan.parent / defaults.TIMING_CACHE_NAME
    return BuildInputs(onnx, plan, precision, meta, name, shape, cache)
