"""The two TensorRT editions gnet builds for, and every way they differ, in one table.

Data-centre TensorRT (``tensorrt``, 10.12+) builds on the GPU the engine will run on. TensorRT-RTX
(``tensorrt_rtx``, 1.7+; NVIDIA's edition for RTX GPUs, the same builder/parser/runtime API family,
strongly typed only) builds ahead of time without any GPU and compiles its kernels on the GPU when
the plan is loaded. The build module, the runner, ``gnet info`` and the bench read this table;
nothing else spells a module name, a version floor, an install command, a plan suffix or which
options an edition has. Measured facts behind each row: ``docs/engines.md``, "TensorRT-RTX".
"""

from __future__ import annotations

from dataclasses import dataclass

from gnet import defaults
from gnet.errors import UsageError


@dataclass(frozen=True)
class Edition:
    """One TensorRT edition: how to import it, what it can do, and what its files are called."""

    name: str  # the --runtime value and the manifest's "runtime"
    label: str  # in sentences: "TensorRT", "TensorRT-RTX"
    module: str  # what importlib imports
    min_version: tuple[int, ...]
    min_version_why: str
    install: str  # the pip command a sentence quotes (no square brackets: rich would eat them as markup)
    build_needs_gpu: bool  # data-centre TensorRT builds on its GPU; TensorRT-RTX builds ahead of time on any CPU
    inspector_proof: bool  # the build deserializes the plan and proves its precision with the engine inspector
    options: frozenset[str]  # the BuildOptions fields this edition has; the others are refused, never ignored
    why_not: dict[str, str]  # option → why this edition refuses it (one clause)

    @property
    def plan_suffix(self) -> str:
        return defaults.PLAN_SUFFIXES[self.name]

    @property
    def rtx(self) -> bool:
        """TensorRT-RTX's runtime side: engine validity check, runtime cache, its own CUDA graphs."""
        return self.name == "tensorrt-rtx"


SHARED_OPTIONS = frozenset({"workspace_mib", "opt_level", "allow_mixed"})

TENSORRT = Edition(
    name="tensorrt", label="TensorRT", module="tensorrt", min_version=(10, 12),
    min_version_why="gnet builds strongly typed networks, which need TensorRT 10.12 or newer",
    install='pip install "tensorrt>=10.12" "cuda-python>=12.6.1"',
    build_needs_gpu=True, inspector_proof=True,
    options=SHARED_OPTIONS | {"hardware_compat", "version_compatible", "timing_cache"},
    why_not={"compute_capabilities": "data-centre TensorRT builds for the GPU it runs on (use --hardware-compat "
                                     "to widen that)"},
)
TENSORRT_RTX = Edition(
    name="tensorrt-rtx", label="TensorRT-RTX", module="tensorrt_rtx", min_version=(1, 7),
    min_version_why="gnet is tested with TensorRT-RTX 1.7 (engine validity, runtime cache and CUDA graphs included)",
    install='pip install "tensorrt-rtx>=1.7,<2"',
    build_needs_gpu=False, inspector_proof=False,
    options=SHARED_OPTIONS | {"compute_capabilities"},
    why_not={
        "hardware_compat": "TensorRT-RTX ignores hardware compatibility levels (it logs \"unsupported in "
                           "TensorRT-RTX\"); choose the GPUs with --compute-capability",
        "version_compatible": "TensorRT-RTX ships no lean runtime (libnvinfer_lean) to embed",
        "timing_cache": "TensorRT-RTX's timing cache is a deprecated no-op that needs a GPU to reload",
    },
)
RUNTIMES = {spec.name: spec for spec in (TENSORRT, TENSORRT_RTX)}
AUTO_ORDER = (TENSORRT, TENSORRT_RTX)
"""``--runtime auto``: data-centre TensorRT if it imports, else TensorRT-RTX."""

OPTION_FLAGS = {"hardware_compat": "--hardware-compat", "version_compatible": "--version-compatible",
                "timing_cache": "--timing-cache", "compute_capabilities": "--compute-capability"}


def spec_for(name: str) -> Edition:
    """The edition a manifest's ``runtime`` or an explicit ``--runtime`` names."""
    try:
        return RUNTIMES[name]
    except KeyError:
        raise UsageError(f"unknown runtime {name!r}", remedy=f"use one of {', '.join(defaults.RUNTIMES)}") from None


def refuse_options(spec: Edition, chosen: list[str]) -> None:
    """Refuse, in one sentence, the first option in ``chosen`` (BuildOptions fields set away from their
    defaults) that ``spec`` does not have: an option is never silently ignored."""
    for option in chosen:
        if option not in spec.options:
            raise UsageError(f"{OPTION_FLAGS.get(option, option)} cannot be used with {spec.label} (--runtime {spec.name})",
                             spec.why_not.get(option, f"{spec.label} has no such option"),
                             "drop it, or choose the other runtime with --runtime")
