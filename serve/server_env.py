"""The environment the ``tritonserver`` process starts with: the fixes that make the bundled server work anywhere.

* **libpython.** The python-backend stub links ``libpython3.X.so.1.0`` by soname. Where the running
  interpreter is not the system's (pyenv, conda, uv, a source build), the loader finds the *system's*
  libpython (here 3.11.2) while the stub runs this interpreter's standard library (3.11.7), and every
  model fails to load with ``'_thread.RLock' object has no attribute '_recursion_count'``. So a private
  folder holding one link to this interpreter's libpython goes first on the server's ``LD_LIBRARY_PATH``
  (only that library: nothing else of the interpreter's LIBDIR, a conda env's libstdc++ or libssl, may
  shadow what tritonserver links). A statically linked interpreter gets nothing added.
* **The stub environment** (:mod:`gnet.serve.stub_env`) goes first on ``PATH``: the stub finds its
  Python packages through the first ``python3`` there.
* ``PYTHONPATH``/``PYTHONHOME``/``PYTHONSTARTUP`` are dropped: the stub must not see gnet's own packages
  (numpy 2) or run a user's start-up file.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

from gnet.serve.bundle import Bundle

DROPPED = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")


def interpreter_libpython() -> Path | None:
    """The running interpreter's shared libpython (None for a statically linked interpreter)."""
    libdir = sysconfig.get_config_var("LIBDIR")
    soname = sysconfig.get_config_var("INSTSONAME")
    if not libdir or not soname or not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        return None
    path = Path(libdir) / soname
    return path if path.is_file() else None


def libpython_dir(workdir: Path) -> Path | None:
    """A folder in ``workdir`` holding only a link to the interpreter's libpython (None without one)."""
    lib = interpreter_libpython()
    if lib is None:
        return None
    folder = workdir / "libpython"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / lib.name
    if not link.is_symlink():
        link.symlink_to(lib)
    return folder


def _prepend(first: list[Path], rest: str | None) -> str:
    return os.pathsep.join([str(p) for p in first] + ([rest] if rest else []))


def server_environ(bundle: Bundle, stub_bin: Path, workdir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: ``base`` (default ``os.environ``) with both fixes applied."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in DROPPED}
    libs = [p for p in (libpython_dir(workdir), bundle.libs) if p is not None]
    env["LD_LIBRARY_PATH"] = _prepend(libs, env.get("LD_LIBRARY_PATH"))
    env["PATH"] = _prepend([stub_bin], env.get("PATH"))
    return env
