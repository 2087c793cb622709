"""One real Triton server for the serving tests (loopback, ports the kernel picked), checked clean after them.

Two instances (two stub processes, each with its own ONNX Runtime session), ``max_batch_size`` 8 and a
100 ms queue delay: requests sent together are batched together, which the co-batching test relies on.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import psutil
import pytest

from gnet.serve.service import TritonService
from gnet.serve.workdir import shm_entries
from tests.helpers.serving import QUEUE_DELAY_US, serve_config, server_folders


@pytest.fixture(scope="session")
def service(serve_model: Path):
    from tests.helpers.serving import serving_missing

    missing = serving_missing()
    if missing:
        pytest.skip(f"Triton serving is not installed here: {missing}")
    shm_before = shm_entries()
    svc = TritonService(serve_config(serve_model, instances=2, queue_delay_us=QUEUE_DELAY_US))
    svc.start()
    pid = svc.pid
    yield svc
    svc.stop()
    assert svc.leaked_shm == []
    assert shm_entries() - shm_before == set()
    assert not psutil.pid_exists(pid)
    assert server_folders(os.getpid()) == []


@pytest.fixture(scope="session")
def images(service: TritonService) -> np.ndarray:
    assert service.signature is not None
    return np.random.default_rng(7).standard_normal((16, *service.signature.dims)).astype(np.float32)


@pytest.fixture(scope="session")
def reference(serve_model: Path, images: np.ndarray) -> np.ndarray:
    """The same images through an in-process ONNX Runtime session of the same file."""
    from gnet.checks.ort import cpu_session

    return cpu_session(serve_model).run(None, {"input": images})[0]
