"""The JSON manifest beside each plan: what it was built from, for which TensorRT edition and GPU, and how.

The format is documented by ``manifest.schema.json`` (JSON Schema draft 2020-12, format version 2),
which C++ and edge readers can rely on; version 1 documents (data-centre TensorRT only, frozen in
``manifest.schema.v1.json``) are still read. This module assembles the document of a build, checks
every manifest gnet writes or reads against its version's schema (with ``jsonschema``), and says
whether a data-centre TensorRT plan belongs on this machine (a TensorRT-RTX plan is asked with the
runtime's own validity check: ``rtx_runtime.py``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gnet
from gnet import defaults
from gnet.atomic import write_text_atomic
from gnet.engines.trt_import import parse_version
from gnet.errors import CompatibilityError, GnetError
from gnet.json_schema import schema_errors

if TYPE_CHECKING:
    from gnet.engines.build_inputs import BuildInputs, BuildOptions
    from gnet.engines.cuda_binding import DeviceInfo
    from gnet.engines.engine_io import TensorSpec
    from gnet.engines.proofs import Proofs

FORMAT = "gnet-engine-manifest"
FORMAT_VERSION = 2
"""Version 2 added ``runtime``, ``tensorrt.compute_capabilities``, a nullable ``device`` and the proofs' record."""
SCHEMA_FILES = {1: "manifest.schema.v1.json", 2: "manifest.schema.json"}
SCHEMA_FILE = SCHEMA_FILES[FORMAT_VERSION]


def manifest_path_for(plan: str | Path) -> Path:
    """``artifacts/googlenet_fp16.plan`` → ``artifacts/googlenet_fp16.json``."""
    return Path(plan).with_suffix(defaults.MANIFEST_SUFFIX)


@lru_cache(maxsize=None)
def schema(version: int = FORMAT_VERSION) -> dict[str, Any]:
    """The manifest's JSON Schema of a format version, shipped as package data."""
    text = resources.files("gnet.engines").joinpath(SCHEMA_FILES[version]).read_text(encoding="utf-8")
    return json.loads(text)


def validate(doc: Any) -> list[str]:
    """Every way ``doc`` breaks its format version's schema (empty when it is a valid manifest)."""
    version = doc.get("format_version") if isinstance(doc, dict) else None
    return schema_errors(doc, schema(version if version in SCHEMA_FILES else FORMAT_VERSION), "manifest")


def runtime_of(doc: dict[str, Any]) -> str:
    """The edition that must load the plan (version 1 manifests are data-centre TensorRT's)."""
    return str(doc.get("runtime", "tensorrt"))


def _calibration(meta: dict[str, Any]) -> dict[str, Any]:
    recorded = meta.get("calibration")
    out: dict[str, Any] = dict(recorded) if isinstance(recorded, dict) else {}
    out["sha256"] = out.get("sha256") or meta.get("calibration_sha256") or None
    return out


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _model(inputs: BuildInputs) -> dict[str, Any]:
    from gnet.export.hashing import sha256_file

    meta = inputs.metadata
    return {
        "name": defaults.MODEL_NAME,
        "onnx_file": os.path.relpath(inputs.onnx, inputs.plan.parent),  # the name, when side by side
        "onnx_sha256": sha256_file(inputs.onnx),
        "weights": meta.get("weights"),
        "weights_sha256": meta.get("weights_sha256"),
        "num_classes": meta.get("num_classes"),
        "image_size": meta.get("image_size"),
        "opset": meta.get("opset"),
        "class_names": [str(c) for c in meta.get("class_names") or []],
    }


def _edition(trt_version: str, inputs: BuildInputs, options: BuildOptions) -> dict[str, Any]:
    out: dict[str, Any] = {"version": trt_version, "strongly_typed": True}
    if "hardware_compat" in inputs.spec.options:
        out.update(hardware_compatibility=options.hardware_compat, version_compatible=options.version_compatible)
    if "compute_capabilities" in inputs.spec.options:
        asked = options.compute_capabilities
        out["compute_capabilities"] = ([t.strip().lower() for t in asked.split(",") if t.strip()]
                                       if asked else "default")
    return out


def document(trt_version: str, inputs: BuildInputs, options: BuildOptions, info: DeviceInfo | None,
             specs: list[TensorSpec], proofs: Proofs, plan_bytes: bytes, seconds: float) -> dict[str, Any]:
    """The manifest of one build, as ``manifest.schema.json`` describes it."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "gnet_version": gnet.__version__,
        "created_utc": _utc_now(),
        "runtime": inputs.spec.name,
        "plan": {"file": inputs.plan.name, "sha256": hashlib.sha256(plan_bytes).hexdigest(), "bytes": len(plan_bytes)},
        "precision": inputs.precision,
        "model": _model(inputs),
        "calibration": _calibration(inputs.metadata),
        "tensorrt": _edition(trt_version, inputs, options),
        "device": info.to_dict() if info is not None else None,
        "host": {"os": platform.system(), "machine": platform.machine(), "python": platform.python_version()},
        "inputs": [s.to_manifest() for s in specs if s.is_input],
        "outputs": [s.to_manifest() for s in specs if not s.is_input],
        "input_type": str(inputs.metadata.get("input_type", defaults.FLOAT_INPUT)),
        "preprocessing": dict(inputs.metadata.get("preprocessing") or {}),
        "build": {"seconds": round(seconds, 3), "options": options.to_manifest(inputs.spec, inputs.timing_cache)},
        "precision_proof": proofs.to_dict(),
    }


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write(path: str | Path, doc: dict[str, Any]) -> Path:
    """Validate ``doc`` against the schema and write it atomically."""
    problems = validate(doc)
    if problems:  # gnet itself built an invalid manifest: a bug, so keep the traceback
        raise ValueError(f"refusing to write an invalid manifest: {problems[0]}")
    dest = Path(path)
    write_text_atomic(dest, dumps(doc))
    return dest


def read(path: str | Path) -> dict[str, Any]:
    """Load and validate a manifest, turning any defect into one sentence."""
    file = Path(path)
    if not file.is_file():
        raise GnetError(f"the engine manifest {file} does not exist",
                        "a plan is only loaded with the manifest gnet build writes beside it")
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GnetError(f"the engine manifest {file} is not valid JSON", str(exc)) from None
    if isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("format_version") not in SCHEMA_FILES:
        readable = " and ".join(str(v) for v in SCHEMA_FILES)
        raise GnetError(f"the engine manifest {file} has format version {doc.get('format_version')!r}",
                        f"this gnet reads versions {readable}", "rebuild the engine with this gnet")
    problems = validate(doc)
    if problems:
        raise GnetError(f"the engine manifest {file} is not a gnet engine manifest", problems[0])
    return doc


def plan_mismatch(doc: dict[str, Any], data: bytes) -> str:
    """Why ``data`` is not the plan ``doc`` records ("" when it is): its size, else its SHA-256."""
    recorded = doc["plan"]
    if len(data) != recorded["bytes"]:
        return f"it is {len(data)} bytes, the manifest records {recorded['bytes']}"
    digest = hashlib.sha256(data).hexdigest()
    if digest != recorded["sha256"]:
        return f"its SHA-256 is {digest[:12]}…, the manifest records {recorded['sha256'][:12]}…"
    return ""


def _cc(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)


def compatibility_problems(doc: dict[str, Any], trt_version: str, compute_capability: str) -> list[str]:
    """What differs between the machine a plan was built for and this one, as clauses for one sentence."""
    problems: list[str] = []
    built_trt = doc["tensorrt"]["version"]
    built_v, here_v = parse_version(built_trt), parse_version(trt_version)
    if doc["tensorrt"]["version_compatible"]:
        if built_v[:1] != here_v[:1] or here_v < built_v:
            problems.append(f"it was built version-compatible with TensorRT {built_trt}, which only TensorRT "
                            f"{built_v[0]}.x releases from {built_trt} on can load, but this machine has TensorRT {trt_version}")
    elif built_v != here_v:
        problems.append(f"it was built with TensorRT {built_trt} but this machine has TensorRT {trt_version}")
    level = doc["tensorrt"]["hardware_compatibility"]
    built_cc = doc["device"]["compute_capability"]
    if level == "ampere+":
        if _cc(compute_capability) < (8, 0):
            problems.append(f"it was built for Ampere or newer GPUs (compute capability 8.0+) but this GPU has compute capability {compute_capability}")
    elif _cc(built_cc) != _cc(compute_capability):
        problems.append(f"it was built for compute capability {built_cc} ({doc['device']['name']}) "
                        f"but this GPU has compute capability {compute_capability}")
    return problems


def check_compatible(doc: dict[str, Any], plan: Path, trt_version: str, compute_capability: str) -> None:
    """Refuse, in one sentence naming every difference, a plan built for another TensorRT or GPU."""
    problems = compatibility_problems(doc, trt_version, compute_capability)
    if problems:
        source = plan.parent / doc["model"]["onnx_file"]
        raise CompatibilityError(f"{plan.name} does not match this machine", "; and ".join(problems),
                                 f"rebuild it here with: gnet build {source}")
