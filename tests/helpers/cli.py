"""Helpers for testing the command line in-process."""

from __future__ import annotations

from click.testing import CliRunner, Result

from gnet.cli.app import cli


def invoke(*args: str) -> Result:
    """Run ``gnet ARGS`` in this process."""
    return CliRunner().invoke(cli, list(args))


def assert_one_sentence_failure(result: Result, *needles: str) -> str:
    """Exit status 1, no traceback, exactly one ``error:`` sentence containing every needle; returns the text."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert text.count("error:") == 1, text
    for needle in needles:
        assert needle in text, text
    return text
