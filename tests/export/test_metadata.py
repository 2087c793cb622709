"""gnet.* metadata_props: stamped JSON-encoded, read back decoded, replaced rather than duplicated; the foreign-ONNX rule."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from gnet.errors import UsageError
from gnet.export import metadata
from tests.helpers import tiny_onnx
from tests.trt_double import models


def test_stamp_and_read_back():
    model = helper.make_model(helper.make_graph([], "g", [], []))
    model.metadata_props.add(key="other", value="kept")
    metadata.stamp(model, {"precision": "fp16", "image_size": 224, "class_names": ["a", "b"]})
    metadata.stamp(model, {"precision": "int8"})
    assert metadata.read(model) == {"precision": "int8", "image_size": 224, "class_names": ["a", "b"],
                                    "graph_sha256": metadata.graph_digest(model)}
    keys = [p.key for p in model.metadata_props]
    assert keys.count("gnet.precision") == 1 and keys.count("gnet.graph_sha256") == 1 and "other" in keys
    assert isinstance(model, onnx.ModelProto)


def _stripped(model: onnx.ModelProto) -> onnx.ModelProto:
    del model.metadata_props[:]
    return model


def test_a_foreign_onnx_precision_is_read_from_its_graph():
    assert metadata.graph_precision(_stripped(models.fp32_model()), "m") == {"precision": "fp32"}
    assert metadata.graph_precision(_stripped(models.fp16_model()), "m") == {"precision": "fp16"}
    assert metadata.graph_precision(_stripped(models.int8_model()), "m") == {"precision": "int8"}  # s8: TensorRT's
    cpu_format = {"precision": "int8", "int8_target": "cpu"}  # u8 activations: build refuses it as gnet's CPU format
    assert metadata.graph_precision(_stripped(tiny_onnx.build("qdq-u8")), "m") == cpu_format
    both = _stripped(models.int8_model())
    both.graph.initializer.append(numpy_helper.from_array(np.zeros(1, np.float16), "half"))
    with pytest.raises(UsageError, match="cannot tell the precision of m: its graph holds both FP16 tensors and Q"):
        metadata.graph_precision(both, "m")


def test_the_foreign_rule_per_command():
    """One sentence for every command; build and check accept the facts they need, the serving commands none."""
    foreign = _stripped(models.fp32_model())
    for command in ("serve", "triton-repo", "bench", "openvino"):
        with pytest.raises(UsageError, match=f"m lacks gnet's metadata: .*; gnet {command} needs gnet's contract"):
            metadata.require_gnet_metadata(foreign, "m", command, {"image_size": 16, "num_classes": 10})
    with pytest.raises(UsageError, match="pass --classes C to build it"):
        metadata.require_gnet_metadata(foreign, "m", "build", {"image_size": 16})
    built = metadata.require_gnet_metadata(foreign, "m", "build", {"image_size": 16, "num_classes": 10})
    assert {k: built[k] for k in ("precision", "image_size", "num_classes", "opset", "weights")} == {
        "precision": "fp32", "image_size": 16, "num_classes": 10, "opset": 17, "weights": metadata.FOREIGN_WEIGHTS}
    with pytest.raises(UsageError, match=r"pass --weights W \(its weights\) to check"):
        metadata.require_gnet_metadata(foreign, "m", "check", {})
    checked = metadata.require_gnet_metadata(foreign, "m", "check", {"weights": "random"})  # size: the graph's
    assert checked["image_size"] == 16 and checked["weights"] == metadata.FOREIGN_WEIGHTS
