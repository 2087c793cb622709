"""The Triton Inference Server gnet runs: the files nvidia-pytriton bundles, used as files.

nvidia-pytriton's wheel carries a real ``tritonserver`` (Triton 2.51.0), its python backend and one
python-backend stub per Python release. gnet runs that binary itself, with its own python-backend
model (``backend_model.py``), and never imports PyTriton's Python code: PyTriton answers every request
of a dynamic batch with one error when one request is bad, and pins numpy<2 for the process it runs in.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from gnet import defaults
from gnet.errors import NotAvailable

INSTALL_REMEDY = (f"install the serving files with: make install-serve (pip install --no-deps "
                  f"nvidia-pytriton=={defaults.PYTRITON_VERSION} tritonclient=={defaults.TRITONCLIENT_VERSION} "
                  "and their runtime dependencies, see docs/serving.md)")
STUB_NAME = "triton_python_backend_stub"
BACKEND_FILES = ("libtriton_python.so", "triton_python_backend_utils.py")


@dataclass(frozen=True)
class Bundle:
    """Where the bundled server's files are (``…/site-packages/pytriton/tritonserver``)."""

    root: Path
    version: str

    @property
    def server(self) -> Path:
        return self.root / "bin" / "tritonserver"

    @property
    def python_backend(self) -> Path:
        return self.root / "backends" / "python"

    @property
    def libs(self) -> Path:
        """The wheel's own shared libraries (libcudart, libdcgm, …), which the binary's RPATH also names."""
        return self.root.parent.parent / "nvidia_pytriton.libs"

    def stub(self) -> Path:
        """The python-backend stub built for the running Python release."""
        return self.root / "python_backend_stubs" / f"{sys.version_info[0]}.{sys.version_info[1]}" / STUB_NAME


def find_bundle() -> Bundle:
    """The bundled server, checked file by file; NotAvailable, in one sentence, when it cannot run here."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise NotAvailable("Triton serving runs on x86-64 Linux only",
                           f"this is {sys.platform} on {platform.machine()} (nvidia-pytriton ships no other wheel)")
    try:
        version = importlib.metadata.version("nvidia-pytriton")
    except importlib.metadata.PackageNotFoundError:
        raise NotAvailable("Triton serving is not installed", "nvidia-pytriton is missing", INSTALL_REMEDY) from None
    if version != defaults.PYTRITON_VERSION:
        raise NotAvailable(f"nvidia-pytriton {version} is installed",
                           f"gnet runs the Triton 2.51.0 that nvidia-pytriton {defaults.PYTRITON_VERSION} bundles",
                           INSTALL_REMEDY)
    spec = importlib.util.find_spec("pytriton")  # finds the folder without running PyTriton's __init__
    if spec is None or not spec.submodule_search_locations:
        raise NotAvailable("Triton serving is not installed", "the pytriton package folder is missing", INSTALL_REMEDY)
    bundle = Bundle(Path(list(spec.submodule_search_locations)[0]) / "tritonserver", version)
    for needed in (bundle.server, bundle.stub(), *(bundle.python_backend / name for name in BACKEND_FILES)):
        if not needed.is_file():
            python = f"{sys.version_info[0]}.{sys.version_info[1]}"
            why = f"nvidia-pytriton {version} has no stub for Python {python}" if needed.name == STUB_NAME else ""
            raise NotAvailable(f"the bundled Triton server is incomplete: {needed} is missing", why, INSTALL_REMEDY)
    if not os.access(bundle.server, os.X_OK):
        raise NotAvailable(f"the bundled Triton server {bundle.server} is not executable", remedy=INSTALL_REMEDY)
    return bundle


def require_client() -> None:
    """tritonclient's HTTP and gRPC clients (and Triton's config schema) import; NotAvailable if not."""
    try:
        import tritonclient.grpc  # noqa: F401
        import tritonclient.http  # noqa: F401
    except ImportError as exc:
        raise NotAvailable("Triton's client library is not usable", f"{exc.name or 'tritonclient'} cannot be imported",
                           INSTALL_REMEDY) from None


def backend_directory(bundle: Bundle, workdir: Path) -> Path:
    """A ``--backend-directory`` for this server: ``python/`` holding links to the backend and this Python's stub.

    The wheel keeps its stubs apart (one per Python release); the python backend looks for the stub beside
    ``libtriton_python.so``. Links, not copies: the stub's RPATH (``$ORIGIN/…/nvidia_pytriton.libs``) is
    resolved from the real file.
    """
    folder = workdir / "backends" / "python"
    folder.mkdir(parents=True, exist_ok=True)
    for name in BACKEND_FILES:
        (folder / name).symlink_to(bundle.python_backend / name)
    (folder / STUB_NAME).symlink_to(bundle.stub())
    return folder.parent
