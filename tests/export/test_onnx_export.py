"""End-to-end export: real torch.onnx export, real ONNX checker, real ONNX Runtime runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torchvision.models import googlenet

from gnet.checks.ort import cpu_session, run_batched
from gnet.checks.parity import ParityError
from gnet.errors import GnetError
from gnet.export import metadata
from gnet.export.api import export_model
from tests.helpers.models import SMALL


def test_aux_checkpoint_matches_torchvision_at_batch_1_3_8(exported_aux: Path, aux_checkpoint: Path, photos_224):
    """The issue's acceptance test: ORT output equals torchvision's googlenet(aux_logits=False) with the same weights."""
    reference = googlenet(weights=None, aux_logits=False, init_weights=False)
    state = torch.load(aux_checkpoint, weights_only=True)["state_dict"]
    reference.load_state_dict({k: v for k, v in state.items() if not k.startswith(("aux1.", "aux2."))})
    reference.eval()
    with torch.no_grad():
        expected = reference(torch.from_numpy(photos_224.data)).numpy()
    # the comparison means something only if the logits depend on the image
    assert expected.std(axis=0).mean() > 0.1
    session = cpu_session(exported_aux)
    for batch in (1, 3, 8):
        got = run_batched(session, photos_224.data, batch)
        rel = np.abs(got - expected).max() / np.abs(expected).max()
        assert rel < 1e-4, (batch, rel)
        assert np.array_equal(got.argmax(1), expected.argmax(1))


def test_graph_contract(exported_aux: Path):
    model = onnx.load(str(exported_aux))
    onnx.checker.check_model(model, full_check=True)
    ops = [n.op_type for n in model.graph.node]
    assert [o.name for o in model.graph.output] == ["logits"]
    assert [i.name for i in model.graph.input] == ["input"]
    in_dims = model.graph.input[0].type.tensor_type.shape.dim
    assert in_dims[0].dim_param == "batch" and [d.dim_value for d in in_dims[1:]] == [3, 224, 224]
    out_dims = model.graph.output[0].type.tensor_type.shape.dim
    assert out_dims[0].dim_param == "batch" and out_dims[1].dim_value == 1000
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert "BatchNormalization" not in ops
    assert not any("aux" in n.name for n in model.graph.node)
    assert ops.count("Conv") == 57 and ops.count("Gemm") == 1
    assert {o.domain: o.version for o in model.opset_import}[""] == 17


def test_metadata_records_provenance(exported_aux: Path, aux_checkpoint: Path):
    from gnet.export.hashing import sha256_file

    meta = metadata.read(onnx.load(str(exported_aux)))
    assert meta["weights_sha256"] == sha256_file(aux_checkpoint)
    assert meta["weights_spec"] == str(aux_checkpoint.resolve())
    assert meta["opset"] == 17 and meta["precision"] == "fp32" and meta["image_size"] == 224
    assert meta["preprocessing"]["mean"] == [0.485, 0.456, 0.406] and meta["preprocessing"]["layout"] == "NCHW"
    assert meta["torch_version"] == torch.__version__ and "torchvision_version" in meta


def test_transform_input_is_folded_not_exported(tmp_path: Path, photos_small):
    out = tmp_path / "ti.onnx"
    result = export_model(weights="random", seed=4, transform_input=True, image_size=SMALL, output=out)
    ops = [n.op_type for n in onnx.load(str(out)).graph.node]
    assert "Gather" not in ops and "Mul" not in ops and "Unsqueeze" not in ops
    assert ops.count("Add") == 1  # the bias map of conv1 (see gnet.export.folding)
    assert result.metadata["transform_input_folded"] is True
    assert result.parity.passed


def test_failed_parity_leaves_the_previous_artifact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    out = tmp_path / "model.onnx"
    export_model(weights="random", seed=1, image_size=SMALL, output=out)
    before = out.read_bytes()
    from gnet.checks import tolerances

    impossible = tolerances.Tolerance("fp32", rel_max=-1.0, cosine_min=2.0, top1_agreement=1.0)
    monkeypatch.setitem(tolerances.TOLERANCES, "fp32", impossible)
    with pytest.raises(ParityError, match="nothing was written"):
        export_model(weights="random", seed=2, image_size=SMALL, output=out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_unwritable_output_is_one_sentence(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(GnetError, match="cannot create the output folder"):
        export_model(weights="random", image_size=SMALL, output=blocker / "sub" / "m.onnx")


def test_dynamo_exporter_needs_opset_18(tmp_path: Path):
    with pytest.raises(GnetError, match="opset 18"):
        export_model(weights="random", image_size=SMALL, output=tmp_path / "d.onnx", exporter="dynamo", opset=17)
