"""Killed runs leave nothing behind: SIGTERM cleans up like Ctrl-C (exit 143, one sentence); after SIGKILL, the
next run removes the dead process's temporary file and scratch folder (they carry its PID)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gnet.atomic import TEMP_MARK, atomic_output, remove_stale, scratch_dir

EXPORT = [sys.executable, "-m", "gnet", "export", "--weights", "random", "--image-size", "96",
          "--parity-batches", "1,2,3,4,5,6,7,8"]  # a longer run: a wider window to catch its scratch folder


def _start(out: Path, tmp: Path) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.Popen([*EXPORT, "-o", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 240.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def _strays(out: Path, tmp: Path) -> list[str]:
    found = [p.name for p in out.parent.iterdir() if TEMP_MARK in p.name]
    return found + [p.name for p in tmp.iterdir() if p.name.startswith("gnet-")]


@pytest.fixture
def export_paths(tmp_path: Path) -> tuple[Path, Path]:
    """(the export's output file, in a folder of its own; the temp folder the export process is given)."""
    out, tmp = tmp_path / "out" / "m.onnx", tmp_path / "tmp"
    out.parent.mkdir()
    tmp.mkdir()
    return out, tmp


HOLD_MID_WRITE = """
import sys
from pathlib import Path
from gnet.atomic import atomic_output, scratch_dir
with scratch_dir("export"), atomic_output(Path(sys.argv[1])) as part:
    part.write_bytes(b"half a model")
    print("mid-write", flush=True)
    sys.stdin.read()  # held here until killed: no race with how fast this machine exports
"""


@pytest.mark.slow
def test_sigkill_mid_write_then_the_next_run_leaves_nothing(export_paths: tuple[Path, Path]):
    out, tmp = export_paths
    proc = subprocess.Popen([sys.executable, "-c", HOLD_MID_WRITE, str(out)], env={**os.environ, "TMPDIR": str(tmp)},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "mid-write"
    proc.kill()
    proc.wait()
    assert len(_strays(out, tmp)) == 2 and not out.exists()  # what SIGKILL leaves: the PID-named file and folder
    again = _start(out, tmp)
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    assert out.is_file() and _strays(out, tmp) == []


@pytest.mark.slow
def test_sigterm_is_a_clean_stop_with_exit_143(export_paths: tuple[Path, Path]):
    out, tmp = export_paths
    proc = _start(out, tmp)
    assert _wait_for(lambda: any(p.name.startswith("gnet-export-") for p in tmp.iterdir()), proc)
    proc.send_signal(signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "terminated" in stderr and "Traceback" not in stderr
    assert _strays(out, tmp) == [] and not out.exists()


def test_only_dead_owners_are_cleaned(tmp_path: Path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".m.onnx{TEMP_MARK}{dead_pid}-abc123"
    alive = tmp_path / f".m.onnx{TEMP_MARK}{os.getppid()}-abc123"
    foreign = tmp_path / ".m.onnx.somebody-elses.tmp"
    for path in (stale, alive, foreign):
        path.write_text("x")
    assert remove_stale(tmp_path) == [stale]
    assert alive.exists() and foreign.exists()
    with atomic_output(tmp_path / "m.onnx") as written:
        assert TEMP_MARK + str(os.getpid()) in written.name
        written.write_text("done")
    with scratch_dir("test") as work:
        assert work.name.startswith(f"gnet-test-{os.getpid()}-")
    assert not work.exists()
