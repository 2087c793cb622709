"""The stub environment: the one ``make install-serve`` made passes the check; others are refused with the remedy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from gnet.errors import NotAvailable, UsageError
from gnet.serve import stub_env
from tests.helpers.serving import needs_serving


@needs_serving()
def test_the_installed_stub_environment_has_numpy_1_and_gnets_onnxruntime():
    env = stub_env.check()
    assert env.numpy.startswith("1.") and env.onnxruntime == stub_env.onnxruntime_version()
    assert (env.bin / "python3").exists()


def test_requirements_pin_numpy_below_2_and_this_onnxruntime():
    assert stub_env.requirements() == ["numpy>=1.21,<2", f"onnxruntime=={stub_env.onnxruntime_version()}"]


def test_a_missing_environment_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(NotAvailable) as caught:
        stub_env.check(tmp_path / "nowhere")
    assert "does not exist" in caught.value.why and "gnet triton-stub-env --path" in caught.value.remedy


@pytest.mark.skipif(numpy.__version__.startswith("1."), reason="needs numpy 2 in gnet's own process")
def test_an_environment_with_numpy_2_is_refused(tmp_path):
    """A real environment whose numpy is this process's numpy 2 (a .pth to our site-packages)."""
    env = tmp_path / "numpy2"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = next(env.glob("lib/python*/site-packages"))
    (site / "parent.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    with pytest.raises(NotAvailable, match=f"has numpy {numpy.__version__}.*empty outputs under numpy 2"):
        stub_env.check(env)


def test_create_refuses_to_clear_a_folder_that_is_not_a_virtual_environment(tmp_path: Path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(UsageError, match="is not a virtual environment"):
        stub_env.create(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_the_override_variable_moves_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv(stub_env.ENV_VAR, str(tmp_path / "elsewhere"))
    assert stub_env.default_path() == tmp_path / "elsewhere"
    monkeypatch.delenv(stub_env.ENV_VAR)
    assert stub_env.default_path() == Path(sys.prefix) / "triton-stub"
