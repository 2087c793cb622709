"""The trained fixture for tests: built by `make fixture` (a dependency of `make test`), else trained here once."""

from __future__ import annotations

from pathlib import Path

from gnet.defaults import FIXTURE_CHECKPOINT
from gnet.export.fixture import fixture_available, train_fixture
from tests.helpers.paths import REPO_ROOT


def fixture_checkpoint() -> Path:
    """Path of the trained fixture checkpoint, training it (about 3 minutes) if it is missing."""
    path = REPO_ROOT / FIXTURE_CHECKPOINT
    if not fixture_available(path):
        train_fixture(path)
    return path
