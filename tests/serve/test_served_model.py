"""The model ``gnet serve`` serves: the contract read from a gnet ONNX, and the one-model repository it writes."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from gnet.errors import GnetError, UsageError
from gnet.serve.served_model import ServedModel, read_signature


def test_the_signature_comes_from_the_file(serve_model: Path):
    sig = read_signature(serve_model)
    assert sig.dims == (3, 64, 64) and sig.classes == 10 and sig.precision == "fp32"
    assert sig.input_dtype == sig.output_dtype == "float32"
    assert sig.labels() == [str(i) for i in range(10)] and sig.metadata["weights_sha256"]


def test_a_file_that_cannot_be_served_is_one_sentence(serve_model: Path, tmp_path: Path):
    with pytest.raises(GnetError, match="cannot serve .*gone.onnx: the file does not exist; export one"):
        read_signature(tmp_path / "gone.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"\x08\x01junk")
    with pytest.raises(GnetError, match="it is not a readable ONNX file"):
        read_signature(tmp_path / "junk.onnx")
    (tmp_path / "googlenet_fp16.plan").write_bytes(b"plan")
    with pytest.raises(UsageError, match="tensorrt_plan backend, which the bundled server lacks.*gnet triton-repo"):
        read_signature(tmp_path / "googlenet_fp16.plan")
    model = onnx.load(str(serve_model))
    model.graph.input[0].name = "images"
    onnx.save(model, str(tmp_path / "foreign.onnx"))
    with pytest.raises(GnetError, match="it has no 'input' input and 'logits' output, so it is not a gnet export"):
        read_signature(tmp_path / "foreign.onnx")


def test_edited_metadata_is_one_sentence(serve_model: Path, tmp_path: Path):
    model = onnx.load(str(serve_model))
    for prop in model.metadata_props:
        if prop.key == "gnet.class_names":
            prop.value = "7"
    onnx.save(model, str(tmp_path / "edited.onnx"))
    with pytest.raises(GnetError, match="edited.onnx has unusable gnet metadata: gnet.class_names is 7, not a list"):
        read_signature(tmp_path / "edited.onnx")


def test_the_repository_holds_a_valid_python_backend_config_the_model_and_its_labels(serve_model: Path, tmp_path: Path):
    pytest.importorskip("tritonclient.grpc")
    from gnet.serve.model_config import validate

    served = ServedModel(serve_model, read_signature(serve_model), max_batch=16, instances=3, threads=2,
                         queue_delay_us=500, preferred=(4, 16), start_token="abc")
    root = served.write_repository(tmp_path / "models") / "googlenet"
    config = validate((root / "config.pbtxt").read_text())
    assert (config.backend, config.max_batch_size, config.instance_group[0].count) == ("python", 16, 3)
    assert config.instance_group[0].kind == config.instance_group[0].KIND_CPU
    assert list(config.dynamic_batching.preferred_batch_size) == [4, 16]
    assert config.dynamic_batching.max_queue_delay_microseconds == 500
    assert {k: v.string_value for k, v in config.parameters.items()} == {"onnx_file": "model.onnx",
                                                                         "intra_op_threads": "2",
                                                                         "gnet_start_token": "abc"}
    assert (root / "1" / "model.onnx").read_bytes() == serve_model.read_bytes()
    assert "class TritonPythonModel" in (root / "1" / "model.py").read_text()
    assert (root / "labels.txt").read_text().splitlines() == [str(i) for i in range(10)]
