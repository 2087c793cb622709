"""``gnet triton-repo``: a Triton model repository from gnet's artifacts, every config validated, written atomically.

One Triton model per artifact found in the artifacts folder::

    model_repository/
      .gnet-triton-repo                                            (gnet replaces only a folder it wrote)
      googlenet_onnx_fp32/      config.pbtxt labels.txt gnet.json            1/model.onnx
      googlenet_onnx_int8_cpu/  config.pbtxt labels.txt gnet.json            1/model.onnx   (KIND_CPU)
      googlenet_trt_fp16/       config.pbtxt labels.txt googlenet_fp16.json  1/model.plan   (KIND_GPU)

ONNX models run on Triton's ``onnxruntime_onnx`` platform (FP16 and TensorRT-format INT8 graphs with
ONNX Runtime's TensorRT accelerator at that precision, the CPU-format INT8 graph on CPU instances),
plans on ``tensorrt_plan`` with ``max_batch_size`` = their profile's maximum. TensorRT-RTX plans are
skipped (Triton has no TensorRT-RTX backend). ``gnet.json`` is the ONNX's own ``gnet.*`` metadata; a
plan's manifest is copied under its own name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gnet import defaults
from gnet.atomic import current_umask, remove_stale, temp_prefix
from gnet.errors import GnetError, UsageError
from gnet.serve.model_config import TYPE_BY_DTYPE, ModelSpec, preferred_sizes, render
from gnet.serve.served_model import copy_private, read_signature
from gnet.serve.triton_versions import plan_refusal

MARKER = ".gnet-triton-repo"
ONNX_MODELS = {  # artifact kind → (Triton model name, instance kind, TensorRT accelerator precision)
    "fp32": ("googlenet_onnx_fp32", "KIND_GPU", ""),
    "fp16": ("googlenet_onnx_fp16", "KIND_GPU", "FP16"),
    "int8": ("googlenet_onnx_int8", "KIND_GPU", "INT8"),
    "int8-cpu": ("googlenet_onnx_int8_cpu", "KIND_CPU", ""),
}
TRT_CACHE = "/tmp/triton_trt_cache"
"""Where ONNX Runtime's TensorRT accelerator keeps its engines inside the server (one folder per model)."""


@dataclass(frozen=True)
class RepoOptions:
    """``gnet triton-repo``'s options."""

    max_batch: int = defaults.SERVE_MAX_BATCH  # ONNX models (plans take their profile's max)
    cpu_instances: int = 1
    gpu_instances: int = 1
    queue_delay_us: int = defaults.MAX_QUEUE_DELAY_US
    server_tensorrt: str | None = None  # refuse plans this TensorRT cannot load; None: not checked


@dataclass(frozen=True)
class Entry:
    """One model of the repository: its configuration, its file and its manifest."""

    spec: ModelSpec
    source: Path
    manifest_name: str
    manifest: dict[str, Any]
    labels: tuple[str, ...]


@dataclass
class Repository:
    """What ``discover`` found: the models to write and the files skipped, with why."""

    entries: list[Entry] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _tensorrt(name: str, precision: str, spec: ModelSpec) -> dict[str, str]:
    shape = "x".join(str(d) for d in spec.dims)
    opt = max(b for b in spec.preferred if b <= spec.max_batch)
    return {"precision_mode": precision, "max_workspace_size_bytes": str(defaults.WORKSPACE_MIB << 20),
            "trt_engine_cache_enable": "1", "trt_engine_cache_path": f"{TRT_CACHE}/{name}",
            "trt_profile_min_shapes": f"{defaults.INPUT_NAME}:1x{shape}",
            "trt_profile_opt_shapes": f"{defaults.INPUT_NAME}:{opt}x{shape}",
            "trt_profile_max_shapes": f"{defaults.INPUT_NAME}:{spec.max_batch}x{shape}"}


def onnx_entry(path: Path, artifact: str, options: RepoOptions) -> Entry:
    """A repository model for one gnet ONNX of artifact kind ``artifact`` (dims, dtypes, classes and labels from the
    file itself)."""
    name, kind, precision = ONNX_MODELS[artifact]
    sig = read_signature(path, "triton-repo")
    spec = ModelSpec(name=name, platform="onnxruntime_onnx", model_file="model.onnx", max_batch=options.max_batch,
                     dims=sig.dims, classes=sig.classes, preferred=preferred_sizes(options.max_batch), kind=kind,
                     instances=options.cpu_instances if kind == "KIND_CPU" else options.gpu_instances,
                     input_type=TYPE_BY_DTYPE[sig.input_dtype], output_type=TYPE_BY_DTYPE[sig.output_dtype],
                     queue_delay_us=options.queue_delay_us)
    if precision:
        spec = replace(spec, tensorrt=_tensorrt(name, precision, spec))
    return Entry(spec, path, "gnet.json", {"source": path.name, **sig.metadata}, tuple(sig.labels()))


def plan_entry(plan: Path, manifest: dict[str, Any], options: RepoOptions) -> Entry:
    """A repository model for a TensorRT plan, from its manifest; refuses a plan the server cannot load."""
    from gnet.engines.manifest import plan_mismatch

    why = plan_mismatch(manifest, plan.read_bytes())
    if why:
        raise GnetError(f"cannot put {plan.name} in a repository", f"it is not the plan its manifest records: {why}",
                        "rebuild both with gnet build")
    trt = manifest["tensorrt"]
    if options.server_tensorrt:
        why = plan_refusal(trt["version"], bool(trt.get("version_compatible")), options.server_tensorrt)
        if why:
            raise UsageError(f"cannot put {plan.name} in a repository for that Triton", why,
                             f"rebuild it with TensorRT {options.server_tensorrt} (gnet build in that release's "
                             "container), or name the Triton release whose TensorRT built it")
    inp, out = manifest["inputs"][0], manifest["outputs"][0]
    profile = inp["profile"]
    classes = int(out["shape"][-1])
    spec = ModelSpec(name=f"googlenet_trt_{manifest['precision']}", platform="tensorrt_plan", model_file="model.plan",
                     max_batch=int(profile["max"][0]), dims=tuple(int(d) for d in inp["shape"][1:]), classes=classes,
                     preferred=preferred_sizes(int(profile["max"][0]), int(profile["opt"][0])), kind="KIND_GPU",
                     instances=options.gpu_instances, input_type=TYPE_BY_DTYPE[inp["dtype"]],
                     output_type=TYPE_BY_DTYPE[out["dtype"]], queue_delay_us=options.queue_delay_us)
    names = manifest["model"].get("class_names") or []
    labels = tuple(names) if len(names) == classes else tuple(str(i) for i in range(classes))
    return Entry(spec, plan, plan.with_suffix(defaults.MANIFEST_SUFFIX).name, manifest, labels)


def rtx_reason(plan: Path) -> str:
    """Why a plan is a TensorRT-RTX plan ("" when it is not): its manifest's runtime, else its name."""
    from gnet.engines.manifest import manifest_path_for

    try:
        runtime = json.loads(manifest_path_for(plan).read_text()).get("runtime")
    except (OSError, ValueError, AttributeError):
        runtime = None
    if runtime == defaults.RTX_RUNTIME or (runtime is None and plan.name.endswith(defaults.RTX_PLAN_SUFFIX)):
        return "a TensorRT-RTX plan: Triton has no TensorRT-RTX backend (serve its ONNX instead)"
    return ""


def discover(artifacts: Path, options: RepoOptions) -> Repository:
    """Every gnet ONNX and every plan (with its manifest) in ``artifacts``.

    ``skipped`` is only for a valid gnet artifact Triton has no backend for; a file under a gnet name that is not
    gnet's (unreadable, or a foreign ONNX without gnet's metadata) refuses the whole repository, as a bad manifest
    does: serving it would mean guessing its contract, and skipping it would drop a model the user put there."""
    from gnet.engines import manifest as manifests

    if not artifacts.is_dir():
        raise UsageError(f"the artifacts folder {artifacts} does not exist", remedy="export some with: gnet export")
    found = Repository()
    for artifact in ONNX_MODELS:
        path = artifacts / defaults.artifact_name(artifact)
        if path.is_file():
            found.entries.append(onnx_entry(path, artifact, options))
    for plan in sorted(artifacts.glob(f"{defaults.MODEL_NAME}_*{defaults.PLAN_SUFFIX}")):
        why = rtx_reason(plan)
        if why:
            found.skipped.append((plan.name, why))
        else:
            found.entries.append(plan_entry(plan, manifests.read(manifests.manifest_path_for(plan)), options))
    if not found.entries:
        raise UsageError(f"no gnet artifact to serve in {artifacts}",
                         f"no {defaults.MODEL_NAME}_*.onnx nor {defaults.MODEL_NAME}_*.plan there"
                         + (f" (skipped: {', '.join(n for n, _ in found.skipped)})" if found.skipped else ""),
                         "export some with: gnet export (and gnet build for plans)")
    return found


def _write_model(folder: Path, entry: Entry) -> None:
    text = f"# generated by gnet triton-repo from {entry.source.name}\n{render(entry.spec)}"
    root = folder / entry.spec.name
    (root / "1").mkdir(parents=True)
    (root / "config.pbtxt").write_text(text)
    (root / entry.spec.labels).write_text("\n".join(entry.labels) + "\n")
    (root / entry.manifest_name).write_text(json.dumps(entry.manifest, indent=2) + "\n")
    copy_private(entry.source, root / "1" / entry.spec.model_file)


def _check_replaceable(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise UsageError(f"{out} exists and was not written by gnet triton-repo",
                         remedy="choose another -o folder, or remove it yourself")


def write(repository: Repository, out: Path) -> Path:
    """Build the whole repository in a temporary folder beside ``out``, then swap it in.

    Any failure before the swap leaves ``out`` byte for byte as it was, and no temporary folder. The
    swap is two renames (old aside, new in); if the second fails the first is undone.
    """
    out = out.absolute()
    _check_replaceable(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(out.parent)  # a killed run's staging folder (owner PID in its name); never a set-aside copy
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out), dir=out.parent))
    except OSError as exc:
        raise GnetError(f"cannot write the repository {out}", exc.strerror or str(exc)) from None
    aside: Path | None = None
    try:
        try:
            (tmp / MARKER).write_text("written by gnet triton-repo; gnet replaces this folder as a whole\n")
            for entry in repository.entries:
                _write_model(tmp, entry)
            os.chmod(tmp, 0o777 & ~current_umask())
        except OSError as exc:
            raise GnetError(f"cannot write the repository {out}", exc.strerror or str(exc)) from None
        if out.exists():
            aside = out.with_name(f".{out.name}.old-{os.getpid()}")  # never removed as stale: it may be the only copy
            os.rename(out, aside)
        try:
            os.rename(tmp, out)
        except OSError:
            if aside is not None:
                os.rename(aside, out)
                aside = None
            raise
    except OSError as exc:  # out is a mount point (EBUSY), on a read-only file system, ...
        raise GnetError(f"cannot replace the repository {out}", exc.strerror or str(exc),
                        "choose another -o folder (a mount point cannot be replaced; write inside it)") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    return out

