"""The JSON manifest beside each plan: what it was built from, for which TensorRT and GPU, and how.

The format is documented by ``manifest.schema.json`` (JSON Schema draft 2020-12),
which C++ and edge readers can rely on. gnet checks every manifest it writes or
reads against that schema (with the ``jsonschema`` package).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from gnet.atomic import write_text_atomic
from gnet.json_schema import schema_errors
from gnet.errors import GnetError
from gnet.engines.trt_import import parse_version

FORMAT = "gnet-engine-manifest"
FORMAT_VERSION = 1
SCHEMA_FILE = "manifest.schema.json"
HARDWARE_COMPAT = ("none", "ampere+", "same-cc")


def manifest_path_for(plan: str | Path) -> Path:
    """``artifacts/googlenet_fp16.plan`` → ``artifacts/googlenet_fp16.json``."""
    return Path(plan).with_suffix(".json")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The manifest's JSON Schema, shipped as package data."""
    text = resources.files("gnet.engines").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def validate(doc: Any) -> list[str]:
    """Every way ``doc`` breaks the schema (empty when it is a valid manifest)."""
    return schema_errors(doc, schema(), "manifest")


# ----------------------------------------------------------------------------------------------
# writing and reading
# ----------------------------------------------------------------------------------------------
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
        raise GnetError(f"the engine manifest {file} does not exist; a plan is only loaded with the manifest gnet build writes beside it")
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GnetError(f"the engine manifest {file} is not valid JSON ({exc})") from None
    if isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("format_version") != FORMAT_VERSION:
        raise GnetError(f"the engine manifest {file} has format version {doc.get('format_version')!r}, "
                        f"but this gnet reads version {FORMAT_VERSION}; rebuild the engine with this gnet")
    problems = validate(doc)
    if problems:
        raise GnetError(f"the engine manifest {file} is not a gnet engine manifest ({problems[0]})")
    return doc


# ----------------------------------------------------------------------------------------------
# does this plan belong on this machine?
# ----------------------------------------------------------------------------------------------
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
        raise GnetError(f"{plan.name} does not match this machine: {'; and '.join(problems)}; "
                        f"rebuild it here with: gnet build {source}")
