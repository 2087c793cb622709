"""``gnet serve``'s server: the bundled ``tritonserver`` running gnet's python-backend model, from start to stop.

``start`` refuses bad options, a missing or corrupt model and a port in use before anything runs, writes
the one-model repository into a private folder, starts the server on loopback (unless ``host`` opens it),
waits until Triton reports ready, and returns only after a warm-up request through the server was
answered with finite logits of the right shape. ``stop`` (also on SIGINT/SIGTERM in ``serve_forever``)
stops the server within its exit timeout, kills it past that, and removes the folder and any shared
memory region it left; ``leaked_shm`` names regions that had to be removed (none, normally).
"""

from __future__ import annotations

import ctypes
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import numpy as np

from gnet import defaults
from gnet.errors import NotAvailable, UsageError, first_line
from gnet.serve import bundle as bundles
from gnet.serve import stub_env, workdir
from gnet.serve.client import Client
from gnet.serve.served_model import ServedModel, Signature, read_signature
from gnet.serve.server_env import server_environ
from gnet.serve.triton_log import first_error

PR_SET_PDEATHSIG = 1
RESTRICTED = "model-repository,shared-memory,trace,logging"
"""APIs only a holder of the server's random token may call: loading models, registering shared memory,
and changing trace or log files are not for clients. Inference, health, metadata, statistics and
metrics stay open."""


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``gnet serve`` takes from its options."""

    model: Path
    host: str = defaults.SERVE_HOST
    http_port: int = defaults.HTTP_PORT
    grpc_port: int = defaults.GRPC_PORT
    metrics_port: int = defaults.METRICS_PORT
    instances: int = 1
    max_batch: int = defaults.SERVE_MAX_BATCH
    queue_delay_us: int = defaults.MAX_QUEUE_DELAY_US
    preferred: tuple[int, ...] = ()
    threads: int | None = None  # ONNX Runtime threads per instance; None: the physical cores shared out
    log_file: Path | None = None  # keep Triton's log here (else it lives and dies with the server's folder)
    start_timeout_s: float = 120.0
    exit_timeout_s: int = 5

    @property
    def ports(self) -> list[int]:
        return [self.http_port, self.grpc_port, self.metrics_port]

    def check(self) -> None:
        if len(set(self.ports)) != 3:
            raise UsageError(f"--http-port, --grpc-port and --metrics-port must differ, not {self.ports}")
        if any(b > self.max_batch for b in self.preferred):
            raise UsageError(f"--preferred-batch {list(self.preferred)} exceeds --max-batch {self.max_batch}")


def check_ports_free(host: str, ports: list[int]) -> None:
    """Refuse a port something already listens on (tritonserver would only log it, after loading the model)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in ports:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise UsageError(f"cannot serve on {host}:{port}", exc.strerror or str(exc),
                                 "choose another --http-port/--grpc-port/--metrics-port") from None


def client_host(host: str) -> str:
    """Where a client on this machine reaches the server (a wildcard address is reached on loopback)."""
    return defaults.SERVE_HOST if host in ("0.0.0.0", "", "::") else host


def server_command(server: Path, config: ServeConfig, repository: Path, backends: Path, shm_prefix: str) -> list[str]:
    """tritonserver's command line: the repository, the backends, every address and port, the restrictions."""
    token = f"gnet-admin-token={secrets.token_hex(16)}"
    return [
        str(server), f"--model-repository={repository}", f"--backend-directory={backends}",
        "--model-control-mode=none", "--strict-readiness=true", "--disable-auto-complete-config",
        f"--exit-timeout-secs={config.exit_timeout_s}", "--pinned-memory-pool-byte-size=0",
        f"--backend-config=python,shm-region-prefix-name={shm_prefix}",
        f"--http-address={config.host}", f"--http-port={config.http_port}",
        f"--grpc-address={config.host}", f"--grpc-port={config.grpc_port}",
        "--allow-metrics=true", "--allow-gpu-metrics=false",
        f"--metrics-address={config.host}", f"--metrics-port={config.metrics_port}",
        f"--http-restricted-api={RESTRICTED}:{token}", f"--grpc-restricted-protocol={RESTRICTED}:{token}",
    ]


def die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn``: the kernel SIGTERMs the server when the thread that started it ends (even by SIGKILL).

    ``prctl`` is looked up here, in the parent: a ``dlopen`` between fork and exec could deadlock on a lock
    another thread (gRPC's) held at the fork. Start servers from a thread that outlives them (the main one).
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


@dataclass
class TritonService:
    """One running server; ``with TritonService(config) as service:`` or ``start()``/``stop()``."""

    config: ServeConfig
    signature: Signature | None = None
    leaked_shm: list[str] = field(default_factory=list)
    startup_s: float = 0.0
    _process: subprocess.Popen | None = None
    _workdir: workdir.Workdir | None = None

    @property
    def http_url(self) -> str:
        return f"{client_host(self.config.host)}:{self.config.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"{client_host(self.config.host)}:{self.config.grpc_port}"

    @property
    def pid(self) -> int | None:
        """The tritonserver process id while it runs."""
        return self._process.pid if self._process is not None else None

    def url(self, protocol: str) -> str:
        return self.http_url if protocol == "http" else self.grpc_url

    @property
    def log_path(self) -> Path | None:
        if self.config.log_file is not None:
            return self.config.log_file
        return self._workdir.log if self._workdir is not None else None

    def _served(self) -> ServedModel:
        from gnet.system import physical_cores

        cfg = self.config
        assert self.signature is not None
        threads = cfg.threads or max(1, physical_cores() // cfg.instances)
        return ServedModel(cfg.model, self.signature, cfg.max_batch, cfg.instances, threads, cfg.queue_delay_us,
                           cfg.preferred)

    def start(self) -> None:
        """Start serving; GnetError in one sentence on any failure, with nothing left running or on disk."""
        cfg = self.config
        cfg.check()
        self.signature = read_signature(cfg.model)
        bundle = bundles.find_bundle()
        bundles.require_client()
        stub = stub_env.check()
        check_ports_free(cfg.host, cfg.ports)
        begin = time.perf_counter()
        self._workdir = workdir.create()
        try:
            self._launch(bundle, stub.bin)
            self._wait_ready()
            self.warm_up()
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.perf_counter() - begin

    def _launch(self, bundle: bundles.Bundle, stub_bin: Path) -> None:
        assert self._workdir is not None and self.log_path is not None
        repository = self._served().write_repository(self._workdir.path / "models")
        backends = bundles.backend_directory(bundle, self._workdir.path)
        command = server_command(bundle.server, self.config, repository, backends, self._workdir.shm_prefix)
        environ = server_environ(bundle, stub_bin, self._workdir.path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(command, env=environ, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True,
                                             preexec_fn=die_with_parent())

    def _failure(self, what: str, fallback: str) -> NotAvailable:
        why = first_error(self.log_path) if self.log_path else ""
        remedy = "" if self.config.log_file else "run again with --log-file FILE to keep Triton's whole log"
        return NotAvailable(what, why or fallback, remedy)

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.config.start_timeout_s
        with Client(self.http_url, "http", timeout_s=5.0) as client:
            while not client.ready():
                code = self._process.poll()
                if code is not None:
                    raise self._failure(f"Triton could not start serving {self.config.model.name}",
                                        f"tritonserver exited with status {code}")
                if time.monotonic() > deadline:
                    raise self._failure(f"Triton did not become ready within {self.config.start_timeout_s:g} s",
                                        "it is still loading")
                time.sleep(0.1)

    def warm_up(self) -> None:
        """One zero image through the server: ready means a request was answered correctly."""
        sig = self.signature
        assert sig is not None
        try:
            with Client(self.http_url, "http") as client:
                out = client.infer(np.zeros((1, *sig.dims), np.float32))
        except Exception as exc:  # tritonclient's InferenceServerException, a reset connection
            raise self._failure("Triton started but the warm-up request failed", first_line(exc)) from None
        if out is None or out.shape != (1, sig.classes) or not np.isfinite(out).all():
            raise NotAvailable("Triton started but answered the warm-up request wrongly",
                               f"logits of shape {None if out is None else out.shape}, expected (1, {sig.classes})")

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL past its exit timeout) and remove everything it left."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=self.config.exit_timeout_s + 20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=30)
        if self._workdir is not None:
            self.leaked_shm = self._workdir.remove()
            self._workdir = None

    def __enter__(self) -> TritonService:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def serve_forever(self, poll_s: float = 0.5) -> None:
        """Serve until SIGINT or SIGTERM (then stop cleanly) or until the server dies (GnetError)."""
        stopping = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stopping.wait(poll_s):
                if not self.alive():
                    raise self._failure("the Triton server stopped unexpectedly", "tritonserver exited")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.stop()

