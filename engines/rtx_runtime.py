"""What loading a TensorRT-RTX plan adds: the pre-load validity check, the runtime cache, its own CUDA graphs.

* ``Runtime.get_engine_validity(plan)`` reads the plan's header and says whether it can run on this
  machine (VALID, SUBOPTIMAL, INVALID with diagnostic bits). gnet turns the bits into one sentence.
  Measured: on an H100 (compute capability 9.0) every plan is (INVALID, UNSUPPORTED_CC): TensorRT-RTX
  targets RTX-class GPUs only. Without a GPU the answer is (INVALID, no bit): it cannot tell.
* The runtime cache keeps the kernels TensorRT-RTX compiles on the GPU when a plan is loaded;
  gnet loads it from a file beside the plan (``<plan>.rtxcache``) and saves it atomically on close.
  A cache from another GPU, driver or TensorRT-RTX is refused by TensorRT-RTX itself (documented),
  and a new one is started.
* CUDA graphs: ``IRuntimeConfig.cuda_graph_strategy = WHOLE_GRAPH_CAPTURE`` lets TensorRT-RTX
  capture and replay the engine itself (after its per-shape kernels compile); gnet's own stream
  capture is then not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnet import defaults
from gnet.atomic import write_bytes_atomic
from gnet.engines import rtx_targets
from gnet.errors import CompatibilityError, GnetError

NO_GPU = "TensorRT-RTX cannot query a GPU here (no CUDA GPU, or no usable driver), so it can neither check nor run it"


@dataclass(frozen=True)
class PlanCheck:
    """``get_engine_validity`` in gnet's words: the verdict and one clause per diagnostic bit."""

    validity: str  # VALID | SUBOPTIMAL | INVALID
    reasons: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return self.validity in ("VALID", "SUBOPTIMAL")


def _clauses(trt: Any, compute_capability: str | None, built_for: Any) -> dict[str, str]:
    gpu = f"compute capability {compute_capability}" if compute_capability else "this GPU's compute capability"
    if compute_capability and not rtx_targets.supports(trt, compute_capability):
        unsupported = (f"TensorRT-RTX {trt.__version__} runs only on GPUs of compute capability "
                       f"{rtx_targets.supported_text(trt)}, and this GPU has {gpu}")
    else:
        targets = ", ".join(built_for) if isinstance(built_for, list) else "TensorRT-RTX's default list"
        unsupported = f"it was built for {targets}, not for this GPU's {gpu}"
    return {
        "VERSION_MISMATCH": f"it was built by another TensorRT-RTX version than this {trt.__version__}",
        "UNSUPPORTED_CC": unsupported,
        "OLD_CUDA_DRIVER": "this machine's CUDA driver is too old for it",
        "OLD_CUDA_RUNTIME": "this machine's CUDA runtime is too old for it",
        "INSUFFICIENT_GPU_MEMORY": "this GPU has too little memory for it",
        "MALFORMED_ENGINE": "it is not a TensorRT-RTX plan (its header is malformed)",
        "CUDA_ERROR": "CUDA reported an error while TensorRT-RTX checked it",
    }


def plan_check(trt: Any, runtime: Any, plan: bytes, compute_capability: str | None = None,
               built_for: Any = None) -> PlanCheck:
    """Ask TensorRT-RTX whether ``plan`` can run here, from its header alone.

    ``compute_capability`` is this GPU's ("9.0"), ``built_for`` the manifest's
    ``tensorrt.compute_capabilities``: both only sharpen the sentence. A plan cut after its header
    passes this check; the manifest's SHA-256 catches that.
    """
    validity, bits = runtime.get_engine_validity(plan)
    name = str(validity).rsplit(".", 1)[-1]
    clauses = _clauses(trt, compute_capability, built_for)
    reasons = tuple(clause for member, clause in clauses.items()
                    if int(bits) & int(getattr(trt.EngineInvalidityDiagnostics, member)))
    if name == "INVALID" and not reasons:
        reasons = (NO_GPU,)
    return PlanCheck(name, reasons)


def refuse_unusable(check: PlanCheck, plan: Path, onnx: Path) -> None:
    """The pre-load sentence: why this plan cannot run here, and what would."""
    if check.usable:
        return
    if check.reasons == (NO_GPU,):
        remedy = "run it on a machine with a supported NVIDIA RTX-class GPU"
    else:
        remedy = f"rebuild it for this GPU with: gnet build {onnx} --runtime tensorrt-rtx --compute-capability current"
    raise CompatibilityError(f"{plan.name} cannot run here", "; and ".join(check.reasons), remedy)


def default_cache_path(plan: Path) -> Path:
    """``googlenet_fp16.rtx.plan`` → ``googlenet_fp16.rtxcache`` beside it."""
    suffix = defaults.PLAN_SUFFIXES["tensorrt-rtx"]
    stem = plan.name[: -len(suffix)] if plan.name.endswith(suffix) else plan.stem
    return plan.with_name(stem + defaults.RUNTIME_CACHE_SUFFIX)


class RuntimeCache:
    """The runtime cache of one execution context, seeded from ``path`` and written back by :meth:`save`."""

    def __init__(self, config: Any, path: Path | None, warnings: list[str]) -> None:
        self.path = path
        self.loaded = False
        self.cache = config.create_runtime_cache()
        if self.cache is None:
            raise GnetError("TensorRT-RTX could not create a runtime cache")
        if path is not None and path.is_file():
            self.loaded = bool(self.cache.deserialize(path.read_bytes()))
            if not self.loaded:  # another GPU, driver or TensorRT-RTX: documented, not an error
                warnings.append(f"the runtime cache {path} was made for another GPU, driver or TensorRT-RTX; "
                                "a new one is started")
        if not config.set_runtime_cache(self.cache):
            raise GnetError("TensorRT-RTX refused its own runtime cache")

    def save(self) -> None:
        """Write the kernels compiled in this run, atomically (a failed write keeps the previous file)."""
        if self.path is not None and self.cache is not None:
            write_bytes_atomic(self.path, bytes(memoryview(self.cache.serialize())))


def open_context(trt: Any, engine: Any, cache_path: Path | None, cuda_graphs: bool,
                 warnings: list[str]) -> tuple[Any, RuntimeCache]:
    """(execution context, runtime cache) through an ``IRuntimeConfig``."""
    config = engine.create_runtime_config()
    cache = RuntimeCache(config, cache_path, warnings)
    config.cuda_graph_strategy = (trt.CudaGraphStrategy.WHOLE_GRAPH_CAPTURE if cuda_graphs
                                  else trt.CudaGraphStrategy.DISABLED)
    context = engine.create_execution_context(config)
    if context is None:
        raise GnetError("TensorRT-RTX cannot create an execution context", "out of GPU memory?")
    return context, cache

