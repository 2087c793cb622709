"""Hostile ONNX metadata: an edited gnet.image_size is one sentence in gnet check and gnet build."""

from __future__ import annotations

from pathlib import Path

import onnx

from gnet.export import metadata
from tests.helpers.cli import assert_one_sentence_failure, invoke
from tests.helpers.models import SMALL


def test_unusable_image_size_metadata(tmp_path: Path):
    out = tmp_path / "googlenet_fp32.onnx"
    assert invoke("export", "--weights", "random", "--image-size", str(SMALL), "-o", str(out)).exit_code == 0
    model = onnx.load(str(out))
    metadata.stamp(model, {"image_size": "abc"})
    onnx.save(model, str(out))
    assert_one_sentence_failure(invoke("check", str(out)), "unusable gnet metadata", "gnet.image_size is 'abc'")
    assert_one_sentence_failure(invoke("build", str(out)), "unusable gnet metadata")
