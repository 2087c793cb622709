import os
import stat
from pathlib import Path

import pytest

from gnet.atomic import atomic_output, write_text_atomic


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temp(tmp_path: Path):
    target = tmp_path / "model.onnx"
    target.write_text("good")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("build failed")
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_artifacts_get_ordinary_file_permissions(tmp_path: Path):
    target = tmp_path / "out.json"
    write_text_atomic(target, "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
