"""Atomic writes and scratch folders that never outlive their process.

A failed run never leaves a half-written file or destroys the previous one: every artifact is
written to a temporary file beside it and renamed over it only when complete. Temporary files
and scratch folders carry gnet's name and the owner's PID (``.model.onnx.gnet-tmp-<pid>-<random>``,
``gnet-export-<pid>-<random>``), so a run that was killed (SIGKILL, a power cut) is cleaned up by
the next one: whatever belongs to a process that no longer exists is removed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gnet.errors import GnetError

TEMP_MARK = ".gnet-tmp-"
_TEMP_FILE = re.compile(r"^\..+" + re.escape(TEMP_MARK) + r"(\d+)-[A-Za-z0-9_]+$")
_SCRATCH_DIR = re.compile(r"^gnet-[a-z0-9]+-(\d+)-[A-Za-z0-9_]+$")
_NO_SPACE = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is exceeded",
             errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
             errno.EFBIG: "the file is larger than this system allows"}


def process_alive(pid: int) -> bool:
    """True when a process with this PID exists (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: Path, pattern: re.Pattern[str] = _TEMP_FILE) -> list[Path]:
    """Remove what ``pattern`` marks as gnet's in ``folder`` and whose owner PID is gone; return what was removed."""
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or int(match.group(1)) == os.getpid() or process_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            removed.append(entry)
    return removed


def temp_prefix(dest: Path) -> str:
    """``.<name>.gnet-tmp-<pid>-``: how every temporary beside ``dest`` starts, so :func:`remove_stale` knows its owner."""
    return f".{dest.name}{TEMP_MARK}{os.getpid()}-"


def ensure_writable_dir(path: Path) -> None:
    """Create the folder that will hold ``path`` and prove we may write there."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GnetError(f"cannot create the output folder {folder}", str(exc.strerror or exc)) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise GnetError(f"cannot write to {folder}", "permission denied")
    if path.is_dir():
        raise GnetError(f"the output path {path} is a folder", remedy="give a file name")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    A full disk (or a quota, a read-only file system) while writing becomes one sentence; the
    previous file at ``path`` is untouched either way.
    """
    dest = Path(path)
    ensure_writable_dir(dest)
    remove_stale(dest.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(dest), dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _disk_trouble_in_one_sentence(dest, "the previous file was kept"):
            yield tmp
            # mkstemp creates 0600 files; give the artifact the permissions a plain open() would have.
            os.chmod(tmp, 0o666 & ~current_umask())
            os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _disk_trouble_in_one_sentence(dest: Path, kept: str) -> Iterator[None]:
    """A full disk (or a quota, a read-only file system) while writing ``dest`` becomes one sentence."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _NO_SPACE:
            raise
        raise GnetError(f"cannot write {dest}", _NO_SPACE[exc.errno],
                        f"free some space (or write elsewhere with -o); {kept}") from None


@contextlib.contextmanager
def atomic_files(*paths: Path) -> Iterator[list[Path]]:
    """:func:`atomic_output` for files that belong together (an OpenVINO IR's .bin and .xml): yield the same
    names in a staging folder beside the first (``.<name>.gnet-tmp-<pid>-…``), and move each onto its path,
    in the order given, only if the block succeeds; otherwise nothing is touched."""
    dest = [Path(p) for p in paths]
    ensure_writable_dir(dest[0])
    remove_stale(dest[0].parent)
    with (_disk_trouble_in_one_sentence(dest[-1], "the previous files were kept"),
          tempfile.TemporaryDirectory(prefix=temp_prefix(dest[0]), dir=dest[0].parent) as tmp):
        staged = [Path(tmp) / p.name for p in dest]
        yield staged
        for source, target in zip(staged, dest):
            os.replace(source, target)


@contextlib.contextmanager
def scratch_dir(purpose: str) -> Iterator[Path]:
    """A temporary folder ``gnet-<purpose>-<pid>-…`` in the system's temp folder, removed on exit.

    Stale ones left by killed gnet processes are removed first.
    """
    root = Path(tempfile.gettempdir())
    remove_stale(root, _SCRATCH_DIR)
    with tempfile.TemporaryDirectory(prefix=f"gnet-{purpose}-{os.getpid()}-", dir=root) as tmp:
        yield Path(tmp)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))
