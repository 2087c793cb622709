"""``gnet serve``'s server on a real Triton (the bundled tritonserver running gnet's python-backend model).

Loopback only, ports the kernel picked, every loop bounded in count and time. The session's server
(``conftest.py``) is checked clean after the last test: no process, no workspace, /dev/shm unchanged.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import pytest

from gnet.errors import GnetError, NotAvailable, UsageError
from gnet.serve.client import Client, served_logits
from gnet.serve.service import TritonService
from gnet.serve.workdir import shm_entries
from tests.helpers.serving import MAX_BATCH, needs_serving, serve_config, server_folders

pytestmark = [needs_serving(), pytest.mark.timeout(300)]
PROTOCOLS = ["http", "grpc"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("batch", [1, MAX_BATCH])
def test_served_logits_equal_the_in_process_session(service, images, reference, protocol, batch):
    served = served_logits(service.url(protocol), protocol, images, batch)
    assert served.shape == reference.shape
    assert float(np.abs(served - reference).max()) <= 1e-5


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_eight_clients_fifty_requests_each_lose_nothing(service, images, reference, protocol):
    def client_run(index: int) -> list[float]:
        one = images[index:index + 1]
        with Client(service.url(protocol), protocol, timeout_s=60) as client:
            return [float(np.abs(client.infer(one) - reference[index:index + 1]).max()) for _ in range(50)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        errors = [e for run in pool.map(client_run, range(8), timeout=240) for e in run]
    assert len(errors) == 400 and max(errors) <= 1e-5  # every request answered, each with its own image's logits


def test_start_reports_what_it_serves_and_ready_means_answered(service):
    assert service.signature is not None and service.signature.dims == (3, 64, 64)
    assert service.startup_s > 0 and service.alive()
    with Client(service.http_url, "http") as client:
        executions, inferences = client.statistics()
    assert inferences >= 1  # the warm-up request went through the server before start() returned


def test_a_missing_or_corrupt_model_is_one_sentence_and_leaves_nothing(tmp_path):
    folders = set(server_folders(os.getpid()))  # the session's server has one
    with pytest.raises(GnetError, match="does not exist"):
        TritonService(serve_config(tmp_path / "gone.onnx")).start()
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x00not a model")
    with pytest.raises(GnetError, match="not a readable ONNX file"):
        TritonService(serve_config(corrupt)).start()
    assert set(server_folders(os.getpid())) == folders


def test_a_model_onnx_runtime_refuses_fails_the_start_with_its_reason(serve_model, tmp_path):
    import onnx

    model = onnx.load(str(serve_model))
    model.graph.node[2].op_type = "NoSuchOp"
    broken = tmp_path / "broken.onnx"
    onnx.save(model, str(broken))
    shm_before, folders = shm_entries(), set(server_folders(os.getpid()))
    service = TritonService(serve_config(broken))
    with pytest.raises(NotAvailable, match="Triton could not start serving broken.onnx.*NoSuchOp"):
        service.start()
    assert service.pid is None and set(server_folders(os.getpid())) == folders and shm_entries() - shm_before == set()


def test_a_port_in_use_is_refused_before_starting(serve_model):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        config = serve_config(serve_model)
        config = type(config)(**{**config.__dict__, "grpc_port": busy.getsockname()[1]})
        with pytest.raises(UsageError, match=f"cannot serve on 127.0.0.1:{busy.getsockname()[1]}: Address already in use"):
            TritonService(config).start()


def test_stop_leaves_no_process_no_folder_and_no_shared_memory(serve_model):
    shm_before, folders = shm_entries(), set(server_folders(os.getpid()))
    with TritonService(serve_config(serve_model)) as service:
        pid = service.pid
        assert pid is not None and psutil.pid_exists(pid) and set(server_folders(os.getpid())) > folders
        with Client(service.grpc_url, "grpc") as client:  # a client still connected must not delay the stop
            client.infer(np.zeros((1, 3, 64, 64), np.float32))
            service.stop()
    assert not psutil.pid_exists(pid)
    assert set(server_folders(os.getpid())) == folders
    assert service.leaked_shm == [] and shm_entries() - shm_before == set()


def test_options_that_cannot_work_are_refused(serve_model):
    config = serve_config(serve_model)
    same = type(config)(**{**config.__dict__, "grpc_port": config.http_port})
    with pytest.raises(UsageError, match="must differ"):
        TritonService(same).start()
    preferred = type(config)(**{**config.__dict__, "preferred": (4, 16)})
    with pytest.raises(UsageError, match="exceeds --max-batch"):
        TritonService(preferred).start()


def test_the_stub_sees_this_interpreters_libpython(service):
    """The libpython fix: every stub process maps the running interpreter's libpython, not the system's."""
    from gnet.serve.server_env import interpreter_libpython

    lib = interpreter_libpython()
    if lib is None:
        pytest.skip("this interpreter is statically linked")
    stubs = [p for p in psutil.Process(service.pid).children() if "triton_python_backend_stub" in " ".join(p.cmdline())]
    assert len(stubs) == 2  # one per instance
    for stub in stubs:
        mapped = {Path(m.path).resolve() for m in stub.memory_maps() if "libpython" in m.path}
        assert mapped == {lib.resolve()}


def _send(service: TritonService, protocol: str, array: np.ndarray, dtype: str, name: str = "input"):
    """One raw request (any name, dtype, shape) with tritonclient; returns the logits or raises its exception."""
    import tritonclient.grpc as grpc
    import tritonclient.http as http

    module = http if protocol == "http" else grpc
    client = module.InferenceServerClient(service.url(protocol))
    try:
        item = module.InferInput(name, list(array.shape), dtype)
        item.set_data_from_numpy(array)
        return client.infer("googlenet", [item]).as_numpy("logits")
    finally:
        client.close()


REFUSED_BY_TRITON = {  # case → (array, Triton dtype, input name, words of Triton's error)
    "wrong shape": (np.zeros((1, 3, 65, 64), np.float32), "FP32", "input", "unexpected shape for input 'input'"),
    "no batch axis": (np.zeros((3, 64, 64), np.float32), "FP32", "input", "unexpected shape for input 'input'"),
    "wrong dtype": (np.zeros((1, 3, 64, 64), np.float64), "FP64", "input",
                    "data-type is 'FP64', but model 'googlenet' expects 'FP32'"),
    "wrong input name": (np.zeros((1, 3, 64, 64), np.float32), "FP32", "images",
                         "unexpected inference input 'images' for model 'googlenet'"),
    "batch over the maximum": (np.zeros((MAX_BATCH + 1, 3, 64, 64), np.float32), "FP32", "input",
                               f"batch-size must be <= {MAX_BATCH}"),
}


REFUSED_BY_THE_GATEWAY = {"batch over the maximum": f"a batch of {MAX_BATCH + 1} is over this server's maximum of "
                                                     f"{MAX_BATCH}; split it into smaller requests"}
"""HTTP requests gnet's gateway answers itself, in its own words (gRPC goes to Triton)."""


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", list(REFUSED_BY_TRITON))
def test_triton_refuses_a_malformed_request_and_keeps_serving(service, images, reference, protocol, case):
    from tritonclient.utils import InferenceServerException

    array, dtype, name, words = REFUSED_BY_TRITON[case]
    words = REFUSED_BY_THE_GATEWAY.get(case, words) if protocol == "http" else words
    with pytest.raises(InferenceServerException) as caught:
        _send(service, protocol, array, dtype, name)
    assert words in caught.value.message()
    assert caught.value.status() == ("400" if protocol == "http" else "StatusCode.INVALID_ARGUMENT")
    out = _send(service, protocol, images[:1], "FP32")
    assert float(np.abs(out - reference[:1]).max()) <= 1e-5
