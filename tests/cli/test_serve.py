"""``gnet serve``, ``gnet triton-repo`` and ``gnet triton-stub-env`` on the command line.

``gnet serve`` runs as a real process (``python -m gnet serve``) so that it can be sent SIGINT and
SIGTERM: it must print "ready" only once a request was answered, and stop cleanly on either signal
(exit 143 or 130, no process, no folder, /dev/shm unchanged). Loopback, free ports, bounded waits.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gnet.serve.workdir import shm_entries
from tests.helpers.cli import assert_one_sentence_failure, invoke
from tests.helpers.manifests import fake_plan
from tests.helpers.serving import free_ports, needs_serving, server_folders


def _wait_for_line(path: Path, words: str, proc: subprocess.Popen, timeout_s: float = 180.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        text = path.read_text()
        if words in text:
            return text
        time.sleep(0.2)
    return path.read_text()


@needs_serving()
@pytest.mark.timeout(300)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_gnet_serve_is_ready_after_a_request_and_stops_cleanly_on_a_signal(serve_model, tmp_path, signum):
    from gnet.serve.client import Client

    http, grpc, metrics = free_ports(3)
    before = shm_entries()
    out = tmp_path / "out.txt"
    with out.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "gnet", "serve", str(serve_model), "--http-port", str(http),
                                 "--grpc-port", str(grpc), "--metrics-port", str(metrics)],
                                stdout=sink, stderr=subprocess.STDOUT, text=True)
    try:
        text = _wait_for_line(out, "ready:", proc)
        assert f"ready: googlenet (googlenet_fp32.onnx, fp32, input [3, 64, 64], 10 classes, 1 instance(s)) on " \
               f"http://127.0.0.1:{http} grpc://127.0.0.1:{grpc} metrics http://127.0.0.1:{metrics}/metrics" in text
        with Client(f"127.0.0.1:{http}", "http") as client:
            assert client.statistics()[1] == 1  # the warm-up request, answered before "ready"
        server = [p for p in psutil.Process(proc.pid).children(recursive=True) if p.name() == "tritonserver"]
        assert len(server) == 1
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == (143 if signum == signal.SIGTERM else 130)  # README: 143 SIGTERM, 130 Ctrl-C
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    last = out.read_text().rstrip().splitlines()[-1]
    assert last == ("terminated (SIGTERM): stopped cleanly; nothing half-written was left behind"
                    if signum == signal.SIGTERM else "interrupted")
    assert not psutil.pid_exists(server[0].pid)
    assert server_folders(proc.pid) == [] and shm_entries() - before == set()


def test_serve_refuses_what_it_cannot_serve_in_one_sentence(serve_model, tmp_path):
    assert_one_sentence_failure(invoke("serve", str(tmp_path / "gone.onnx")), "cannot serve", "does not exist")
    (tmp_path / "googlenet_fp16.plan").write_bytes(b"plan")
    assert_one_sentence_failure(invoke("serve", str(tmp_path / "googlenet_fp16.plan")), "tensorrt_plan backend")
    http, grpc, metrics = free_ports(3)
    assert_one_sentence_failure(invoke("serve", str(serve_model), "--http-port", str(http), "--grpc-port", str(http)),
                                "must differ")
    assert_one_sentence_failure(invoke("serve", str(serve_model), "--preferred-batch", "8,128"), "exceeds --max-batch 64")


@needs_serving()
def test_serve_refuses_a_port_in_use_before_starting(serve_model):
    folders = set(server_folders(os.getpid()))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        http, grpc, metrics = free_ports(3)
        result = invoke("serve", str(serve_model), "--http-port", str(http), "--grpc-port", str(grpc),
                        "--metrics-port", str(port))
    assert_one_sentence_failure(result, f"cannot serve on 127.0.0.1:{port}: Address already in use",
                                "choose another --http-port/--grpc-port/--metrics-port")
    assert set(server_folders(os.getpid())) == folders


@needs_serving()
def test_triton_repo_writes_one_model_per_artifact_and_refuses_another_tensorrt(serve_artifacts, tmp_path):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    os.link(serve_artifacts / "googlenet_fp32.onnx", artifacts / "googlenet_fp32.onnx")
    fake_plan(artifacts, "fp16", trt="10.13.3.9")
    (artifacts / "googlenet_fp16.rtx.plan").write_bytes(b"rtx")
    out = tmp_path / "model_repository"
    result = invoke("triton-repo", "-o", str(out), "--artifacts", str(artifacts), "--triton-version", "25.12")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "skipped: googlenet_fp16.rtx.plan: a TensorRT-RTX plan: Triton has no TensorRT-RTX backend" in text
    assert "googlenet_onnx_fp32: onnxruntime_onnx, KIND_GPU × 1, max batch 64" in text
    assert "googlenet_trt_fp16: tensorrt_plan, KIND_GPU × 1, max batch 256" in text and "(2 models;" in text
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["googlenet_onnx_fp32", "googlenet_trt_fp16"]
    before = sorted(p.name for p in out.rglob("*"))
    assert_one_sentence_failure(invoke("triton-repo", "-o", str(out), "--artifacts", str(artifacts),
                                       "--triton-version", "25.10"),
                                "cannot put googlenet_fp16.plan in a repository for that Triton",
                                "built with TensorRT 10.13.3.9 but the server has TensorRT 10.11.0.33")
    assert sorted(p.name for p in out.rglob("*")) == before
    assert_one_sentence_failure(invoke("triton-repo", "-o", str(artifacts), "--artifacts", str(artifacts)),
                                "was not written by gnet triton-repo")
    assert_one_sentence_failure(invoke("triton-repo", "--artifacts", str(artifacts), "--triton-version", "19.01"),
                                "does not know which TensorRT Triton 19.01 carries")
    (artifacts / "googlenet_fp16.plan").unlink()
    one = invoke("triton-repo", "-o", str(out), "--artifacts", str(artifacts))
    assert one.exit_code == 0 and "(1 model;" in " ".join(one.output.split()), one.output  # issue 19 #14: "1 models"
    (artifacts / "googlenet_fp32.onnx").unlink()
    (artifacts / "googlenet_fp32.onnx").write_bytes(b"\x00 not onnx")
    assert_one_sentence_failure(invoke("triton-repo", "-o", str(out), "--artifacts", str(artifacts)),
                                "cannot put " + str(artifacts / "googlenet_fp32.onnx") + " in a repository",
                                "not a readable ONNX file")  # not "cannot serve"


@needs_serving()
def test_triton_stub_env_check_reports_the_environment():
    result = invoke("triton-stub-env", "--check")
    assert result.exit_code == 0 and "numpy 1." in result.output and "onnxruntime" in result.output


def test_triton_stub_env_check_of_a_missing_one_is_one_sentence(tmp_path):
    assert_one_sentence_failure(invoke("triton-stub-env", "--check", "--path", str(tmp_path / "none")),
                                "does not exist", "gnet triton-stub-env --path")


def test_help_has_examples():
    for command in ("serve", "triton-repo", "triton-stub-env"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Example" in result.output, command
