"""The network-level precision proof on networks the real TensorRT-RTX parser builds (no double, no GPU).

GoogLeNet: the trained fixture's FP32, FP16 and INT8 exports (64 px, session fixtures). The Q/DQ rules:
for each rule of ``precision/qdq_rules.py`` a tiny graph that breaks it, and what gnet's checker, the real
parser, the proof and the real builder (through ``gnet.engines.build``) do with it; the table in docs/engines.md
must say the same (``test_the_readme_table_says_what_tensorrt_rtx_did``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from gnet.engines.build import build_engine
from gnet.engines.build_inputs import BuildOptions
from gnet.engines.network_proof import prove_network
from gnet.errors import GnetError
from gnet.precision.qdq_rules import check_trt_qdq
from tests.helpers.paths import REPO_ROOT
from tests.helpers.qdq_graphs import qdq_graph
from tests.helpers.rtx import parse, real_rtx

HOW = {"fp32": "FLOAT activations and weights", "fp16": "HALF activations and weights",
       "int8": "each fed by Dequantize of INT8: per-tensor activation, per-channel weight scales"}


@pytest.fixture(scope="module")
def googlenet(fp32_onnx: Path, fp16, int8_trt) -> dict[str, Path]:
    return {"fp32": fp32_onnx, "fp16": fp16.path, "int8": int8_trt.path}


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_googlenet_exports_are_proven_at_their_precision(googlenet, tmp_path: Path, precision: str):
    parsed = parse(googlenet[precision], tmp_path)
    proof = prove_network(real_rtx(), parsed.network, precision)
    expected = {"fp32": "FP32", "fp16": "FP16", "int8": "INT8"}[precision]
    assert proof.proven and proof.convolution_precisions == {expected: 57}
    assert proof.summary() == f"57 convolutions (57 {expected}) of {proof.layers} layers, {HOW[precision]}"
    assert proof.to_dict()["convolutions"] == 57 and proof.to_dict()["offending_layers"] == []
    if precision == "int8":  # every convolution: DQ(INT8, one scale) activation, DQ(INT8, K scales on axis 0) weight
        assert proof.layer_types["DEQUANTIZE"] > 57 * 2 - 1 and proof.layer_types["QUANTIZE"] > 57 - 1
        conv = proof.convolutions[0]
        assert conv.input_dq.per_tensor and conv.weight_dq.scale_shape == (conv.output_maps,) and conv.weight_dq.axis == 0


@pytest.mark.parametrize("asked, why", [
    ("fp16", "activation FLOAT from network input, weight FLOAT from weights"),
    ("int8", "activation is FLOAT from network input, not dequantized INT8; weight is FLOAT from weights"),
])
def test_an_fp32_graph_is_not_proven_at_another_precision(googlenet, tmp_path: Path, asked: str, why: str):
    proof = prove_network(real_rtx(), parse(googlenet["fp32"], tmp_path).network, asked)
    assert not proof.proven and len(proof.offenders) == 57
    assert proof.offenders[0][0] == "/conv1/conv/Conv" and proof.offenders[0][1].startswith(why)
    assert "57 of 57 convolutions are not" in proof.shortfall("googlenet_fp32.rtx.plan")
    assert not prove_network(real_rtx(), parse(googlenet["fp32"], tmp_path).network, asked, allow_mixed=True).proven


# (README row, rule-breaking keywords, gnet's checker flags it, parser: "accepts" or (code, node, words), proof holds)
RULES = [
    ("none (gnet's TensorRT format)", {}, False, "accepts", True),
    ("R1 activation zero point 3", {"act_zp": 3}, True,
     ("INVALID_NODE", "in_QuantizeLinear", "Non-zero zero point is not supported"), None),
    ("R1 uint8 activations, zero point 128 (CPU style)", {"act_zp_dtype": np.uint8, "act_zp": 128}, True,
     ("INVALID_NODE", "in_QuantizeLinear", "Non-zero zero point is not supported"), None),
    ("R1 uint8 activations, zero point 0", {"act_zp_dtype": np.uint8}, True, "accepts", True),
    ("R1 no zero point (ONNX's default: uint8)", {"no_act_zp": True}, True, "accepts", True),
    ("R1 INT32 bias DequantizeLinear", {"bias_dq": True}, True,
     ("INVALID_NODE", "conv1_b_DequantizeLinear", "input has type Int32 but must have type FP8, FP4, Int4, Int8, or UInt8"),
     None),
    ("R2 weight not quantized", {"w_quantized": False}, True, "accepts", False),
    ("R2 activation not quantized", {"act_quantized": False}, True, "accepts", False),
    ("R2 weight scale per tensor", {"w_per_channel": False}, True, "accepts", False),
    ("R5 activation scale per channel", {"act_scale": (0.02, 0.03, 0.04)}, True, "accepts", False),
    ("R3 convolution output quantized", {"quantize_output": True}, True, "accepts", True),
    ("R4 Concat inputs with two scales", {"concat_scales": (0.05, 0.07)}, True, "accepts", True),
]


@pytest.mark.parametrize("row, breaks, flagged, parser, proven", RULES, ids=[r[0] for r in RULES])
def test_what_tensorrt_rtx_does_with_a_graph_that_breaks_each_qdq_rule(tmp_path: Path, row, breaks, flagged, parser,
                                                                       proven):
    model = qdq_graph(**breaks)
    assert bool(check_trt_qdq(model)) is flagged
    path = tmp_path / "tiny_int8.onnx"
    onnx.save(model, path)
    options = BuildOptions(runtime="tensorrt-rtx", min_batch=1, opt_batch=2, max_batch=4, allow_mixed=True,
                           compute_capabilities="sm86,sm89")
    if parser != "accepts":
        code, node, words = parser
        with pytest.raises(GnetError) as err:
            build_engine(path, tmp_path / "tiny.rtx.plan", options)
        text = str(err.value)
        assert f"node {node!r}" in text and f"({code}:" in text and words in text and "\n" not in text
        assert not (tmp_path / "tiny.rtx.plan").exists()
        return
    built = build_engine(path, tmp_path / "tiny.rtx.plan", options)  # --allow-mixed: what does the builder do?
    assert built.plan.stat().st_size > 0 and built.precision.network.proven is proven
    if breaks.get("act_zp_dtype") is np.uint8 or breaks.get("no_act_zp"):  # the u8 Q is silently re-typed to int8
        network = parse(model, tmp_path).network
        quantize = next(network.get_layer(i) for i in range(network.num_layers)
                        if network.get_layer(i).name == "in_QuantizeLinear")
        assert str(quantize.get_output(0).dtype).endswith("INT8")


def _readme_rows() -> dict[str, list[str]]:
    rows = {}
    for line in (REPO_ROOT / "docs" / "engines.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 6:
            rows[cells[0]] = cells
    return rows


def test_the_readme_table_says_what_tensorrt_rtx_did():
    rows = _readme_rows()
    for row, _breaks, flagged, parser, proven in RULES:
        cells = rows[row]
        assert cells[1].startswith("flags" if flagged else "clean"), row
        if parser == "accepts":
            assert cells[2].startswith("accepts"), row
            assert cells[3].startswith("proven" if proven else "refuses"), row
            assert cells[4].startswith("plan"), row
        else:
            code, node, _ = parser
            assert cells[2].startswith("rejects") and code in cells[2] and node in cells[2], row
            assert cells[3] == cells[4] == "–", row
        assert cells[5] in ("TensorRT", "gnet's checker only", "gnet's checker and the network proof", "–"), row
