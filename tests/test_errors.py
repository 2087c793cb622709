"""Errors carry what failed, why, and the remedy as fields; code reads the fields, never the text."""

from __future__ import annotations

from gnet.errors import ArtifactError, GnetError, NotAvailable, UsageError, first_line


def test_fields_and_the_plain_sentence():
    err = GnetError("cannot read weights file w.pt", "it is corrupt", "pass --weights random")
    assert (err.what, err.why, err.remedy) == ("cannot read weights file w.pt", "it is corrupt", "pass --weights random")
    assert err.cause == "cannot read weights file w.pt: it is corrupt"
    assert str(err) == "cannot read weights file w.pt: it is corrupt; pass --weights random"
    assert str(GnetError("x does not exist")) == "x does not exist"
    assert str(GnetError("x", remedy="do y")) == "x; do y"


def test_kinds_are_types():
    missing = NotAvailable("TensorRT is not installed", remedy="pip install tensorrt")
    assert isinstance(missing, GnetError) and missing.cause == "TensorRT is not installed"
    artifact = ArtifactError("int8", "no calibration images")
    assert artifact.kind == "int8" and artifact.cause == "the int8 artifact could not be made: no calibration images"
    assert isinstance(UsageError("--batch 0"), GnetError)


def test_first_line_of_foreign_errors():
    assert first_line(ValueError("one\ntwo")) == "one"
    assert first_line(ValueError("")) == "ValueError"
    assert first_line(ValueError("x" * 500), 10) == "x" * 10
    assert first_line(RuntimeError("\x1b[1mWeights only load failed.\x1b[0m Re-running")) == "Weights only load failed. Re-running"
