"""Hostile weights: NaN/Inf tensors (also ones that appear only when BatchNorm is folded), malformed checkpoint
fields, a raw pickle. Each is one sentence and exit 1, and no file or folder is written."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gnet.export.weights import build_googlenet, live_init
from tests.helpers.cli import assert_one_sentence_failure, invoke
from tests.helpers.models import SMALL


def _checkpoint(tmp_path: Path, name: str = "w.pt", **fields) -> tuple[Path, dict]:
    torch.manual_seed(0)
    model = live_init(build_googlenet(num_classes=10))
    state = model.state_dict()
    path = tmp_path / name
    return path, {"state_dict": state, **fields}


def _export(tmp_path: Path, weights: Path):
    out = tmp_path / "out" / "m.onnx"
    result = invoke("export", "--weights", str(weights), "--image-size", str(SMALL), "-o", str(out))
    return result, out


def test_nan_in_fc_weight_is_refused_naming_the_tensor(tmp_path: Path):
    path, record = _checkpoint(tmp_path)
    record["state_dict"]["fc.weight"][3, 7] = float("nan")
    torch.save(record, path)
    result, out = _export(tmp_path, path)
    assert_one_sentence_failure(result, "non-finite weights", "tensor fc.weight has 1 NaN or infinite value(s)")
    assert not out.exists() and not out.parent.exists()


def test_inf_that_appears_only_after_batchnorm_folding_is_refused(tmp_path: Path):
    path, record = _checkpoint(tmp_path)
    record["state_dict"]["inception3a.branch1.bn.running_var"][0] = -1.0  # finite, but sqrt(-1 + eps) is NaN
    torch.save(record, path)
    result, out = _export(tmp_path, path)
    assert_one_sentence_failure(result, "non-finite weights after folding BatchNorm into the convolutions",
                                "inception3a.branch1.conv")
    assert not out.exists()


@pytest.mark.parametrize("fields, needle", [
    ({"image_size": "sixty-four"}, "'sixty-four' is not an integer"),
    ({"image_size": 8}, "8 px is outside 32–1024 px"),
    ({"image_size": True}, "True is not an integer"),
    ({"class_names": 7}, "they must be a list of strings"),
    ({"class_names": ["a", "b"]}, "records 2 class_names"),
    ({"dataset": 5}, "5 is not a string"),
    ({"transform_input": "yes"}, "'yes' is not true or false"),
])
def test_malformed_checkpoint_fields_are_one_sentence(tmp_path: Path, fields: dict, needle: str):
    path, record = _checkpoint(tmp_path, **fields)
    torch.save(record, path)
    result, out = _export(tmp_path, path)
    assert_one_sentence_failure(result, needle)
    assert not out.parent.exists()


def test_a_checkpoint_with_no_classes_leaves_no_folder(tmp_path: Path):
    path, record = _checkpoint(tmp_path)
    record["state_dict"]["fc.weight"] = torch.zeros(0, 1024)
    record["state_dict"]["fc.bias"] = torch.zeros(0)
    torch.save(record, path)
    result, out = _export(tmp_path, path)
    assert_one_sentence_failure(result, "0 output classes")
    assert not out.parent.exists()


def test_a_raw_pickle_is_refused_without_torch_warnings(tmp_path: Path):
    import pickle

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Payload()))
    result, _ = _export(tmp_path, path)
    text = assert_one_sentence_failure(result, "cannot read weights file")
    assert "this must never run" not in text and "Warning" not in text and "\x1b" not in result.output


def test_fine_tuning_a_corrupt_fixture_is_one_sentence_and_writes_nothing(tmp_path):
    from gnet.errors import GnetError
    from gnet.export.fixture import fine_tune_fixture

    source = tmp_path / "googlenet_digits.pt"
    source.write_bytes(b"not a checkpoint")
    with pytest.raises(GnetError, match="cannot read weights file"):
        fine_tune_fixture(source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["googlenet_digits.pt"]
