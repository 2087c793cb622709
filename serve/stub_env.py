"""The stub environment: the Python packages Triton's python-backend stub sees when it runs gnet's model.

The stub (``triton_python_backend_stub``, one process per model instance) embeds CPython and finds its
packages through the first ``python3`` on the server's ``PATH``. Two facts decide what goes there:

* **numpy 2 breaks the 2.51 stub**: with numpy 2 every output reached the client empty
  (``cannot reshape array of size 0``; measured, FINDINGS §3 P2); nvidia-pytriton pins ``numpy<2``.
  gnet keeps numpy 2 in its own process and gives the stub a small virtual environment of this
  interpreter with numpy<2 instead (never the project's packages: pip would downgrade them).
* **gnet's model runs ONNX Runtime inside the stub**, so the stub environment holds the same
  onnxruntime release as gnet's own process: served logits equal the in-process session's.

Made once at install time (``make install-serve`` runs ``gnet triton-stub-env``), since it needs the
package index; ``gnet serve`` never downloads, it only checks.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from gnet import defaults
from gnet.errors import NotAvailable, UsageError

ENV_VAR = "GNET_TRITON_STUB_ENV"
"""Overrides where the stub environment is (default: ``<virtual environment>/triton-stub``)."""
NUMPY = "numpy>=1.21,<2"
CREATE = "gnet triton-stub-env"
PROBE = "import json, numpy, onnxruntime; print(json.dumps([numpy.__version__, onnxruntime.__version__]))"


def default_path() -> Path:
    """``$GNET_TRITON_STUB_ENV``, else ``triton-stub`` inside the running virtual environment."""
    override = os.environ.get(ENV_VAR)
    return Path(override) if override else Path(sys.prefix) / defaults.STUB_ENV_DIRNAME


def onnxruntime_version() -> str:
    """The onnxruntime release of gnet's own process (a GPU build's version names the same CPU release)."""
    for dist in ("onnxruntime", "onnxruntime-gpu"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise NotAvailable("onnxruntime is not installed", remedy="pip install -e . installs it")


def requirements() -> list[str]:
    """What the stub imports besides the standard library and Triton's own utils module."""
    return [NUMPY, f"onnxruntime=={onnxruntime_version()}"]


@dataclass(frozen=True)
class StubEnv:
    """A checked stub environment."""

    path: Path
    numpy: str
    onnxruntime: str

    @property
    def bin(self) -> Path:
        return self.path / "bin"


def _remedy(path: Path) -> str:
    where = "" if path == default_path() else f" --path {path}"
    return f"create it with: {CREATE}{where} (make install-serve does)"


def check(path: Path | None = None) -> StubEnv:
    """The stub environment, if usable: numpy<2 and gnet's onnxruntime release import there."""
    env = path or default_path()
    python = env / "bin" / "python3"
    if not python.exists():
        raise NotAvailable("Triton serving needs its stub environment (numpy<2 and onnxruntime for the python backend)",
                           f"{env} does not exist", _remedy(env))
    probe = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
        raise NotAvailable(f"the Triton stub environment {env} is unusable", last[:200], _remedy(env))
    numpy_version, ort_version = json.loads(probe.stdout)
    if int(numpy_version.split(".")[0]) >= 2:
        raise NotAvailable(f"the Triton stub environment {env} has numpy {numpy_version}",
                           "Triton 2.51's python backend answers with empty outputs under numpy 2", _remedy(env))
    wanted = onnxruntime_version()
    if ort_version != wanted:
        raise NotAvailable(f"the Triton stub environment {env} has onnxruntime {ort_version}",
                           f"gnet runs onnxruntime {wanted}, and served logits must equal in-process ones",
                           _remedy(env))
    return StubEnv(env, numpy_version, ort_version)


def create(path: Path | None = None) -> StubEnv:
    """Make the stub environment: a pip-less virtual environment of this interpreter plus :func:`requirements`."""
    env = path or default_path()
    if env.exists() and any(env.iterdir()) and not (env / "pyvenv.cfg").is_file():
        raise UsageError(f"{env} exists and is not a virtual environment", remedy="choose another --path")
    site = env / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    steps = ([sys.executable, "-m", "venv", "--without-pip", "--clear", str(env)],
             [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), *requirements()])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            raise NotAvailable(f"cannot create the Triton stub environment {env}", last[:200])
    return check(env)
