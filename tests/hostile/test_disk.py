"""A full disk (or a quota, a read-only folder) while writing an artifact: one sentence, the old file kept,
no temporary file left. The full disk is simulated at the write call gnet makes (no root needed)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from gnet.atomic import write_text_atomic
from gnet.errors import GnetError
from tests.helpers.cli import assert_one_sentence_failure, invoke
from tests.helpers.models import SMALL


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "no space left on the device"),
                                          (errno.EDQUOT, "the disk quota is exceeded")])
def test_a_full_disk_during_an_export_keeps_the_previous_file(tmp_path: Path, monkeypatch, code: int, words: str):
    out = tmp_path / "googlenet_fp32.onnx"
    assert invoke("export", "--weights", "random", "--image-size", str(SMALL), "-o", str(out)).exit_code == 0
    before = out.read_bytes()

    def full(*_args, **_kwargs):
        raise OSError(code, "simulated")

    monkeypatch.setattr("gnet.export.onnx_export.onnx.save", full)
    result = invoke("export", "--weights", "random", "--seed", "5", "--image-size", str(SMALL), "-o", str(out))
    assert_one_sentence_failure(result, f"cannot write {out}", words, "the previous file was kept")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_other_os_errors_keep_their_traceback(tmp_path: Path, monkeypatch):
    """Only the conditions a user can fix become sentences; anything else is a bug to report."""
    def broken(*_args, **_kwargs):
        raise OSError(errno.EIO, "simulated I/O error")

    monkeypatch.setattr(Path, "write_bytes", broken)
    with pytest.raises(OSError):
        write_text_atomic(tmp_path / "x.json", "{}")
    with pytest.raises(GnetError, match="is a folder"):
        write_text_atomic(tmp_path, "{}")
