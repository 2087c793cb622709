"""What building the engines costs here, reported even where they cannot run: TensorRT-RTX builds ahead of time
on any CPU, so its build time per precision is a real figure on a machine without a GPU.

Each precision's plan is built at most once per run: a plan whose manifest matches (same edition, same
ONNX, a profile reaching the largest batch) is reused, and its recorded build time is reported with
``reused: true``; the ``trt-rtx`` runner, where it runs, reuses the same plans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gnet.defaults import PRECISIONS
from gnet.errors import GnetError
from gnet.pipeline import ensure_plan

RUNTIME = "tensorrt-rtx"
BACKEND = "trt-rtx"


def wanted(backends: Sequence[tuple[str, str | None]]) -> bool:
    """The run selected the ``trt-rtx`` backend and TensorRT-RTX can build here."""
    if not any(name == BACKEND for name, _ in backends):
        return False
    from gnet.engines.availability import rtx_support

    return rtx_support().can_build


def engine_builds(precisions: Sequence[str], artifact: Callable[[str], Path], batches: list[int],
                  progress_message: Callable[[str], None]) -> list[dict[str, Any]]:
    """One entry per engine precision asked for: the plan, its size and its build time (or why it could not be built).

    Only precisions that are files (:data:`~gnet.defaults.PRECISIONS`): ``bf16`` is a runtime's execution of the
    FP32 graph, with no artifact and no plan of its own.
    """
    out: list[dict[str, Any]] = []
    for precision in (p for p in precisions if p in PRECISIONS):
        progress_message(f"TensorRT-RTX plan {precision}: reusing or building it")
        try:
            plan = ensure_plan(artifact(precision), precision, RUNTIME, batches)
        except GnetError as exc:
            out.append({"runtime": RUNTIME, "precision": precision, "error": exc.cause})
            continue
        doc = plan.manifest
        out.append({
            "runtime": RUNTIME,
            "version": doc["tensorrt"]["version"],
            "precision": precision,
            "plan": plan.path.name,
            "bytes": doc["plan"]["bytes"],
            "seconds": doc["build"]["seconds"],
            "reused": not plan.built_now,
            "compute_capabilities": doc["tensorrt"].get("compute_capabilities", "default"),
            "profile_max_batch": doc["inputs"][0]["profile"]["max"][0],
        })
    return out


def summary_line(builds: list[dict[str, Any]]) -> str:
    """``TensorRT-RTX 1.7.1.116 AOT builds here: fp32 1.3 s 22.8 MB, fp16 …`` ("" without builds)."""
    done = [b for b in builds if "error" not in b]
    parts = [f"{b['precision']} {b['seconds']:.1f} s {b['bytes'] / 1e6:.1f} MB" + (" (reused)" if b["reused"] else "")
             for b in done]
    parts += [f"{b['precision']} failed: {b['error']}" for b in builds if "error" in b]
    if not parts:
        return ""
    version = f" {done[0]['version']}" if done else ""
    return f"TensorRT-RTX{version} AOT builds here: " + ", ".join(parts)
