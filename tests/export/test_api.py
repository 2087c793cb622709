"""``gnet.export.api``: re-checking an existing ONNX with the weights it records."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnet.errors import GnetError
from gnet.export.api import check_model
from gnet.export.images import load_packaged_photos


def test_check_reruns_parity_from_recorded_weights(exported_aux: Path):
    result = check_model(exported_aux, batches=[1, 4])
    assert result.parity.passed
    assert [row.batch for row in result.parity.rows] == [1, 4]
    assert result.parity.rows[0].metrics.count == len(load_packaged_photos(32))


def test_check_refuses_other_weights(exported_aux: Path):
    with pytest.raises(GnetError, match="SHA-256"):
        check_model(exported_aux, weights="random")
