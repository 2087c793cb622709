"""What each OpenVINO CPU option buys: ``gnet bench --openvino-ablation``.

The same method as ``--ort-ablation`` (:mod:`gnet.bench.ablation`): per precision and batch size, every
configuration of :func:`~gnet.bench.runners.openvino_options.ablation` (OpenVINO's defaults, then one change
at a time: the latency and throughput hints, streams, infer requests in flight, threads, pinning, static
shapes) in one round robin, img/s = batch / median latency. ONNX Runtime's default session on the same
artifact joins the same round robin, so "OpenVINO against ONNX Runtime" is measured under the same load
rather than taken from two runs.
"""

from __future__ import annotations

from typing import Any

from gnet.bench.ablation import measure
from gnet.bench.runners.base import PrepareContext, Runner
from gnet.bench.runners.openvino_cpu import OpenVinoCpuRunner
from gnet.bench.runners.openvino_options import UNTUNED, ablation
from gnet.bench.runners.ort_cpu import OrtCpuRunner
from gnet.errors import NotAvailable
from gnet.system import physical_cores

ORT_REFERENCE = "ONNX Runtime's default session, same artifact"


def precisions_here(asked: list[str], progress: Any) -> list[str]:
    """The asked precisions OpenVINO runs on this CPU (each one left out is said, with why)."""
    kept = []
    for precision in asked:
        found = OpenVinoCpuRunner("default", precision).available()
        if found.ok:
            kept.append(precision)
        else:
            progress.message(f"openvino-cpu {precision} left out: {found.reason}")
    if not kept:
        raise NotAvailable("OpenVINO runs none of the precisions asked for here", ", ".join(asked))
    return kept


def run_openvino_ablation(config: Any, progress: Any) -> dict[str, Any]:
    """Time every OpenVINO configuration (and ONNX Runtime's default on the same artifact) per precision and batch."""
    from gnet.bench.runners import parse_precisions

    precisions = precisions_here(parse_precisions(config.precisions), progress)
    configs = ablation(config.threads or physical_cores())

    def build(precision: str, ctx: PrepareContext) -> list[tuple[str, Runner]]:
        runners: list[tuple[str, Runner]] = [
            (name, OpenVinoCpuRunner("tuned", precision, tuning.replace(threads=tuning.threads or config.threads)))
            for name, tuning in configs.items()]
        openvino = runners[0][1]
        if precision in OrtCpuRunner.precisions:
            ort = OrtCpuRunner("default", precision)
            if ort.artifact_kind == openvino.artifact_kind:  # fp16 on ORT is another graph: no reference
                runners.append((ORT_REFERENCE, ort))
        return runners

    return measure(config, progress, precisions, build, "OpenVINO CPU options", UNTUNED)
