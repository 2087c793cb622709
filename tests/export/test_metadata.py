"""gnet.* metadata_props: stamped JSON-encoded, read back decoded, replaced rather than duplicated."""

from __future__ import annotations

import onnx
from onnx import helper

from gnet.export import metadata


def test_stamp_and_read_back():
    model = helper.make_model(helper.make_graph([], "g", [], []))
    model.metadata_props.add(key="other", value="kept")
    metadata.stamp(model, {"precision": "fp16", "image_size": 224, "class_names": ["a", "b"]})
    metadata.stamp(model, {"precision": "int8"})
    assert metadata.read(model) == {"precision": "int8", "image_size": 224, "class_names": ["a", "b"]}
    keys = [p.key for p in model.metadata_props]
    assert keys.count("gnet.precision") == 1 and "other" in keys
    assert isinstance(model, onnx.ModelProto)
