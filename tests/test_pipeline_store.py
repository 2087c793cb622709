"""The benchmark's artifact store: built once when asked, and a kind that failed fails again without a retry."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnet.bench.progress import Silent
from gnet.errors import ArtifactError, GnetError
from gnet.export.weights import load_random
from gnet.pipeline import ArtifactStore


def test_a_failed_kind_is_an_artifact_error_and_is_not_retried(monkeypatch, tmp_path: Path):
    calls = []

    def failing(loaded, folder, size, kinds, **_kw):
        calls.append(kinds)
        raise GnetError("no images (jpg, jpeg, png, bmp) found under x", remedy="pass --images DIR")

    monkeypatch.setattr("gnet.export.api.prepare_artifacts", failing)
    store = ArtifactStore(load_random(0), tmp_path, 64, Silent())
    for _ in range(2):
        with pytest.raises(ArtifactError) as err:
            store("int8")
        assert err.value.kind == "int8" and err.value.why == "no images (jpg, jpeg, png, bmp) found under x"
    assert calls == [["int8"]]


def test_made_once_and_reused(monkeypatch, tmp_path: Path):
    calls = []

    def making(loaded, folder, size, kinds, **_kw):
        calls.append(kinds)
        return {v: folder / f"{v}.onnx" for v in kinds}

    monkeypatch.setattr("gnet.export.api.prepare_artifacts", making)
    store = ArtifactStore(load_random(0), tmp_path, 64, Silent())
    assert store("fp16") == store("fp16") == tmp_path / "fp16.onnx"
    assert calls == [["fp16"]]
