"""Each server's folder and shared-memory prefix, and the clean-up after a server whose owner died."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from gnet.serve import workdir


def test_a_workdir_records_its_owner_and_removes_itself_with_its_regions(tmp_path):
    made = workdir.create(tmp_path)
    owner = json.loads((made.path / workdir.OWNER_FILE).read_text())
    assert owner == {"pid": os.getpid(), "shm_prefix": made.shm_prefix}
    region = workdir.SHM / f"{made.shm_prefix}test-region"
    region.write_bytes(b"left behind")
    assert made.remove() == [region.name]
    assert not made.path.exists() and not region.exists()


def test_stale_folders_of_dead_owners_go_and_live_ones_stay(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    live = workdir.create(tmp_path)  # this process: alive
    gone = workdir.create(tmp_path)
    (gone.path / workdir.OWNER_FILE).write_text(json.dumps({"pid": int(dead.stdout), "shm_prefix": gone.shm_prefix}))
    region = workdir.SHM / f"{gone.shm_prefix}stale"
    region.write_bytes(b"x")
    other = workdir.SHM / "not_ours_region"
    unknown = tmp_path / f"{workdir.PREFIX}half-made"
    unknown.mkdir()  # no owner file yet: not ours to judge
    try:
        other.write_bytes(b"y")
        assert workdir.remove_stale(tmp_path) == [gone.path]
        assert not gone.path.exists() and not region.exists() and other.exists()
        assert live.path.exists() and unknown.exists()
    finally:
        other.unlink(missing_ok=True)
        live.remove()
