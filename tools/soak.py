"""Soak ``gnet serve`` (issue 19): clients mixing good, NaN, oversized and malformed requests for minutes.

    .venv/bin/python tools/soak.py artifacts/googlenet_fp32.onnx --minutes 10 --clients 8

Starts a real ``gnet serve`` on free loopback ports, runs the clients, samples the resident memory of the
server's process tree every 10 s, and prints one JSON summary: good requests sent and answered with the
in-process ONNX Runtime session's logits (within 1e-4), bad requests refused with a 4xx, tritonserver
restarts, RSS after the first minute and at the end. Exit 1 when a good request was lost or wrong, a bad
one was not refused, or the server stopped. Not a test: it runs for minutes.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import psutil


def _post(url: str, body: bytes, content_type: str, extra: dict | None = None) -> int:
    request = urllib.request.Request(f"http://{url}/v2/models/googlenet/infer", data=body,
                                     headers={"Content-Type": content_type, **(extra or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            reply.read()
            return reply.status
    except urllib.error.HTTPError as refused:
        return refused.code


def _bad_requests(dims: tuple[int, int, int]) -> dict[str, tuple[bytes, str]]:
    bomb = {"inputs": [{"name": "input", "shape": [4096, 3, 100000, 100000], "datatype": "FP32", "data": [0.0]}]}
    return {"shape bomb": (json.dumps(bomb).encode(), "application/json"),
            "malformed JSON": (b"{not json", "application/json"),
            "form post": (b"a" * 5_000_000, "application/x-www-form-urlencoded"),
            "oversized": (b"0" * (70 << 20), "application/octet-stream")}


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.problems: list[str] = []

    def add(self, key: str, problem: str = "") -> None:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            if problem and len(self.problems) < 20:
                self.problems.append(problem)


def _client(index: int, http: str, grpc: str, images: np.ndarray, reference: np.ndarray, stop: threading.Event,
            tally: Tally) -> None:
    from tritonclient.utils import InferenceServerException

    from gnet.serve.client import Client

    rng = random.Random(index)
    bad = _bad_requests(images.shape[1:])
    with Client(http, "http") as h, Client(grpc, "grpc") as g:
        while not stop.is_set():
            pick = rng.random()
            if pick < 0.6:  # good, one to four images, either protocol
                first, count = rng.randrange(len(images) - 4), rng.randint(1, 4)
                client = h if rng.random() < 0.5 else g
                try:
                    out = client.infer(images[first:first + count])
                    ok = float(np.abs(out - reference[first:first + count]).max()) <= 1e-4
                    tally.add("good answered" if ok else "good WRONG", "" if ok else f"wrong logits ({client.protocol})")
                except (InferenceServerException, OSError) as exc:
                    tally.add("good LOST", f"{client.protocol}: {str(exc)[:200]}")
            elif pick < 0.75:  # NaN pixels
                try:
                    h.infer(np.full((1, *images.shape[1:]), np.nan, np.float32))
                    tally.add("nan NOT refused", "a NaN request was answered")
                except InferenceServerException:
                    tally.add("nan refused")
            else:
                name, (body, kind) = rng.choice(list(bad.items()))
                try:
                    status = _post(http, body, kind)
                except OSError as exc:  # the oversized body may be cut off with the refusal
                    status = 413 if name == "oversized" else 0
                    if not status:
                        tally.add(f"{name} NOT refused", str(exc)[:200])
                        continue
                refused = 400 <= status < 500
                tally.add(f"{name} refused" if refused else f"{name} NOT refused",
                          "" if refused else f"{name}: HTTP {status}")


def _tree_rss(pid: int) -> dict[str, int]:
    """Resident bytes of ``gnet serve`` (its gateway included), tritonserver and the python-backend stubs."""
    out = {"gnet serve": 0, "tritonserver": 0, "stubs": 0}
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            name = proc.name()
            key = "gnet serve" if proc.pid == pid else "tritonserver" if name == "tritonserver" else "stubs"
            out[key] += proc.memory_info().rss
    except psutil.Error:
        pass
    return out


def _serve(model: Path) -> tuple[subprocess.Popen, Path, str, str] | None:
    """A real ``gnet serve`` on free loopback ports: (process, its output file, HTTP and gRPC URLs); None, with its
    output printed, when it never said ready."""
    from gnet.bench.runners.triton import free_loopback_ports

    http_port, grpc_port, metrics_port = free_loopback_ports(3)
    log = Path(f"/tmp/gnet-soak-{http_port}.out")
    with log.open("w") as sink:
        server = subprocess.Popen([sys.executable, "-m", "gnet", "serve", str(model), "--http-port", str(http_port),
                                   "--grpc-port", str(grpc_port), "--metrics-port", str(metrics_port)],
                                  stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while "ready:" not in log.read_text() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    if "ready:" not in log.read_text():
        print(log.read_text())
        server.kill()
        return None
    return server, log, f"127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}"


def _mib(sample: dict[str, int]) -> dict[str, float]:
    return {**{k: round(v / 2**20, 1) for k, v in sample.items()}, "total": round(sum(sample.values()) / 2**20, 1)}


def _memory(rss: list[tuple[float, dict[str, int]]]) -> dict[str, object]:
    """The memory part of the summary: after the first minute, at the end, the peak, tritonserver per minute."""
    warm = [r for t, r in rss if t >= 60] or [r for _, r in rss]
    if not warm:
        return {}
    return {"rss_mib_after_first_minute": _mib(warm[0]), "rss_mib_at_end": _mib(warm[-1]),
            "rss_mib_max_total": round(max(sum(r.values()) for r in warm) / 2**20, 1),
            "tritonserver_rss_mib_per_minute": [round(r["tritonserver"] / 2**20, 1) for t, r in rss if int(t) % 60 < 10]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    from gnet.checks.ort import cpu_session

    session = cpu_session(args.model)
    shape = session.get_inputs()[0].shape
    images = np.random.default_rng(0).standard_normal((16, 3, shape[2], shape[3])).astype(np.float32)
    reference = session.run(None, {"input": images})[0]
    started = _serve(args.model)
    if started is None:
        return 1
    server, log, http, grpc = started
    tally, stop = Tally(), threading.Event()
    threads = [threading.Thread(target=_client, args=(i, http, grpc, images, reference, stop, tally))
               for i in range(args.clients)]
    for thread in threads:
        thread.start()
    rss: list[tuple[float, dict[str, int]]] = []
    begin = time.monotonic()
    while time.monotonic() - begin < args.minutes * 60 and server.poll() is None:
        time.sleep(10)
        rss.append((time.monotonic() - begin, _tree_rss(server.pid)))
    stop.set()
    for thread in threads:
        thread.join(timeout=180)
    alive = server.poll() is None
    server.terminate()
    summary = {"minutes": args.minutes, "clients": args.clients, "model": args.model.name, "counts": tally.counts,
               "problems": tally.problems, "server_alive_throughout": alive, "server_exit": server.wait(timeout=60),
               "restarts": log.read_text().count("restarting it"), **_memory(rss)}
    print(json.dumps(summary, indent=2))
    failed = any(k.endswith(("LOST", "WRONG", "NOT refused")) for k in tally.counts) or not alive or summary["restarts"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
