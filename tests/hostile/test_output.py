"""What users read: their own text printed as typed (never markup or emoji), one sentence without library
warnings beside it, and exit statuses as the README documents them (0, 1, 2 for usage errors)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import assert_one_sentence_failure, invoke


def test_user_text_is_never_markup_or_emoji():
    text = assert_one_sentence_failure(invoke("export", "--weights", "random:abc"), "the seed after 'random:'")
    assert "random:abc" in text and "🔤" not in text
    text = assert_one_sentence_failure(invoke("export", "--weights", "[bold]x[/bold].pt"), "does not exist")
    assert "[bold]x[/bold].pt" in text


def test_exit_statuses(tmp_path: Path):
    missing = subprocess.run([sys.executable, "-m", "gnet", "check", str(tmp_path / "none.onnx")],
                             capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stderr.count("error:") == 1
    usage = subprocess.run([sys.executable, "-m", "gnet", "export", "--no-such-option"], capture_output=True, text=True)
    assert usage.returncode == 2 and "No such option" in usage.stderr  # click's convention for usage errors
