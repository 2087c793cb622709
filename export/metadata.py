"""``metadata_props`` that travel inside every ONNX gnet writes, so any later stage can read them back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import onnx

from gnet.defaults import INPUT_TYPES, MAX_IMAGE_SIZE, PRECISIONS
from gnet.errors import GnetError, UsageError

PREFIX = "gnet."


GRAPH_DIGEST = "graph_sha256"
"""The key recording the SHA-256 of the graph (nodes and weights) a file was written with: a file reused later (an
export beside its FP32 source, the bench's artifacts) is reused only while its graph still hashes to it."""


def graph_digest(model: onnx.ModelProto) -> str:
    """Hex SHA-256 of the graph's deterministic serialization (everything but the metadata)."""
    return hashlib.sha256(model.graph.SerializeToString(deterministic=True)).hexdigest()


def stamp(model: onnx.ModelProto, values: dict[str, Any]) -> dict[str, Any]:
    """Set ``gnet.<key>`` entries (JSON-encoded unless already a string), replacing old ones, and the graph's digest
    (:data:`GRAPH_DIGEST`) as the graph is now; returns ``values`` with that digest."""
    values = {**values, GRAPH_DIGEST: graph_digest(model)}
    encoded = {PREFIX + k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    kept = [p for p in model.metadata_props if p.key not in encoded]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in encoded.items():
        model.metadata_props.add(key=key, value=value)
    return values


def read(model: onnx.ModelProto) -> dict[str, Any]:
    """All ``gnet.*`` entries, JSON-decoded where they are JSON."""
    return decode({prop.key[len(PREFIX):]: prop.value for prop in model.metadata_props if prop.key.startswith(PREFIX)})


def decode(values: dict[str, str]) -> dict[str, Any]:
    """Stamped string values JSON-decoded where they are JSON (an OpenVINO IR carries the same strings)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_CHECKS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "image_size": (f"an integer up to {MAX_IMAGE_SIZE}", lambda v: _is_int(v) and 1 <= v <= MAX_IMAGE_SIZE),
    "num_classes": ("a positive integer", lambda v: _is_int(v) and v >= 1),
    "opset": ("a positive integer", lambda v: _is_int(v) and v >= 1),
    "precision": (f"one of {', '.join(PRECISIONS)}", lambda v: v in PRECISIONS),
    "weights_spec": ("a string", lambda v: isinstance(v, str) and bool(v)),
    "weights_sha256": ("a SHA-256 in hex", lambda v: isinstance(v, str) and len(v) == 64),
    "transform_input_folded": ("true or false", lambda v: isinstance(v, bool)),
    "input_type": (f"one of {', '.join(INPUT_TYPES)}", lambda v: v in INPUT_TYPES),
    "class_names": ("a list of strings", lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v)),
}


def read_checked(model: onnx.ModelProto, where: str) -> dict[str, Any]:
    """:func:`read`, refusing (naming the key) a ``gnet.*`` entry of the wrong type or out of range.

    The metadata of a file is user input: an edited or foreign ``gnet.image_size = "abc"`` must be one
    sentence, not a traceback where it is first used.
    """
    return checked(read(model), where)


def checked(meta: dict[str, Any], where: str) -> dict[str, Any]:
    """``meta`` (an ONNX's or an OpenVINO IR's gnet metadata, decoded), refusing an entry of the wrong type or range."""
    for key, (wanted, ok) in _CHECKS.items():
        if key in meta and not ok(meta[key]):
            raise GnetError(f"{where} has unusable gnet metadata", f"gnet.{key} is {meta[key]!r}, not {wanted}",
                            "re-export it with gnet export")
    return meta


# A foreign ONNX: one without gnet's metadata (another exporter's, or a gnet export whose metadata_props were
# stripped). Every command decides about one here, so the rule and its sentence exist once (issues 18 and 19).

REQUIRED = ("precision", "image_size", "num_classes")
"""The facts gnet's commands take from an ONNX's metadata; a file missing any of them is foreign."""
FOREIGN_WEIGHTS = "unknown (foreign ONNX)"
"""What a manifest records as the weights of a foreign ONNX (never null: readers would take null for gnet's)."""
_OPTION = {"image_size": "--image-size N", "num_classes": "--classes C", "weights": "--weights W (its weights)"}


@dataclass(frozen=True)
class ForeignRule:
    """How one command treats a foreign ONNX: the facts it needs from the user (none: it refuses every one)."""

    needs: tuple[str, ...] = ()
    from_graph: tuple[str, ...] = ()  # of ``needs``, those the graph's static dims may give instead
    verb: str = ""  # "build it": what passing ``needs`` lets the user do
    refusal: str = ""  # why no option can stand in for the metadata


_RULES = {
    "build": ForeignRule(("image_size", "num_classes"), verb="build it"),
    "check": ForeignRule(("weights", "image_size"), ("image_size",), verb="check it against PyTorch"),
    **{command: ForeignRule(refusal=f"gnet {command} needs gnet's contract (class names, preprocessing), which no "
                                    "option can stand in for")
       for command in ("serve", "triton-repo", "bench", "openvino")},
    "artifact": ForeignRule(refusal="gnet.Artifact holds gnet's own exports (class names, preprocessing)"),
}


def require_gnet_metadata(model: onnx.ModelProto, where: str, command: str,
                          supplied: dict[str, Any] | None = None) -> dict[str, Any]:
    """The gnet metadata of ``model`` (read by ``command``: a key of ``_RULES``), checked as :func:`read_checked`.

    A foreign ONNX is refused in one sentence naming what is missing and how to proceed, unless ``command``
    accepts facts and ``supplied`` (or, where allowed, the graph) gives them all: then the returned metadata holds
    those facts, the precision read from the graph and the opset from its ``opset_import``, each checked against
    the graph. ``supplied`` facts for a gnet ONNX must agree with its metadata.
    """
    meta = read_checked(model, where)
    given = {k: v for k, v in (supplied or {}).items() if v is not None}
    missing = [k for k in REQUIRED if k not in meta]
    if not missing:
        for key, value in given.items():  # an option that contradicts the file is refused, never silently dropped
            if key in REQUIRED and meta[key] != value:  # --weights may differ: the check compares hashes
                raise UsageError(f"{_OPTION[key].split()[0]} {value} contradicts {where}",
                                 f"its gnet.{key} is {meta[key]!r}", f"leave {_OPTION[key].split()[0]} out")
        return meta
    rule = _RULES[command]
    graph = {"image_size": static_image_size(model)} if "image_size" in rule.from_graph else {}
    facts = {**{k: v for k, v in graph.items() if v is not None}, **given}
    lacking = [k for k in rule.needs if k not in facts]
    if not rule.needs or lacking:
        names = [f"gnet.{k}" for k in missing]
        raise UsageError(f"{where} lacks gnet's metadata",
                         f"it has no {' and '.join(filter(None, [', '.join(names[:-1]), names[-1]]))}, so another "
                         "exporter wrote it or its metadata_props were stripped",
                         rule.refusal + "; re-export it with gnet export" if rule.refusal else
                         f"re-export it with gnet export, or pass {' and '.join(_OPTION[k] for k in lacking)} to "
                         f"{rule.verb} as a foreign ONNX")
    match_graph(model, where, facts.get("image_size"), facts.get("num_classes"))
    out = {**meta, **graph_precision(model, where), "opset": opset_of(model), "weights": FOREIGN_WEIGHTS, "foreign": True}
    out.update((k, v) for k, v in facts.items() if k != "weights")  # --weights is the reference, not the record
    return out


def _io(model: onnx.ModelProto) -> tuple[list[onnx.ValueInfoProto], list[onnx.ValueInfoProto]]:
    initializers = {t.name for t in model.graph.initializer}  # old exporters list weights as graph inputs too
    return [i for i in model.graph.input if i.name not in initializers], list(model.graph.output)


def _dims(value: onnx.ValueInfoProto) -> list[int | None]:
    return [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim]


def static_image_size(model: onnx.ModelProto) -> int | None:
    """The side of a single square NCHW input whose height and width are static, else None."""
    inputs, _ = _io(model)
    dims = _dims(inputs[0]) if len(inputs) == 1 else []
    return dims[2] if len(dims) == 4 and dims[2] is not None and dims[2] == dims[3] else None


def _shape(dims: list[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"


def match_graph(model: onnx.ModelProto, where: str, image_size: int | None, num_classes: int | None) -> None:
    """Refuse, in one sentence, facts a foreign ONNX's graph contradicts: one input [batch, 3, S, S], one output
    [batch, C]. A fact that is None is not checked (``gnet check`` learns the classes from the weights later)."""
    inputs, outputs = _io(model)
    if len(inputs) != 1 or len(outputs) != 1:
        raise UsageError(f"{where} has {len(inputs)} inputs and {len(outputs)} outputs",
                         "gnet runs image classifiers with one image input and one logits output")
    given, wanted = _dims(inputs[0]), [3, image_size, image_size]
    if image_size is not None and (len(given) != 4 or given[1:] != wanted):
        raise UsageError(f"the image size {image_size} does not match {where}",
                         f"its input {inputs[0].name!r} is {_shape(given)}, not [batch, 3, {image_size}, {image_size}]",
                         "pass the height and width the graph takes")
    given = _dims(outputs[0])
    if num_classes is not None and (len(given) != 2 or given[1] != num_classes):
        raise UsageError(f"{num_classes} classes do not match {where}",
                         f"its output {outputs[0].name!r} is {_shape(given)}, not [batch, {num_classes}]",
                         "pass the number of classes the graph gives")


def opset_of(model: onnx.ModelProto) -> int | None:
    """The default ONNX domain's opset the model imports (what ``gnet.opset`` records for gnet's own exports)."""
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def graph_precision(model: onnx.ModelProto, where: str) -> dict[str, str]:
    """``{"precision": …}`` as the graph encodes it, as gnet's own files do (``docs/design.md``: precision lives in the graph):
    FP16 tensors → fp16, QuantizeLinear nodes → int8 (``int8_target`` cpu when they quantize to uint8, ONNX's
    default without a zero point), else fp32; both kinds at once is refused rather than guessed."""
    fp16 = onnx.TensorProto.FLOAT16
    initializers = {t.name: t.data_type for t in model.graph.initializer}
    typed = [v.type.tensor_type.elem_type for v in (*model.graph.input, *model.graph.output, *model.graph.value_info)]
    casts = [a.i for n in model.graph.node if n.op_type == "Cast" for a in n.attribute if a.name == "to"]
    has_fp16 = fp16 in initializers.values() or fp16 in typed or fp16 in casts
    quantize = [n for n in model.graph.node if n.op_type == "QuantizeLinear"]
    if has_fp16 and quantize:
        raise UsageError(f"cannot tell the precision of {where}",
                         "its graph holds both FP16 tensors and QuantizeLinear nodes",
                         "export it with gnet export --precision fp16 or int8")
    if not quantize:
        return {"precision": "fp16" if has_fp16 else "fp32"}
    unsigned = any(len(n.input) < 3 or not n.input[2] or initializers.get(n.input[2]) == onnx.TensorProto.UINT8
                   for n in quantize)
    return {"precision": "int8", **({"int8_target": "cpu"} if unsigned else {})}
