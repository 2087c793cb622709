"""The bundled Triton server's files, found without importing PyTriton, and the refusals when they are missing."""

from __future__ import annotations

import importlib.metadata
import os
import sys

import pytest

from gnet import defaults
from gnet.errors import NotAvailable
from gnet.serve import bundle
from tests.helpers.serving import needs_serving


@needs_serving()
def test_the_bundle_is_found_file_by_file_without_importing_pytriton():
    found = bundle.find_bundle()
    assert found.version == defaults.PYTRITON_VERSION
    assert os.access(found.server, os.X_OK) and found.stub().is_file() and found.libs.is_dir()
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" in str(found.stub())
    assert "pytriton" not in sys.modules  # numpy<2 pins and all: gnet never runs PyTriton's Python code


@needs_serving()
def test_the_backend_directory_links_the_python_backend_and_this_pythons_stub(tmp_path):
    found = bundle.find_bundle()
    backends = bundle.backend_directory(found, tmp_path)
    python = backends / "python"
    assert sorted(p.name for p in python.iterdir()) == sorted([*bundle.BACKEND_FILES, bundle.STUB_NAME])
    assert (python / bundle.STUB_NAME).resolve() == found.stub().resolve()
    assert all(p.resolve().is_file() for p in python.iterdir())


def test_a_missing_or_other_pytriton_is_refused_in_one_sentence(monkeypatch):
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name == "nvidia-pytriton":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    with pytest.raises(NotAvailable) as caught:
        bundle.find_bundle()
    assert caught.value.cause == "Triton serving is not installed: nvidia-pytriton is missing"
    assert "make install-serve" in caught.value.remedy and defaults.PYTRITON_VERSION in caught.value.remedy
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.5.5" if name == "nvidia-pytriton" else real(name))
    with pytest.raises(NotAvailable, match="nvidia-pytriton 0.5.5 is installed"):
        bundle.find_bundle()
