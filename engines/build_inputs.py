"""What an engine build starts from: the user's options and the validated ONNX side (no TensorRT needed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnet import defaults
from gnet.atomic import ensure_writable_dir
from gnet.engines.editions import Edition, refuse_options
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
    runtime: str = defaults.RUNTIME  # auto | tensorrt | tensorrt-rtx
    compute_capabilities: str | None = None  # TensorRT-RTX: "sm86,sm89" or "current"; None: its default list
    image_size: int | None = None  # a foreign ONNX's facts (--image-size, --classes): see metadata.require_gnet_metadata
    num_classes: int | None = None

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
        for flag, value in (("--image-size", self.image_size), ("--classes", self.num_classes)):
            if value is not None and value < 1:
                raise UsageError(f"{flag} must be at least 1, not {value}")
        if self.runtime not in defaults.RUNTIMES:
            raise UsageError(f"--runtime must be one of {', '.join(defaults.RUNTIMES)}, not {self.runtime!r}")

    def chosen(self) -> list[str]:
        """The runtime-specific options set away from their defaults (what an edition without them refuses)."""
        found = {
            "hardware_compat": self.hardware_compat != defaults.HARDWARE_COMPAT[0],
            "version_compatible": self.version_compatible,
            "timing_cache": self.timing_cache is not None,
            "compute_capabilities": self.compute_capabilities is not None,
        }
        return [name for name, chosen in found.items() if chosen]

    def check_runtime(self, spec: Edition) -> None:
        """Refuse, before anything is built, an option ``spec`` does not have."""
        refuse_options(spec, self.chosen())

    def to_manifest(self, spec: Edition, timing_cache: Path | None) -> dict[str, Any]:
        """The options as the manifest's ``build.options`` records them (only those the edition has)."""
        out: dict[str, Any] = {
            "min_batch": self.min_batch, "opt_batch": self.opt_batch, "max_batch": self.max_batch,
            "workspace_mib": self.workspace_mib, "opt_level": self.opt_level,
            "allow_mixed": self.allow_mixed, "profiling_verbosity": "detailed",
        }
        if "timing_cache" in spec.options:
            out["timing_cache"] = str(timing_cache) if timing_cache else None
        if "hardware_compat" in spec.options:
            out["hardware_compat"] = self.hardware_compat
            out["version_compatible"] = self.version_compatible
        if "compute_capabilities" in spec.options:
            out["compute_capabilities"] = self.compute_capabilities or "default"
        return out


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
    spec: Edition

    def profile(self, options: BuildOptions) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(min, opt, max) input shapes: the batch from the options, the rest from the ONNX."""
        rest = tuple(int(d) for d in self.input_shape[1:])  # checked static in prepare()
        return ((options.min_batch, *rest), (options.opt_batch, *rest), (options.max_batch, *rest))


def default_plan_path(onnx: Path, precision: str, runtime: str = "tensorrt",
                      input_type: str = defaults.FLOAT_INPUT) -> Path:
    """``googlenet_<precision>.plan`` (``.rtx.plan`` for TensorRT-RTX, ``_uint8`` for a frame-input graph) beside
    the ONNX."""
    return onnx.parent / defaults.plan_name(precision, runtime, input_type)


def refuse_cpu_format(onnx: Path, meta: dict[str, Any]) -> None:
    """gnet's CPU-format INT8 (u8 activations, INT32 bias) is for ONNX Runtime; TensorRT would refuse it at its
    first node or, worse, silently re-type u8 activations to int8 (``docs/engines.md``, "TensorRT-RTX")."""
    if str(meta.get("int8_target", "")) == "cpu":
        trt_format = onnx.parent / defaults.artifact_name("int8")
        raise UsageError(f"{onnx} is gnet's CPU-format INT8 graph",
                         "it is the ONNX Runtime CPU artifact (uint8 activations, INT32 biases), not one TensorRT "
                         "can build", f"build from {trt_format.name}: gnet export --precision int8 -o {trt_format}")


def _refuse_other_input(model: Any, onnx: Path, meta: dict[str, Any], name: str, shape: tuple[int | None, ...]) -> None:
    """The graph's input must be what its ``gnet.input_type`` says (uint8 [N, S, S, 3] frames, or float
    [N, 3, S, S], :func:`gnet.defaults.image_dims`): a plan and manifest that disagree are never written."""
    from onnx import TensorProto

    input_type = str(meta.get("input_type", defaults.FLOAT_INPUT))
    elem = next(i for i in model.graph.input if i.name == name).type.tensor_type.elem_type
    is_uint8 = elem == TensorProto.UINT8
    wanted = defaults.image_dims(int(meta["image_size"]), input_type)
    if is_uint8 != (input_type == defaults.FRAME_INPUT) or list(shape[1:]) != wanted:
        raise GnetError(f"{onnx} does not match its gnet metadata",
                        f"its input is {'uint8' if is_uint8 else 'float'} {['?' if d is None else d for d in shape]}, "
                        f"but gnet.input_type is {input_type}", "re-export it with gnet export")


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


def prepare(onnx_path: str | Path, output: str | Path | None, options: BuildOptions, spec: Edition) -> BuildInputs:
    """Validate the ONNX and the options for ``spec``; nothing here needs TensorRT or a GPU."""
    from gnet.checks.ort import load_onnx
    from gnet.export import metadata

    onnx = Path(onnx_path)
    model = load_onnx(onnx)
    options.check()
    meta = metadata.require_gnet_metadata(model, str(onnx), "build",
                                          {"image_size": options.image_size, "num_classes": options.num_classes})
    meta.setdefault("opset", metadata.opset_of(model))  # the manifest never records a null opset
    refuse_cpu_format(onnx, meta)
    precision = str(meta["precision"])
    name, shape = _input_of(model, onnx)
    _refuse_other_input(model, onnx, meta, name, shape)
    input_type = str(meta.get("input_type", defaults.FLOAT_INPUT))
    if shape[0] is not None and not options.min_batch == options.max_batch == shape[0]:
        raise UsageError(f"{onnx} has a fixed batch of {shape[0]}",
                         f"so the profile must be --min-batch {shape[0]} --opt-batch {shape[0]} --max-batch {shape[0]}",
                         "export it with a dynamic batch instead")
    plan = Path(output) if output else default_plan_path(onnx, precision, spec.name, input_type)
    if not plan.name.endswith(spec.plan_suffix) or plan.name == spec.plan_suffix:
        raise UsageError(f"a {spec.label} engine's file name must end in {spec.plan_suffix} (its manifest goes "
                         f"beside it as {defaults.MANIFEST_SUFFIX}), not {plan.name}")
    ensure_writable_dir(plan)
    cache = None
    if options.use_timing_cache and "timing_cache" in spec.options:
        cache = Path(options.timing_cache) if options.timing_cache else plan.parent / defaults.TIMING_CACHE_NAME
    return BuildInputs(onnx, plan, precision, meta, name, shape, cache, spec)
