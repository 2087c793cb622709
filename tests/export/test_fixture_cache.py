"""The cache of trained checkpoints: another clone on the same machine copies what this recipe trained here
instead of training again; a changed recipe, release or CPU, or a damaged copy, trains again."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnet.export import fixture
from tests.helpers.cli import invoke


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(fixture.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _trained(tmp_path: Path, name: str = "googlenet_digits.pt", content: bytes = b"weights") -> Path:
    path = tmp_path / "clone-a" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_a_kept_checkpoint_is_restored_byte_for_byte(tmp_path: Path, cache: Path):
    assert fixture.keep_cached(_trained(tmp_path)) is None
    target = tmp_path / "clone-b" / "googlenet_digits.pt"
    target.parent.mkdir()
    assert fixture.restore_cached(target) and target.read_bytes() == b"weights"
    assert fixture.cached_checkpoint(target.name).is_relative_to(cache)


def test_nothing_kept_or_a_damaged_copy_is_not_restored(tmp_path: Path, cache: Path):
    target = tmp_path / "clone-b" / "googlenet_digits.pt"
    target.parent.mkdir()
    assert not fixture.restore_cached(target)
    fixture.keep_cached(_trained(tmp_path))
    fixture.cached_checkpoint(target.name).write_bytes(b"weightz")  # a flipped byte: the digest no longer matches
    assert not fixture.restore_cached(target) and not target.exists()


def test_another_cpu_or_release_has_its_own_key(monkeypatch: pytest.MonkeyPatch):
    import torch

    from gnet import system

    fixture.recipe_key.cache_clear()
    here = fixture.recipe_key()
    monkeypatch.setattr(system, "cpu_identity", lambda: "model name: a faked CPU\nflags: avx avx2")
    fixture.recipe_key.cache_clear()
    avx2 = fixture.recipe_key()
    monkeypatch.setattr(torch, "__version__", "0.0.0")
    fixture.recipe_key.cache_clear()
    older = fixture.recipe_key()
    monkeypatch.undo()
    fixture.recipe_key.cache_clear()
    assert len({here, avx2, older}) == 3 and fixture.recipe_key() == here


def test_a_cache_that_cannot_be_written_is_a_note_not_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(fixture.CACHE_ENV, str(blocker))
    trouble = fixture.keep_cached(_trained(tmp_path))
    assert trouble and "not cached" in trouble


def test_gnet_fixture_copies_a_cached_checkpoint_instead_of_training(tmp_path: Path, cache: Path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained although a checkpoint was cached")

    monkeypatch.setattr(fixture, "train_fixture", no_training)
    fixture.keep_cached(_trained(tmp_path))
    target = tmp_path / "clone-b" / "googlenet_digits.pt"
    result = invoke("fixture", "--tests-only", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == b"weights" and "trained on this machine before" in result.output
    forced = invoke("fixture", "--tests-only", "--force", "-o", str(target))  # --force trains: here, it fails
    assert forced.exit_code != 0 and target.read_bytes() == b"weights"
