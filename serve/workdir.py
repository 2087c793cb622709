"""Each server's private folder, and the clean-up after servers that could not clean up themselves.

A running ``gnet serve`` owns one folder ``$TMPDIR/gnet-triton-XXXXXXXX`` (the generated model repository,
the backend links, the libpython link, the server log) and one shared-memory prefix: the python
backend names its ``/dev/shm`` regions ``<prefix><uuid>``. ``owner.json`` records both with the owner's
process id (which the folder's name carries too). A clean stop removes the folder and finds no region
left; after a SIGKILL the next start removes what a dead owner left (its folder, its regions by prefix,
and any python-backend stub still running from it: never another server's).

No ``/tmp/folderXXXXXX`` model copies appear: Triton makes those only for models loaded through its load
API (PyTriton loads that way); gnet starts the server on a repository (``--model-repository``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gnet.atomic import process_alive

PREFIX = "gnet-triton-"
OWNER_FILE = "owner.json"
SHM_BASE = "gnet_triton_"
SHM = Path("/dev/shm")


def shm_entries(prefix: str = "") -> set[str]:
    """Names in ``/dev/shm`` starting with ``prefix``."""
    try:
        return {name for name in os.listdir(SHM) if name.startswith(prefix)}
    except OSError:
        return set()


def remove_shm(prefix: str) -> list[str]:
    """Unlink every region named ``<prefix>…``; returns their names."""
    removed = sorted(shm_entries(prefix))
    for name in removed:
        (SHM / name).unlink(missing_ok=True)
    return removed


@dataclass(frozen=True)
class Workdir:
    """One server's folder and shared-memory prefix."""

    path: Path
    shm_prefix: str

    @property
    def log(self) -> Path:
        return self.path / "tritonserver.log"

    def remove(self) -> list[str]:
        """Delete the folder and any region with our prefix still there; returns the regions that were left."""
        left = remove_shm(self.shm_prefix)
        shutil.rmtree(self.path, ignore_errors=True)
        return left


def end_processes(folder: Path) -> list[int]:
    """SIGKILL every process whose command line names ``folder`` (a python-backend stub runs the ``model.py`` in
    it): a stub whose server died by SIGKILL outlives it otherwise. Returns their process ids."""
    import psutil

    mark, ended = str(folder) + os.sep, []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if proc.pid != os.getpid() and any(mark in arg for arg in proc.info["cmdline"] or ()):
                proc.kill()
                ended.append(proc.pid)
        except (psutil.Error, OSError):
            continue
    return ended


SHM_PREFIX = re.compile(rf"^{SHM_BASE}\d+_[0-9a-f]{{8}}_$")
"""What a shared-memory prefix gnet wrote looks like: a planted ``owner.json`` cannot name another program's."""


def _owner(folder: Path) -> tuple[int, str] | None:
    """(pid, shared-memory prefix) of a server folder of this user: from ``owner.json``, else from its name (a start
    stopped between making the folder and writing the file); None when neither says, or another user owns it."""
    try:
        if folder.stat().st_uid != os.getuid():
            return None
    except OSError:
        return None
    try:
        owner = json.loads((folder / OWNER_FILE).read_text())
        pid, prefix = int(owner["pid"]), str(owner["shm_prefix"])
        return pid, prefix if SHM_PREFIX.match(prefix) else ""
    except (OSError, ValueError, KeyError, TypeError):
        pid_text = folder.name[len(PREFIX):].split("-", 1)[0]
        return (int(pid_text), "") if pid_text.isdigit() else None


def remove_stale(root: Path | None = None) -> list[Path]:
    """Remove the folders, regions and left-over stub processes of servers whose owner process is gone."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        owner = _owner(folder)
        if owner is None or process_alive(owner[0]):
            continue  # not ours to judge, or still running
        end_processes(folder)
        if owner[1]:
            remove_shm(owner[1])
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def create(root: Path | None = None) -> Workdir:
    """A fresh folder for one server (after removing dead servers' leftovers), named after this process so that
    even a start interrupted before ``owner.json`` is written can be judged later."""
    remove_stale(root)
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
    try:
        workdir = Workdir(path, f"{SHM_BASE}{os.getpid()}_{secrets.token_hex(4)}_")  # the form SHM_PREFIX matches
        (path / OWNER_FILE).write_text(json.dumps({"pid": os.getpid(), "shm_prefix": workdir.shm_prefix}))
    except BaseException:  # SIGTERM (the CLI's exception) or a full disk between the two steps
        shutil.rmtree(path, ignore_errors=True)
        raise
    return workdir
