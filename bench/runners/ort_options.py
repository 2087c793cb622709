"""Every ONNX Runtime CPU option gnet tunes (:class:`OrtTuning`), and how each becomes SessionOptions.

``ort-cpu:default`` is ``InferenceSession(path)`` with nothing set: the reference the tuned rows are
measured against. ``ort-cpu:tuned`` applies :func:`tuned`, whose every field is one documented
option, so ``gnet bench --ort-ablation`` can say what each buys.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnet.errors import UsageError
from gnet.system import physical_cores

GRAPH_LEVELS = ("disable", "basic", "extended", "layout", "all")


@dataclass(frozen=True)
class OrtTuning:
    """Every ONNX Runtime CPU option gnet tunes; the defaults are ONNX Runtime's own."""

    threads: int | None = None
    """intra_op_num_threads; None is ORT's default (one per physical core)."""
    graph_optimization: str = "all"
    """Graph optimization level (ORT's default is all: constant folding, fusions, NCHWc layout)."""
    parallel_execution: bool = False
    """ORT_PARALLEL runs independent branches (GoogLeNet's inception arms) on the inter-op pool."""
    fixed_batch: bool = False
    """add_free_dimension_override_by_name("batch", N): one session per batch size with static shapes,
    so shape-dependent planning (memory pattern, kernel choice) happens once at load time."""
    io_binding: bool = False
    """Bind the input in place and write logits into a preallocated output (no per-run allocation)."""
    cpu_mem_arena: bool = True
    """ORT's CPU memory arena (on by default)."""
    mem_pattern: bool = True
    """Memory-pattern planning (on by default)."""
    allow_spinning: bool = True
    """Intra-op threads spin-wait between parallel sections instead of sleeping (on by default)."""
    denormal_as_zero: bool = False
    """Flush denormal floats to zero (FP32 graphs with tiny activations slow down without it)."""
    dynamic_block_base: int = 0
    """session.dynamic_block_base: hand out parallel work in shrinking blocks (0 = ORT's static split)."""
    optimized_model_cache: bool = False
    """Save the graph optimized at level extended beside the artifact and load that next time
    (only session creation gets faster; kept out of the timing, reported as setup)."""
    workers: int = 1
    """Sessions run side by side, each on threads / workers cores, each on its share of the batch."""
    sub_batch: int = 0
    """Each worker runs its share in chunks of this many images (0: all at once); smaller chunks keep
    the activations in cache."""

    def describe(self) -> dict[str, Any]:
        """The fields that differ from ORT's defaults (what the reports print)."""
        default = OrtTuning()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}

    def replace(self, **changes: Any) -> OrtTuning:
        return dataclasses.replace(self, **changes)


DEFAULT = OrtTuning()


def tuned(threads: int | None = None) -> OrtTuning:
    """The tuned CPU configuration (see docs/bench.md for what each option bought here)."""
    cores = threads or physical_cores()
    return OrtTuning(
        threads=cores,
        fixed_batch=True,
        io_binding=True,
        denormal_as_zero=True,
        workers=cores,
        sub_batch=16,
    )


def _level(ort: Any, name: str) -> Any:
    levels = ort.GraphOptimizationLevel
    mapping = {"disable": levels.ORT_DISABLE_ALL, "basic": levels.ORT_ENABLE_BASIC,
               "extended": levels.ORT_ENABLE_EXTENDED, "all": levels.ORT_ENABLE_ALL}
    if name == "layout":
        mapping["layout"] = getattr(levels, "ORT_ENABLE_LAYOUT", levels.ORT_ENABLE_ALL)
    try:
        return mapping[name]
    except KeyError:
        raise UsageError(f"unknown graph optimization level {name!r}", remedy=f"use one of {', '.join(GRAPH_LEVELS)}") from None


def session_options(ort: Any, tuning: OrtTuning, batch: int | None, threads: int | None) -> Any:
    """SessionOptions carrying ``tuning`` (for one batch size when ``fixed_batch``)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    options.graph_optimization_level = _level(ort, tuning.graph_optimization)
    if tuning.parallel_execution:
        options.execution_mode = ort.ExecutionMode.ORT_PARALLEL
        options.inter_op_num_threads = threads or physical_cores()
    options.enable_cpu_mem_arena = tuning.cpu_mem_arena
    options.enable_mem_pattern = tuning.mem_pattern
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if tuning.allow_spinning else "0")
    if tuning.denormal_as_zero:
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
    if tuning.dynamic_block_base:
        options.add_session_config_entry("session.dynamic_block_base", str(tuning.dynamic_block_base))
    if tuning.fixed_batch and batch:
        options.add_free_dimension_override_by_name("batch", batch)
    return options


def optimized_cache_path(artifact: Path) -> Path:
    """Where the extended-level optimized graph of ``artifact`` is cached (keyed by ORT's version)."""
    import onnxruntime as ort

    return artifact.with_name(f"{artifact.stem}.ort{ort.__version__}.opt.onnx")


def ensure_optimized(artifact: Path) -> Path:
    """Write (atomically) and return the extended-level optimized copy of ``artifact``, reusing one only while both
    files are still what was recorded when it was written (SHA-256 of each, beside it).

    Level extended is portable across CPUs; the NCHWc layout pass (level all) stays at load time.
    """
    import onnxruntime as ort

    from gnet.atomic import atomic_output
    from gnet.export.hashing import record_matches, write_record

    cached = optimized_cache_path(artifact)
    if cached.is_file() and record_matches(cached, artifact):
        return cached
    with atomic_output(cached) as tmp:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(tmp)  # a name not ending in .ort: ONNX format
        ort.InferenceSession(str(artifact), options, providers=["CPUExecutionProvider"])
    write_record(cached, artifact)
    return cached


UNTUNED = "ONNX Runtime's default options"


def layouts(base: OrtTuning, cores: int) -> dict[str, OrtTuning]:
    """The configurations ``ort-cpu:tuned`` chooses from: ``base`` with each way of spreading a batch over
    the cores (which is fastest depends on the CPU, the image size and the precision), and ORT's own
    defaults, so the tuned row never settles for something it measured slower than doing nothing
    (see :func:`gnet.bench.runners.autotune.fastest_layout`)."""
    spreads = {
        f"{cores} intra-op threads": {"workers": 1, "sub_batch": 0},
        f"{cores} intra-op threads, chunks of 16": {"workers": 1, "sub_batch": 16},
        f"{cores} intra-op threads, chunks of 32": {"workers": 1, "sub_batch": 32},
        f"{cores} workers": {"workers": cores, "sub_batch": 0},
        f"{cores} workers, chunks of 16": {"workers": cores, "sub_batch": 16},
    }
    found = {name: base.replace(**spread) for name, spread in spreads.items()}
    found[UNTUNED] = DEFAULT.replace(threads=base.threads)
    return found
