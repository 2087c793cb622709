"""Parsing with the real TensorRT-RTX parser: what it refuses, and gnet's one sentence naming the node.

The sentence is built from ``ParserError``'s code, node name and operator; TensorRT's description is
only quoted, on one line (it can be ``"false"``, or span lines).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from gnet.errors import GnetError
from tests.helpers.qdq_graphs import qdq_graph
from tests.helpers.rtx import parse


def _with_node(op: str, domain: str = "") -> onnx.ModelProto:
    """A small valid graph whose Relu is replaced by ``op`` (named ``my_node``)."""
    model = qdq_graph(act_quantized=False, w_quantized=False)
    relu = next(n for n in model.graph.node if n.op_type == "Relu")
    relu.op_type, relu.domain, relu.name = op, domain, "my_node"
    if domain:
        model.opset_import.append(helper.make_opsetid(domain, 1))
    return model


@pytest.mark.parametrize("model, needles", [
    (lambda: _with_node("FancyOp", "com.example"),
     ["node 'my_node' (FancyOp) is invalid for TensorRT-RTX (INVALID_NODE: ", "Plugin not found"]),
    (lambda: _with_node("Det"), ["node 'my_node' (Det) uses an operator TensorRT-RTX does not support (UNSUPPORTED_NODE)"]),
])
def test_an_unsupported_op_is_one_sentence_naming_its_node(tmp_path: Path, model, needles: list[str]):
    with pytest.raises(GnetError) as err:
        parse(model(), tmp_path)
    text = str(err.value)
    assert text.startswith(f"TensorRT-RTX cannot parse {tmp_path / 'model.onnx'}: ") and "\n" not in text
    for needle in needles:
        assert needle in text
    assert "(UNSUPPORTED_NODE: false)" not in text  # TensorRT's desc() is "false" there: not quoted


def test_a_corrupt_onnx_is_the_parsers_deserialize_error(tmp_path: Path):
    path = tmp_path / "model.onnx"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(GnetError, match=r"cannot parse .*model.onnx: the file is not a readable ONNX model "
                                        r"\(MODEL_DESERIALIZE_FAILED: .*Failed to parse the ONNX model\)"):
        parse(path, tmp_path)


def test_a_node_reading_an_undefined_tensor(tmp_path: Path):
    model = qdq_graph(act_quantized=False, w_quantized=False)
    relu = next(n for n in model.graph.node if n.op_type == "Relu")
    relu.input[0] = "nowhere"
    with pytest.raises(GnetError, match=r"node '/conv1/Relu' \(Relu\) makes the graph invalid \(INVALID_GRAPH: .*"
                                        r"Node input was not registered"):
        parse(model, tmp_path)


def test_the_cpu_format_int8_graph_is_refused_by_the_real_parser(int8_cpu, tmp_path: Path):
    """Evidence for gnet's own refusal (build_inputs.refuse_cpu_format), which comes first in ``gnet build``:
    the parser stops at the first INT32 bias DequantizeLinear of the CPU-format graph."""
    with pytest.raises(GnetError) as err:
        parse(int8_cpu.path, tmp_path)
    text = str(err.value)
    assert "(DequantizeLinear) is invalid for TensorRT-RTX (INVALID_NODE:" in text
    assert "bias_DequantizeLinear" in text and "input has type Int32 but must have type" in text


def test_an_empty_model_parses_to_an_empty_network(tmp_path: Path):
    """A pitfall: TensorRT-RTX accepts an empty ONNX without an error, so gnet loads and checks it with onnx first."""
    empty = helper.make_model(helper.make_graph([], "empty", [], []))
    parsed = parse(empty, tmp_path)
    assert parsed.network.num_layers == 0 and parsed.network.num_inputs == 0


def test_a_float16_input_graph_parses_with_half_io(tmp_path: Path):
    model = qdq_graph(act_quantized=False, w_quantized=False)
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT16
    cast = helper.make_node("Cast", ["input16"], ["input"], to=TensorProto.FLOAT, name="in_cast")
    model.graph.node.insert(0, cast)
    model.graph.input[0].name = "input16"
    network = parse(model, tmp_path).network
    assert str(network.get_input(0).dtype).endswith("HALF")
