"""The engines a benchmark needs: a plan reused when its manifest says it fits, else built once.

A plan is reused when it was built by the same TensorRT edition (the manifest's ``runtime``), from this
very ONNX (``onnx_sha256``), with a profile that reaches the largest batch, and is still the plan its manifest
records (size and SHA-256: a truncated or edited plan is rebuilt); otherwise it is built, beside
the ONNX, with the edition's plan name (``googlenet_<p>.plan`` / ``googlenet_<p>.rtx.plan``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnet import defaults
from gnet.errors import GnetError


@dataclass(frozen=True)
class Plan:
    """A plan ready for the run: where it is, its manifest, and whether this run built it."""

    path: Path
    manifest: dict[str, Any]
    built_now: bool


def matching_manifest(plan: Path, onnx: Path, runtime: str, max_batch: int) -> dict[str, Any] | None:
    """The manifest of ``plan`` when the plan can be reused for ``onnx``, ``runtime`` and ``max_batch``; else None."""
    from gnet.engines import manifest as manifest_mod
    from gnet.export.hashing import sha256_file

    manifest_path = manifest_mod.manifest_path_for(plan)
    if not plan.is_file() or not manifest_path.is_file():
        return None
    try:
        doc = manifest_mod.read(manifest_path)
    except GnetError:
        return None
    if manifest_mod.runtime_of(doc) != runtime or doc["model"]["onnx_sha256"] != sha256_file(onnx):
        return None
    if manifest_mod.plan_mismatch(doc, plan.read_bytes()):  # a truncated or edited plan is rebuilt, never reused
        return None
    top = ((doc.get("inputs") or [{}])[0].get("profile") or {}).get("max") or [0]
    return doc if int(top[0]) >= max_batch else None


def ensure_plan(onnx: Path, precision: str, runtime: str, batches: list[int]) -> Plan:
    """Reuse the matching plan beside ``onnx``, or build it (profile 1 / the largest batch asked / at least MAX_BATCH)."""
    from gnet.engines.build import build_engine
    from gnet.engines.build_inputs import BuildOptions, default_plan_path

    max_batch = max([defaults.MAX_BATCH, *batches])
    plan = default_plan_path(onnx, precision, runtime)
    found = matching_manifest(plan, onnx, runtime, max_batch)
    if found is not None:
        return Plan(plan, found, False)
    opt = max(batches) if batches else defaults.OPT_BATCH
    result = build_engine(onnx, plan, BuildOptions(min_batch=1, opt_batch=opt, max_batch=max_batch, runtime=runtime))
    return Plan(plan, result.manifest, True)
