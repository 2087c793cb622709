"""What the serving tests share: whether serving can run here, free ports, and what a server leaves behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from gnet.errors import GnetError
from gnet.serve.service import ServeConfig

MAX_BATCH = 8
"""The test server's ``max_batch_size``: a batch of 9 is over it."""
QUEUE_DELAY_US = 100_000
"""The test server's queue delay: requests sent together within 100 ms are batched together."""


def serving_missing() -> str:
    """Why Triton serving cannot run here ("" when it can): the bundled server, tritonclient, the stub environment."""
    from gnet.serve import bundle, stub_env

    try:
        bundle.find_bundle()
        bundle.require_client()
        stub_env.check()
    except GnetError as exc:
        return str(exc)
    return ""


def needs_serving() -> pytest.MarkDecorator:
    """Skip (with the reason) where ``make install-serve`` has not installed the serving files."""
    missing = serving_missing()
    return pytest.mark.skipif(bool(missing), reason=f"Triton serving is not installed here: {missing}")


def free_ports(count: int = 3) -> list[int]:
    """Distinct loopback ports nothing listens on now."""
    from gnet.bench.runners.triton import free_loopback_ports

    return free_loopback_ports(count)


def server_folders(pid: int) -> list[Path]:
    """The ``gnet-triton-*`` folders a process ``pid`` owns (should be none once its servers stopped)."""
    import json

    found = []
    for folder in Path(tempfile.gettempdir()).glob("gnet-triton-*"):
        try:
            if json.loads((folder / "owner.json").read_text())["pid"] == pid:
                found.append(folder)
        except (OSError, ValueError, KeyError):
            continue
    return found


def serve_config(model: Path, **extra: object) -> ServeConfig:
    """A test server's configuration: loopback, free ports, :data:`MAX_BATCH`."""
    http, grpc, metrics = free_ports(3)
    return ServeConfig(model=model, http_port=http, grpc_port=grpc, metrics_port=metrics, max_batch=MAX_BATCH,
                       **extra)  # type: ignore[arg-type]

