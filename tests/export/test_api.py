"""``gnet.export.api``: re-checking an existing ONNX with the weights it records."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnet.checks.check import check_model
from gnet.checks.images import load_packaged_photos
from gnet.errors import GnetError


def test_check_reruns_parity_from_recorded_weights(exported_aux: Path):
    result = check_model(exported_aux, batches=[1, 4])
    assert result.parity.passed
    assert [row.batch for row in result.parity.checks] == [1, 4]
    assert result.parity.checks[0].metrics.count == len(load_packaged_photos(32))


def test_check_refuses_other_weights(exported_aux: Path):
    with pytest.raises(GnetError, match="SHA-256"):
        check_model(exported_aux, weights="random")


def test_an_export_is_reused_only_while_its_graph_is_the_one_it_was_written_with(fp32_onnx: Path, fixture_path: Path,
                                                                                  tmp_path: Path):
    """Issue 19: every reuse is checked against a recorded SHA-256 (an edited FP32 ONNX was reused by metadata)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    from gnet.export.api import _matches
    from gnet.export.weights import load_weights

    loaded = load_weights(str(fixture_path))
    copy = tmp_path / "googlenet_fp32.onnx"
    copy.write_bytes(fp32_onnx.read_bytes())
    assert _matches(copy, loaded, 64, None, "fp32")
    model = onnx.load(str(copy))
    first = model.graph.initializer[0]
    first.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(first) * np.float32(1.03), first.name))
    onnx.save(model, str(copy))  # metadata kept as it was: only the digest can tell
    assert not _matches(copy, loaded, 64, None, "fp32")
