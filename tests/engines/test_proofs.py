"""Which precision proofs ran, their joint verdict, and the manifest section recording them."""

from __future__ import annotations

from gnet.engines.network_proof import ConvFacts, NetworkProof
from gnet.engines.precision_proof import EngineLayers, LayerPrecision, judge
from gnet.engines.proofs import RTX_NO_INSPECTOR, Proofs


def _network(precision: str = "FP16") -> NetworkProof:
    dtype = {"FP16": "HALF", "FP32": "FLOAT"}[precision]
    conv = ConvFacts("/conv1/Conv", 8, dtype, "CAST", dtype, "weights")
    proof = NetworkProof("fp16", "FP16", 11, [conv], {"CONVOLUTION": 1})
    proof.offenders = [(c.name, "; ".join(c.problems("FP16"))) for c in proof.convolutions if c.problems("FP16")]
    return proof


def _inspector(precision: str) -> object:
    layer = LayerPrecision("/conv1/Conv", "Convolution", precision, precision, True)
    return judge(EngineLayers("11.x", [layer], [], True), "fp16")


def test_a_network_proof_alone_is_recorded_with_why_no_inspector():
    proofs = Proofs(_network(), inspector_skipped=RTX_NO_INSPECTOR)
    assert proofs.proven and proofs.methods == ["network"]
    doc = proofs.to_dict()
    assert doc["inspector"] is None and doc["inspector_skipped"] == RTX_NO_INSPECTOR and doc["network"]["convolutions"] == 1
    assert proofs.lines() == ["precision fp16: network proof: 1 convolutions (1 FP16) of 11 layers, HALF activations and "
                              "weights; proven"]


def test_both_proofs_must_hold():
    caught = Proofs(_network(), _inspector("FP32"))  # the graph asks FP16, a tactic fell back to FP32
    assert not caught.proven and caught.methods == ["network", "inspector"]
    assert "1 of 1 convolutions run otherwise (1 in FP32: '/conv1/Conv')" in caught.shortfall("x.plan")
    assert caught.failure("x.plan").remedy == "nothing was written; pass --allow-mixed to keep such an engine"
    assert caught.lines()[1].endswith("NOT proven (kept: --allow-mixed)")
    assert caught.to_dict()["inspector"]["offending_layers"] == ["/conv1/Conv"]
    wrong_graph = Proofs(_network("FP32"), _inspector("FP16"))
    assert not wrong_graph.proven and "are not FP16 in the parsed network" in wrong_graph.shortfall("x.plan")
    assert Proofs(_network(), _inspector("FP16")).proven
