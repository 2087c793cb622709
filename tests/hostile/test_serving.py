"""``gnet serve`` tried as a hostile user would (issue 19): requests that killed tritonserver, a server that dies
anyway, two starts racing for the same ports, names and addresses tritonserver mishandles, a log file that
would overwrite the model, and what a killed start or a SIGKILLed server leaves behind. Loopback only."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import psutil
import pytest

from gnet.errors import GnetError, UsageError
from gnet.serve import service as service_mod
from gnet.serve import workdir
from gnet.serve.client import Client
from gnet.serve.service import TritonService, listen_address
from tests.helpers.cli import assert_one_sentence_failure, invoke
from tests.helpers.serving import free_ports, needs_serving, serve_config


def _post(url: str, body: bytes, content_type: str | None, extra: dict[str, str] | None = None) -> tuple[int, str]:
    headers = {**({"Content-Type": content_type} if content_type else {}), **(extra or {})}
    request = urllib.request.Request(f"http://{url}/v2/models/googlenet/infer", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def _json_request(shape: list[int], data: list[float]) -> bytes:
    return json.dumps({"inputs": [{"name": "input", "shape": shape, "datatype": "FP32", "data": data}]}).encode()


KILLERS = {  # request that aborted or crashed tritonserver 2.51, or got a wrong answer → (status, words)
    "shape bomb": (lambda: _post_args(_json_request([4096, 3, 100000, 100000], [0.0]), "application/json"),
                   400, "a batch of 4096 is over this server's maximum of 8"),
    "values bomb": (lambda: _post_args(_json_request([1, 3, 100000, 100000], [0.0]), "application/json"),
                    400, "holds 30000000000 values, more than a batch of 8 images"),
    "large form post": (lambda: _post_args(b"a" * 3_000_000, "application/x-www-form-urlencoded"),
                        400, "the request is not valid JSON"),
    "form post over any request's size": (lambda: _post_args(b"a" * 5_000_000, "application/x-www-form-urlencoded"),
                                          413, "is larger than any valid request here"),
    "declared header past the body": (lambda: _post_args(b"{}", "application/octet-stream",
                                                         {"Inference-Header-Content-Length": "999"}),
                                      400, "is not within the body"),
    "malformed JSON": (lambda: _post_args(b"{not json", "application/json"), 400, "the request is not valid JSON"),
    "body larger than any request": (lambda: _post_args(b"0" * (8 * 3 * 64 * 64 * 24 + (1 << 20) + 1), None),
                                     413, "is larger than any valid request here"),
}


def _post_args(body: bytes, content_type: str | None, extra: dict[str, str] | None = None):
    return body, content_type, extra


@pytest.fixture(scope="module")
def service(serve_model: Path):
    """This module's own server (the serving tests' session server checks it is the only one of its kind)."""
    from tests.helpers.serving import serving_missing

    if serving_missing():
        pytest.skip(f"Triton serving is not installed here: {serving_missing()}")
    with TritonService(serve_config(serve_model), log=lambda text: None) as svc:
        yield svc


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(11).standard_normal((2, 3, 64, 64)).astype(np.float32)


@pytest.fixture(scope="module")
def reference(serve_model: Path, images: np.ndarray) -> np.ndarray:
    from gnet.checks.ort import cpu_session

    return cpu_session(serve_model).run(None, {"input": images})[0]


@pytest.mark.timeout(300)
@needs_serving()
@pytest.mark.parametrize("case", list(KILLERS))
def test_a_request_that_killed_the_server_is_refused_and_the_next_is_answered(service, images, reference, case):
    make, status, words = KILLERS[case]
    pid = service.pid
    code, text = _post(service.http_url, *make())
    assert code == status and words in json.loads(text)["error"], text
    assert service.pid == pid and service.alive()
    with Client(service.http_url, "http") as client:
        assert float(np.abs(client.infer(images[:1]) - reference[:1]).max()) <= 1e-5


def _raw(url: str, method: str, target: str, body: bytes = b"", headers: list[tuple[str, str]] = ()) -> tuple[int, str]:
    """One request exactly as written (an absolute URL, a repeated header), over http.client."""
    import http.client

    host, port = url.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for key, value in headers:
            conn.putheader(key, value)
        if body or method == "POST":
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        reply = conn.getresponse()
        return reply.status, reply.read().decode()
    finally:
        conn.close()


BOMB_SHAPE = [4096, 3, 100000, 100000]
SNEAKS = {  # what a review found could still reach tritonserver past the first gateway → (request, status, words)
    "repeated shape key": (("POST", "/v2/models/googlenet/infer",
                            b'{"inputs":[{"name":"input","datatype":"FP32","shape":[4096,3,100000,100000],'
                            b'"shape":[1,3,64,64],"data":[0]}]}', [("Content-Type", "application/json")]),
                           400, "a key appears more than once"),
    "absolute URL": (("POST", "http://x/v2/models/googlenet/infer", _json_request(BOMB_SHAPE, [0.0]), []),
                     400, "must be a plain path"),
    "generate endpoint": (("POST", "/v2/models/googlenet/generate", b"[" * 100_000, []),
                          405, "only inference"),
    "deeply nested JSON": (("POST", "/v2/models/googlenet/infer", b"[" * 100_000, []), 400, "not valid JSON"),
    "restricted API": (("POST", "/v2/repository/index", b"{}", []), 403, "not served here"),
    "restricted API read": (("GET", "/v2/logging", b"", []), 403, "not served here"),
    "GET with a body": (("GET", "/v2/health/ready", b"x" * 10, []), 400, "has no body"),
    "compressed body": (("POST", "/v2/models/googlenet/infer", b"{}", [("Content-Encoding", "gzip")]),
                        415, "uncompressed"),
    "two header lengths": (("POST", "/v2/models/googlenet/infer", b'{"inputs":[]}' + b"\0" * 8,
                            [("Inference-Header-Content-Length", "13"), ("Inference-Header-Content-Length", "21")]),
                           400, "appears more than once"),
}


@pytest.mark.timeout(300)
@needs_serving()
@pytest.mark.parametrize("case", list(SNEAKS))
def test_what_could_sneak_past_the_gateway_is_refused_and_the_next_request_answered(service, images, reference, case):
    (method, target, body, headers), status, words = SNEAKS[case]
    pid = service.pid
    code, text = _raw(service.http_url, method, target, body, headers)
    assert code == status and words in json.loads(text)["error"], text
    assert service.pid == pid and service.alive()
    with Client(service.http_url, "http") as client:
        assert float(np.abs(client.infer(images[:1]) - reference[:1]).max()) <= 1e-5


@pytest.mark.timeout(300)
@needs_serving()
def test_a_json_request_through_the_gateway_is_answered_like_a_binary_one(service, images, reference):
    code, text = _post(service.http_url, _json_request([1, 3, 64, 64], images[0].ravel().tolist()),
                       "application/x-www-form-urlencoded")  # curl -d's default type: rewritten, not a crash
    assert code == 200, text
    logits = np.array(json.loads(text)["outputs"][0]["data"], np.float32)
    assert float(np.abs(logits - reference[0]).max()) <= 1e-4


@pytest.mark.timeout(300)
@needs_serving()
def test_a_server_that_dies_is_restarted_and_readiness_says_so_meanwhile(serve_model, images):
    with TritonService(serve_config(serve_model), log=lambda text: None) as service:
        dead = service.pid
        stubs = [p.pid for p in psutil.Process(dead).children(recursive=True)]
        os.kill(dead, signal.SIGKILL)
        psutil.Process(dead).wait(timeout=30)
        status = urllib.request.Request(f"http://{service.http_url}/v2/health/ready")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(status, timeout=10)
        assert caught.value.code == 503 and "restarting" in caught.value.read().decode()
        assert not service.alive()
        service.restart()
        assert service.alive() and service.pid != dead and len(service.restarts) == 1
        assert "exited" in service.restarts[0] or service.restarts[0]
        assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                       for pid in stubs)  # the dead server's stubs were ended (issue 19 #16)
        with Client(service.http_url, "http") as client:
            assert client.infer(images[:1]).shape == (1, 10)


@pytest.mark.timeout(300)
@needs_serving()
def test_two_starts_on_the_same_ports_never_both_say_ready(serve_model):
    """Issue 19 #10: both printed "ready"; the loser's checks were answered by the winner."""
    config = serve_config(serve_model)
    services = [TritonService(config, log=lambda text: None) for _ in range(2)]
    outcomes: list[object] = [None, None]

    def start(index: int) -> None:
        try:
            services[index].start()
            outcomes[index] = "ready"
        except GnetError as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
        assert sorted(map(str, outcomes)).count("ready") == 1, outcomes
        loser = next(o for o in outcomes if o != "ready")
        assert isinstance(loser, UsageError) and "Address already in use" in str(loser)
    finally:
        for svc in services:
            svc.stop()


@pytest.mark.timeout(300)
@needs_serving()
def test_a_server_that_is_not_this_starts_is_never_taken_for_it(service, serve_model, monkeypatch):
    """Another tritonserver answering on the loopback port this start chose: refused, not "ready"."""
    taken = service._gateway._server.upstream_port  # the running server's own HTTP port
    monkeypatch.setattr(service_mod, "loopback_ports", lambda: (taken, free_ports(1)[0]))
    other = TritonService(serve_config(serve_model), log=lambda text: None)
    with pytest.raises(GnetError, match="Triton could not start serving"):
        other.start()
    assert other.pid is None and service.alive()


def test_host_names_become_addresses_and_bad_hosts_are_one_sentence():
    assert listen_address("localhost") == "127.0.0.1"  # issue 19 #11: tritonserver bound 255.255.255.255
    assert listen_address("::1") == "::1"
    assert service_mod.url_host("::1") == "[::1]" and service_mod.url_host("127.0.0.1") == "127.0.0.1"
    with pytest.raises(UsageError, match="cannot listen on --host no.such.host.invalid: it is not an address"):
        listen_address("no.such.host.invalid")
    error = service_mod.port_error("192.0.2.1", 8000, OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"))
    assert str(error) == ("cannot listen on --host 192.0.2.1: it is not an address of this machine; give an address "
                          "of this machine: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)")


@pytest.mark.timeout(300)
@needs_serving()
@pytest.mark.parametrize(("host", "url"), [("::1", "[::1]"), ("localhost", "127.0.0.1")])
def test_a_host_name_or_an_ipv6_host_is_served(serve_model, images, host, url):
    """Issue 19 #12: ``--host ::1`` was a traceback (a URL without brackets); #11: ``--host localhost`` never became
    ready (tritonserver listened on 255.255.255.255)."""
    with TritonService(serve_config(serve_model, host=host), log=lambda text: None) as service:
        assert service.http_url.startswith(f"{url}:") and service.grpc_url.startswith(f"{url}:")
        metrics = f"http://{url}:{service.config.metrics_port}/metrics"
        assert b"nv_inference" in urllib.request.urlopen(metrics, timeout=10).read()
        for protocol in ("http", "grpc"):
            with Client(service.url(protocol), protocol) as client:
                assert client.infer(images[:1]).shape == (1, 10)


def test_a_log_file_that_would_overwrite_the_model_is_refused(serve_model: Path, tmp_path: Path):
    """Issue 19 #3: ``--log-file MODEL`` truncated the model into a log."""
    before = serve_model.read_bytes()
    assert_one_sentence_failure(invoke("serve", str(serve_model), "--log-file", str(serve_model)),
                                "is the model being served")
    other = tmp_path / "other.onnx"
    other.write_bytes(b"keep me")
    assert_one_sentence_failure(invoke("serve", str(serve_model), "--log-file", str(other)),
                                "is named like a model or manifest")
    assert serve_model.read_bytes() == before and other.read_bytes() == b"keep me"


@pytest.mark.timeout(300)
@needs_serving()
def test_a_log_file_that_cannot_be_written_is_one_sentence(serve_model, tmp_path, monkeypatch):
    """Issue 19 #12: EROFS on --log-file was a traceback."""
    log = tmp_path / "triton.log"
    real_open = Path.open

    def read_only(self, mode="r", *args, **kwargs):
        if self == log and "r" not in mode:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", read_only)
    svc = TritonService(serve_config(serve_model, log_file=log), log=lambda text: None)
    with pytest.raises(UsageError, match="cannot write the log file .*triton.log: Read-only file system; choose"):
        svc.start()
    assert svc.pid is None and svc._gateway is None


def test_an_interrupted_start_and_a_killed_server_leave_nothing_for_long(tmp_path: Path):
    """Issue 19 #13 and #16: a folder without owner.json, and a stub orphaned by a SIGKILL, outlived their owner."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    bare = tmp_path / f"{workdir.PREFIX}{dead.pid}-abc"  # SIGTERM between mkdtemp and owner.json
    bare.mkdir()
    orphan_dir = tmp_path / f"{workdir.PREFIX}{dead.pid}-def"
    (orphan_dir / "models").mkdir(parents=True)
    (orphan_dir / workdir.OWNER_FILE).write_text(json.dumps({"pid": dead.pid, "shm_prefix": "gnet_test_none_"}))
    stub = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", str(orphan_dir / "models" / "model.py")])
    live = tmp_path / f"{workdir.PREFIX}{os.getpid()}-ghi"  # ours, running: kept
    live.mkdir()
    try:
        removed = workdir.remove_stale(tmp_path)
        assert sorted(p.name for p in removed) == sorted([bare.name, orphan_dir.name])
        assert stub.wait(timeout=30) == -signal.SIGKILL
        assert sorted(p.name for p in tmp_path.iterdir()) == [live.name]
    finally:
        if stub.poll() is None:
            stub.kill()


def test_a_start_interrupted_while_making_its_folder_removes_it(tmp_path: Path, monkeypatch):
    class Terminated(BaseException):
        pass

    def interrupted(*args, **kwargs):
        raise Terminated()

    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(Terminated):
        workdir.create(tmp_path)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_serving_a_tensorrt_rtx_plan_names_the_onnx_not_triton_repo(tmp_path: Path):
    plan = tmp_path / "googlenet_fp16.rtx.plan"
    plan.write_bytes(b"rtx")
    result = invoke("serve", str(plan))
    assert_one_sentence_failure(result, "a TensorRT-RTX plan, which no Triton backend runs", "serve the ONNX")
    assert "triton-repo" not in result.output


def test_a_planted_owner_file_cannot_make_the_clean_up_remove_anothers_shared_memory(tmp_path: Path):
    """A review found: any local user could plant owner.json with a dead pid and another program's prefix."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    victim = workdir.SHM / f"psm_gnet_test_{os.getpid()}"
    victim.write_bytes(b"not gnet's")
    planted = tmp_path / f"{workdir.PREFIX}{dead.pid}-zzz"
    planted.mkdir()
    (planted / workdir.OWNER_FILE).write_text(json.dumps({"pid": dead.pid, "shm_prefix": "psm_"}))
    try:
        assert workdir.remove_stale(tmp_path) == [planted]  # the dead owner's folder goes
        assert victim.exists()  # the region it named does not: not a prefix gnet writes
    finally:
        victim.unlink(missing_ok=True)
