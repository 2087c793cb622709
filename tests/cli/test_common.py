"""What every command shares: whole tables when output is not a terminal, one error sentence, batch parsing."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from gnet.cli.common import PIPE_WIDTH, parse_batches

WIDE_TABLE = """
from gnet.cli.common import console, parity_table
from gnet.checks.metrics import ParityMetrics
from gnet.checks.parity import ParityCheck, ParityReport
from gnet.checks.tolerances import tolerance_for

m = ParityMetrics(540, 6.691234e-06, 1.2e-06, 3.3e-07, 0.9999999, 0.9999999, 1.0, 1.0, 0.159, 0.159)
report = ParityReport("googlenet_int8_cpu.qdq.onnx", "fp32", "digits:eval", "file:artifacts/fixture/googlenet_digits.pt",
                      tolerance_for("fp32"), [ParityCheck(m, tolerance_for("fp32"), batch=256)], accuracy_caveat=CAVEAT)
console.print(parity_table(report))
"""


def _printed(caveat: str) -> str:
    code = f"CAVEAT = {caveat!r}\n" + WIDE_TABLE
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)  # stdout: a pipe
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_tables_render_whole_when_output_is_not_a_terminal():
    text = _printed("")
    assert "…" not in text
    for whole in ("batch", "6.691e-06", "15.9%/15.9%", "pass", "googlenet_int8_cpu.qdq.onnx", "googlenet_digits.pt"):
        assert whole in text, text
    assert max(len(line) for line in text.splitlines()) <= PIPE_WIDTH


def test_accuracy_at_another_image_size_says_so():
    text = _printed("trained at 64 px, measured at 224 px")
    assert "15.9%" not in text and "n/a (trained at 64 px, measured at 224 px)" in text


def test_batch_lists():
    assert parse_batches("1, 8,64") == [1, 8, 64]
    assert parse_batches(None) is None
    for bad in ("a,b", "0", "-1,2"):
        with pytest.raises(click.BadParameter):
            parse_batches(bad)
