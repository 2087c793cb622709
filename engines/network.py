"""Parse a gnet ONNX into a strongly typed TensorRT network, and turn a parser failure into one sentence.

The sentence is built from ``ParserError``'s fields (its code, the node's name and operator), never
from its text: TensorRT's description can be ``"false"`` (an unsupported standard op) or span lines
(an INT32 bias DequantizeLinear), so it is quoted only as detail, on one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnet.engines.editions import Edition
from gnet.engines.trt_import import strongly_typed_flags
from gnet.errors import GnetError

# ErrorCode member → what it means, for the sentence (the enum decides, never the message text).
_MEANINGS = {
    "MODEL_DESERIALIZE_FAILED": "the file is not a readable ONNX model",
    "UNSUPPORTED_NODE": "uses an operator {label} does not support",
    "UNSUPPORTED_NODE_ATTR": "has an attribute {label} does not support",
    "UNSUPPORTED_NODE_INPUT": "has an input {label} does not support",
    "UNSUPPORTED_NODE_DATATYPE": "has a data type {label} does not support",
    "UNSUPPORTED_NODE_DYNAMIC": "has a dynamic shape {label} does not support",
    "UNSUPPORTED_NODE_SHAPE": "has a shape {label} does not support",
    "UNSUPPORTED_GRAPH": "the graph is one {label} does not support",
    "INVALID_NODE": "is invalid for {label}",
    "INVALID_GRAPH": "makes the graph invalid",
    "INVALID_VALUE": "has a value {label} rejects",
}
DETAIL_LIMIT = 240


@dataclass
class ParsedNetwork:
    """The builder, the strongly typed network and its parser (which owns the weights: keep it alive)."""

    builder: Any
    network: Any
    parser: Any


def _field(error: Any, name: str) -> str:
    try:
        return str(getattr(error, name)()).strip()
    except Exception:  # noqa: BLE001 - a binding without this accessor still has the others
        return ""


def parse_error(spec: Edition, onnx: Path, errors: list[Any]) -> GnetError:
    """One typed error from the parser's first error: the node's name and operator when it has them."""
    what = f"{spec.label} cannot parse {onnx}"
    if not errors:
        return GnetError(what, "its parser reported no error")
    first = errors[0]
    code = _field(first, "code").rsplit(".", 1)[-1]
    node, op = _field(first, "node_name"), _field(first, "node_operator")
    meaning = _MEANINGS.get(code, "failed").format(label=spec.label)
    if node:
        where = f"node {node!r}" + (f" ({op})" if op else "") + f" {meaning}"
    elif op:
        where = f"a {op} node {meaning}"
    else:
        where = meaning if code == "MODEL_DESERIALIZE_FAILED" else f"the graph {meaning}"
    detail = " ".join(_field(first, "desc").split())[:DETAIL_LIMIT]
    code_text = code or "error"
    why = f"{where} ({code_text}" + ("" if detail in ("", "false") else f": {detail.rstrip('.')}") + ")"
    if len(errors) > 1:
        why += f", and {len(errors) - 1} more error(s)"
    return GnetError(what, why, "gnet export writes graphs TensorRT parses: export the model again with it")


def parse_network(trt: Any, spec: Edition, logger: Any, onnx: Path) -> ParsedNetwork:
    """``onnx`` parsed into a strongly typed network, or a GnetError naming the first failing node."""
    builder = trt.Builder(logger)
    network = builder.create_network(strongly_typed_flags(trt))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx)):
        raise parse_error(spec, onnx, [parser.get_error(i) for i in range(parser.num_errors)])
    return ParsedNetwork(builder, network, parser)
