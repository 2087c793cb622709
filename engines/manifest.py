"""The JSON manifest beside each plan: what it was built from, for which TensorRT and GPU, and how.

The format is documented by ``manifest.schema.json`` (JSON Schema draft 2020-12),
which C++ and edge readers can rely on. gnet checks every manifest it writes or
reads against that schema with the small validator below (the subset of keywords
the schema uses), so no extra dependency is needed at run time.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from gnet.atomic import write_text_atomic
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


# ----------------------------------------------------------------------------------------------
# a small JSON Schema validator: exactly the keywords manifest.schema.json uses
# ----------------------------------------------------------------------------------------------
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_SUPPORTED = {"$schema", "$id", "$defs", "$ref", "title", "description", "type", "required", "properties",
              "additionalProperties", "items", "enum", "const", "pattern", "minimum", "maximum", "minLength",
              "minItems", "maxItems", "oneOf", "anyOf"}


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref is supported, not {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _errors(value: Any, rule: dict[str, Any], root: dict[str, Any], where: str) -> list[str]:
    unknown = set(rule) - _SUPPORTED
    if unknown:
        raise ValueError(f"schema keyword(s) {sorted(unknown)} at {where} are not supported by gnet's validator")
    if "$ref" in rule:
        return _errors(value, _resolve(root, rule["$ref"]), root, where)
    out: list[str] = []
    if "type" in rule:
        types = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{where} must be {' or '.join(types)}, not {type(value).__name__}"]
    if "const" in rule and (value != rule["const"] or type(value) is not type(rule["const"])):
        out.append(f"{where} must be {json.dumps(rule['const'])}")
    if "enum" in rule and value not in rule["enum"]:
        out.append(f"{where} must be one of {', '.join(json.dumps(e) for e in rule['enum'])}")
    if isinstance(value, str):
        if "pattern" in rule and not re.search(rule["pattern"], value):
            out.append(f"{where} ({value[:40]!r}) does not match {rule['pattern']}")
        if len(value) < rule.get("minLength", 0):
            out.append(f"{where} is too short")
    if _TYPES["number"](value):
        if "minimum" in rule and value < rule["minimum"]:
            out.append(f"{where} must be at least {rule['minimum']}")
        if "maximum" in rule and value > rule["maximum"]:
            out.append(f"{where} must be at most {rule['maximum']}")
    if isinstance(value, list):
        if len(value) < rule.get("minItems", 0):
            out.append(f"{where} needs at least {rule['minItems']} item(s)")
        if "maxItems" in rule and len(value) > rule["maxItems"]:
            out.append(f"{where} allows at most {rule['maxItems']} item(s)")
        if "items" in rule:
            for i, item in enumerate(value):
                out += _errors(item, rule["items"], root, f"{where}[{i}]")
    if isinstance(value, dict):
        for key in rule.get("required", []):
            if key not in value:
                out.append(f"{where} lacks the required key {key!r}")
        props = rule.get("properties", {})
        extra = rule.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                out += _errors(item, props[key], root, f"{where}.{key}")
            elif extra is False:
                out.append(f"{where} has the unknown key {key!r}")
            elif isinstance(extra, dict):
                out += _errors(item, extra, root, f"{where}.{key}")
    for combinator in ("oneOf", "anyOf"):
        if combinator in rule:
            matches = sum(not _errors(value, sub, root, where) for sub in rule[combinator])
            if matches == 0 or (combinator == "oneOf" and matches > 1):
                out.append(f"{where} matches {matches} of the allowed forms")
    return out


def validate(doc: Any) -> list[str]:
    """Every way ``doc`` breaks the schema (empty when it is a valid manifest)."""
    root = schema()
    return _errors(doc, root, root, "manifest")


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
