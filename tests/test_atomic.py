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


def test_files_that_belong_together_move_in_order_or_not_at_all(tmp_path: Path):
    import errno

    from gnet.atomic import TEMP_MARK, atomic_files
    from gnet.errors import GnetError

    xml, weights = tmp_path / "m.xml", tmp_path / "m.bin"
    with atomic_files(weights, xml) as (staged_bin, staged_xml):
        assert staged_bin.parent == staged_xml.parent != tmp_path and TEMP_MARK in staged_bin.parent.name
        staged_bin.write_text("weights")
        staged_xml.write_text("graph")
    assert (xml.read_text(), weights.read_text()) == ("graph", "weights")
    with pytest.raises(RuntimeError):
        with atomic_files(weights, xml) as (staged_bin, staged_xml):
            staged_bin.write_text("new weights")
            raise RuntimeError("parity failed")
    with pytest.raises(GnetError, match="no space left on the device; .*the previous files were kept"):
        with atomic_files(weights, xml):
            raise OSError(errno.ENOSPC, "simulated")
    assert (xml.read_text(), weights.read_text()) == ("graph", "weights")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin", "m.xml"]  # no staging folder left
