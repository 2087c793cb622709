"""The runner registry: discovery of every backend × variant × precision, available or not (with why)."""

from __future__ import annotations

from collections.abc import Sequence

from gnet.bench.results import Unavailable
from gnet.bench.runners.base import Availability, PrepareContext, Runner
from gnet.bench.runners.cpp_openvino import CppOpenVinoRunner
from gnet.bench.runners.openvino_cpu import OpenVinoCpuRunner
from gnet.bench.runners.ort_cpu import OrtCpuRunner
from gnet.bench.runners.ort_cuda import OrtCudaRunner
from gnet.bench.runners.ort_trt import OrtTensorrtRunner
from gnet.bench.runners.torch_cpu import TorchCpuRunner
from gnet.bench.runners.torch_cuda import TorchCudaRunner
from gnet.bench.runners.triton import TritonRunner
from gnet.bench.runners.trt_engine import TrtRtxRunner, TrtRunner
from gnet.defaults import BENCH_PRECISIONS
from gnet.errors import UsageError, first_line

__all__ = ["ALIASES", "BACKENDS", "OPT_IN", "OPT_IN_VARIANTS", "Availability", "PrepareContext", "Runner",
           "Unavailable", "discover", "left_out_by_default", "opted_out", "parse_backends"]

BACKENDS: dict[str, type[Runner]] = {
    cls.backend: cls
    for cls in (TorchCpuRunner, TorchCudaRunner, OrtCpuRunner, OpenVinoCpuRunner, CppOpenVinoRunner, OrtCudaRunner,
                OrtTensorrtRunner, TrtRunner, TrtRtxRunner, TritonRunner)
}
"""Every backend gnet knows, in the order the reports list them."""

ALIASES = {"openvino": "openvino-cpu"}
"""Other names ``--backend`` accepts (OpenVINO has one backend here, its CPU plugin)."""

OPT_IN = ("triton",)
"""Backends that run only when ``--backend`` names them: ``triton`` starts a Triton server for each variant and
precision and measures serving (the network hop included), not a way to run the model in the caller's process."""

_TUNED = ("not in the default run: before its row it times each configuration it chooses from (5 or 6, at least "
          "9 batches each), minutes at 224 px on a small CPU, where they landed within noise of the defaults "
          "(docs/bench.md); --backend {0}:tuned (or {0}) runs it")

OPT_IN_VARIANTS = {
    ("torch-cpu", "compile"): "not in the default run: torch.compile generates and compiles C++ for minutes on a "
                              "small CPU before its first answer; --backend torch-cpu:compile (or torch-cpu) runs it",
    ("ort-cpu", "tuned"): _TUNED.format("ort-cpu"),
    ("openvino-cpu", "tuned"): _TUNED.format("openvino-cpu"),
}
"""Variants that run only when ``--backend`` names them or their backend; a default run lists them with why."""


def parse_backends(value: str | Sequence[str] | None) -> list[tuple[str, str | None]]:
    """``"ort-cpu,torch-cpu:eager"`` → ``[("torch-cpu", "eager"), ("ort-cpu", None)]``; None → every backend
    but :data:`OPT_IN`.

    Always in :data:`BACKENDS` order, whatever order the user typed: the runners share one process,
    and PyTorch eager on the CPU is page-fault bound (glibc hands its activation buffers back to the
    OS every batch), so a runner before it that moved malloc's mmap threshold made the baseline look
    faster than a user's own process sees it (docs/bench.md). ``torch-cpu:eager`` runs first.
    """
    if value is None or value == "" or value == "all":
        return _default_backends()
    items = value.split(",") if isinstance(value, str) else list(value)
    chosen: list[tuple[str, str | None]] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        name, _, variant = item.partition(":")
        name = ALIASES.get(name, name)
        cls = BACKENDS.get(name)
        if cls is None:
            raise UsageError(f"unknown backend {name!r}", remedy=f"choose from {', '.join(BACKENDS)} "
                             f"(optionally with a variant, e.g. ort-cpu:tuned)")
        if variant and variant not in cls.variants:
            raise UsageError(f"backend {name} has no variant {variant!r}", remedy=f"its variants are {', '.join(cls.variants)}")
        chosen.append((name, variant or None))
    if not chosen:
        raise UsageError("--backend names no backend")
    names = list(BACKENDS)

    def canonical(item: tuple[str, str | None]) -> tuple[int, int]:
        name, variant = item
        return names.index(name), -1 if variant is None else BACKENDS[name].variants.index(variant)

    whole = {name for name, variant in chosen if variant is None}  # "ort-cpu" already covers "ort-cpu:tuned"
    kept = [(name, variant) for name, variant in dict.fromkeys(chosen) if variant is None or name not in whole]
    return sorted(kept, key=canonical)


def _default_backends() -> list[tuple[str, str | None]]:
    """Every backend but :data:`OPT_IN`, each whole unless it has :data:`OPT_IN_VARIANTS` (then its other variants)."""
    chosen: list[tuple[str, str | None]] = []
    for name, cls in BACKENDS.items():
        if name in OPT_IN:
            continue
        kept = [v for v in cls.variants if (name, v) not in OPT_IN_VARIANTS]
        chosen += [(name, None)] if len(kept) == len(cls.variants) else [(name, v) for v in kept]
    return chosen


def opted_out(backends: Sequence[tuple[str, str | None]], precisions: Sequence[str]) -> list[Unavailable]:
    """The :data:`OPT_IN_VARIANTS` rows a run left out although they could run here, each with why."""
    missing = []
    for (name, variant), reason in OPT_IN_VARIANTS.items():
        if (name, None) in backends or (name, variant) in backends or not any(b == name for b, _ in backends):
            continue
        could_run, _ = discover([(name, variant)], precisions)  # discovery's own probe, a failing one included
        missing += [Unavailable(name, variant, runner.precision, reason) for runner in could_run]
    return missing


def left_out_by_default(runners: Sequence[Runner]) -> tuple[list[Runner], list[Unavailable]]:
    """For a run that names no precision: the runners it keeps, and those it leaves out although they could run
    here (:meth:`Runner.left_out_by_default`), each with why."""
    kept: list[Runner] = []
    left: list[Unavailable] = []
    for runner in runners:
        reason = runner.left_out_by_default()
        if reason:
            left.append(Unavailable(runner.backend, runner.variant, runner.precision, reason))
        else:
            kept.append(runner)
    return kept, left


def parse_precisions(value: str | Sequence[str] | None) -> list[str]:
    """``"fp32,int8"`` → ``["fp32", "int8"]`` in canonical order; None → every bench precision."""
    if value is None or value == "":
        return list(BENCH_PRECISIONS)
    items = [p.strip().lower() for p in (value.split(",") if isinstance(value, str) else value) if p.strip()]
    bad = [p for p in items if p not in BENCH_PRECISIONS]
    if bad or not items:
        raise UsageError(f"unknown precision {bad[0] if bad else value!r}",
                         remedy=f"choose from {', '.join(BENCH_PRECISIONS)}")
    return [p for p in BENCH_PRECISIONS if p in items]


def discover(
    backends: Sequence[tuple[str, str | None]], precisions: Sequence[str]
) -> tuple[list[Runner], list[Unavailable]]:
    """Instantiate every selected runner; split them into those that can run here and those that cannot.

    A combination that is no row of its backend (``bf16`` on ONNX Runtime, the TensorRT-format variant of
    OpenVINO in FP32) is skipped silently: it is not unavailable, it does not exist."""
    ready: list[Runner] = []
    missing: list[Unavailable] = []
    for name, only_variant in backends:
        cls = BACKENDS[name]
        for precision in precisions:
            for variant in cls.variants:
                if (only_variant and variant != only_variant) or not cls.is_row(variant, precision):
                    continue
                runner = cls(variant, precision)
                try:
                    found = runner.available()
                except Exception as exc:  # noqa: BLE001 - a probe that breaks makes that backend unavailable, not the run
                    found = Availability.no(f"probing it failed ({type(exc).__name__}: {first_line(exc, 160)})")
                if found.ok:
                    ready.append(runner)
                else:
                    missing.append(Unavailable(name, variant, precision, found.reason))
    return ready, missing
