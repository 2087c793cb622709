"""The server's environment: this interpreter's libpython and the stub environment first, gnet's paths out."""

from __future__ import annotations

import os
import subprocess
import sysconfig

import pytest

from gnet.serve import bundle, server_env
from tests.helpers.serving import needs_serving


def test_the_libpython_folder_holds_only_this_interpreters_library(tmp_path):
    lib = server_env.interpreter_libpython()
    if lib is None:
        pytest.skip("this interpreter is statically linked")
    assert lib.name == sysconfig.get_config_var("INSTSONAME")
    folder = server_env.libpython_dir(tmp_path)
    assert folder is not None and [p.name for p in folder.iterdir()] == [lib.name]
    assert (folder / lib.name).resolve() == lib.resolve()
    assert server_env.libpython_dir(tmp_path) == folder  # a second call keeps the link


@needs_serving()
def test_the_environment_puts_both_fixes_first_and_drops_gnets_python_paths(tmp_path):
    found = bundle.find_bundle()
    base = {"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/opt/lib", "PYTHONPATH": "/work/gnet", "HOME": "/root"}
    env = server_env.server_environ(found, tmp_path / "stub" / "bin", tmp_path, base)
    assert env["PATH"].split(os.pathsep) == [str(tmp_path / "stub" / "bin"), "/usr/bin"]
    libs = env["LD_LIBRARY_PATH"].split(os.pathsep)
    assert libs[-2:] == [str(found.libs), "/opt/lib"]
    assert "PYTHONPATH" not in env and env["HOME"] == "/root"


@needs_serving()
def test_with_that_environment_the_stub_links_this_interpreters_libpython(tmp_path):
    """What the dynamic loader resolves for the real stub binary (the fix for '_recursion_count')."""
    lib = server_env.interpreter_libpython()
    if lib is None:
        pytest.skip("this interpreter is statically linked")
    found = bundle.find_bundle()
    env = server_env.server_environ(found, tmp_path, tmp_path)
    ldd = subprocess.run(["ldd", str(found.stub())], env=env, capture_output=True, text=True, check=True).stdout
    line = next(entry for entry in ldd.splitlines() if "libpython" in entry)
    assert os.path.realpath(line.split("=>")[1].split("(")[0].strip()) == os.path.realpath(lib)
