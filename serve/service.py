"""``gnet serve``'s server: the bundled ``tritonserver`` running gnet's python-backend model, from start to stop.

``start`` refuses bad options, a missing or corrupt model, an address that is not this machine's and a port
in use before anything runs; binds the public HTTP port for the gateway (:mod:`gnet.serve.gateway`, which
judges every HTTP request before tritonserver sees it); writes the one-model repository into a private
folder; starts tritonserver (HTTP and metrics on loopback behind gateways, gRPC on ``host``); waits until
it is ready and answers with this start's token (not another server that took a port); and returns only
after a warm-up request through the gateway was answered with finite logits of the right shape.
``serve_forever`` restarts a tritonserver that dies (a request the gateway cannot see, a crash) and logs
why. ``stop`` stops the server within its exit timeout, kills it past that, ends any python-backend stub it
left, and removes the folder and any shared memory region; ``leaked_shm`` names regions that had to be
removed (none, normally).
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gnet import defaults
from gnet.errors import NotAvailable, UsageError, first_line
from gnet.serve import bundle as bundles
from gnet.serve import stub_env, workdir
from gnet.serve.client import Client
from gnet.serve.gateway import Gateway, Limits
from gnet.serve.served_model import START_TOKEN, ServedModel, Signature, read_signature
from gnet.serve.server_env import server_environ
from gnet.serve.triton_log import first_error

PR_SET_PDEATHSIG = 1
HOST_REMEDY = "give an address of this machine: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
RESTARTS_PER_MINUTE = 3
"""A server that dies more often than this is not restarted again: ``serve_forever`` fails with its reason."""
RESTART_SETTLE_S = 1.0
"""How long a restart waits before its one second try when the new server exits while starting: the killed
server's python-backend stubs can hold what it held for a moment after it is gone (seen once in four suites)."""
RESTRICTED = "model-repository,shared-memory,trace,logging"
"""APIs only a holder of the server's random token may call: loading models, registering shared memory,
and changing trace or log files are not for clients. Inference, health, metadata, statistics and
metrics stay open."""


ARTIFACT_SUFFIXES = {".onnx", defaults.PLAN_SUFFIX, defaults.IR_SUFFIX, defaults.IR_WEIGHTS_SUFFIX,
                     defaults.MANIFEST_SUFFIX, ".pt", ".pth", ".data"}
"""What a ``--log-file`` must not be named like: gnet's artifacts and their weights (a log would overwrite one)."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


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
        if self.log_file is not None and _same_file(self.log_file, self.model):
            raise UsageError(f"--log-file {self.log_file} is the model being served", "the log would overwrite it",
                             "choose another --log-file")
        if self.log_file is not None and self.log_file.suffix.lower() in ARTIFACT_SUFFIXES:
            raise UsageError(f"--log-file {self.log_file} is named like a model or manifest",
                             "a log must not overwrite an artifact", "choose a name ending in .log")
        if len(set(self.ports)) != 3:
            raise UsageError(f"--http-port, --grpc-port and --metrics-port must differ, not {self.ports}")
        if any(b > self.max_batch for b in self.preferred):
            raise UsageError(f"--preferred-batch {list(self.preferred)} exceeds --max-batch {self.max_batch}")


class PortInUse(UsageError):
    """A port the server needs is taken (by the time it binds it); a caller that picked free ports may pick again."""


def listen_address(host: str) -> str:
    """The IP address ``--host`` names (tritonserver takes only addresses: a name like ``localhost`` made it listen on
    255.255.255.255); one sentence when it names none of this machine's."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"cannot listen on --host {host}", f"it is not an address or a known name ({exc})",
                         HOST_REMEDY) from None
    ipv4 = [info[4][0] for info in infos if info[0] == socket.AF_INET]
    return str(ipv4[0] if ipv4 else infos[0][4][0])


def check_ports_free(host: str, ports: list[int]) -> None:
    """Refuse a port something already listens on (tritonserver would only log it, after loading the model), and an
    address that is not this machine's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in ports:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise port_error(host, port, exc) from None


def port_error(host: str, port: int, exc: OSError) -> UsageError:
    """The sentence for a port that cannot be bound: in use, or an address that is not this machine's."""
    if exc.errno == errno.EADDRNOTAVAIL:
        return UsageError(f"cannot listen on --host {host}", "it is not an address of this machine", HOST_REMEDY)
    return PortInUse(f"cannot serve on {url_host(host)}:{port}", exc.strerror or str(exc),
                     "choose another --http-port/--grpc-port/--metrics-port")



def url_host(host: str) -> str:
    """``host`` as it is written in a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host else host


def client_host(host: str) -> str:
    """Where a client on this machine reaches the server (a wildcard address is reached on loopback)."""
    return defaults.SERVE_HOST if host in ("0.0.0.0", "", "::") else host


def loopback_ports() -> tuple[int, int]:
    """Two distinct loopback ports nothing listens on now, for tritonserver's own HTTP and metrics ports behind the
    gateways (a process that takes the HTTP one first is caught: ``_check_ours`` asks the answering server for this
    start's token)."""
    with socket.socket() as first, socket.socket() as second:
        first.bind((defaults.SERVE_HOST, 0))
        second.bind((defaults.SERVE_HOST, 0))
        return int(first.getsockname()[1]), int(second.getsockname()[1])


def server_command(server: Path, config: ServeConfig, address: str, upstream: tuple[int, int], repository: Path,
                   backends: Path, shm_prefix: str) -> list[str]:
    """tritonserver's command line: the repository, the backends, every address and port, the restrictions.
    HTTP and metrics listen on loopback only (``upstream``: their ports), behind gnet's gateways: tritonserver
    2.51's HTTP servers bind 255.255.255.255 for any address but an IPv4 one. gRPC listens on ``address``."""
    token = f"gnet-admin-token={secrets.token_hex(16)}"
    return [
        str(server), f"--model-repository={repository}", f"--backend-directory={backends}",
        "--model-control-mode=none", "--strict-readiness=true", "--disable-auto-complete-config",
        f"--exit-timeout-secs={config.exit_timeout_s}", "--pinned-memory-pool-byte-size=0",
        f"--backend-config=python,shm-region-prefix-name={shm_prefix}",
        f"--http-address={defaults.SERVE_HOST}", f"--http-port={upstream[0]}",
        f"--grpc-address={url_host(address)}", f"--grpc-port={config.grpc_port}",  # tritonserver joins "address:port"
        "--allow-metrics=true", "--allow-gpu-metrics=false",
        f"--metrics-address={defaults.SERVE_HOST}", f"--metrics-port={upstream[1]}",
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
    """One running server; ``with TritonService(config) as service:`` or ``start()``/``stop()``.

    The public HTTP port is the gateway's (bound first, held until ``stop``); tritonserver's HTTP port is on
    loopback behind it. ``serve_forever`` restarts a tritonserver that dies, and records why in ``restarts``.
    """

    config: ServeConfig
    signature: Signature | None = None
    leaked_shm: list[str] = field(default_factory=list)
    startup_s: float = 0.0
    restarts: list[str] = field(default_factory=list)
    log: Callable[[str], None] = print
    _process: subprocess.Popen | None = None
    _workdir: workdir.Workdir | None = None
    _gateway: Gateway | None = None
    _metrics_gateway: Gateway | None = None
    _address: str = ""
    _token: str = ""
    _launch_files: tuple[Path, Path, dict[str, str]] | None = None  # (server, backends folder, environment)
    _log_start: int = 0  # where this launch's lines begin in the log
    _restart_times: list[float] = field(default_factory=list)

    @property
    def http_url(self) -> str:
        port = self._gateway.port if self._gateway is not None else self.config.http_port
        return f"{url_host(client_host(self._address or self.config.host))}:{port}"

    @property
    def grpc_url(self) -> str:
        return f"{url_host(client_host(self._address or self.config.host))}:{self.config.grpc_port}"

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
                           cfg.preferred, self._token)

    def start(self) -> None:
        """Start serving; GnetError in one sentence on any failure, with nothing left running or on disk."""
        cfg = self.config
        cfg.check()
        self._address = listen_address(cfg.host)
        self.signature = read_signature(cfg.model)
        bundle = bundles.find_bundle()
        bundles.require_client()
        stub = stub_env.check()
        check_ports_free(self._address, [cfg.grpc_port])
        begin = time.perf_counter()
        try:
            self._gateway = self._open_gateway(cfg.http_port)
            self._metrics_gateway = self._open_gateway(cfg.metrics_port)
            self._workdir = workdir.create()
            self._token = secrets.token_hex(16)
            self._served().write_repository(self._workdir.path / "models")
            self._launch_files = (bundle.server, bundles.backend_directory(bundle, self._workdir.path),
                                  server_environ(bundle, stub.bin, self._workdir.path))
            self._run_server()
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.perf_counter() - begin

    def _open_gateway(self, port: int) -> Gateway:
        assert self.signature is not None
        limits = Limits(self.config.max_batch, int(np.prod(self.signature.dims)))
        try:
            return Gateway(self._address, port, limits)
        except OSError as exc:
            raise port_error(self._address, port, exc) from None

    def _run_server(self) -> None:
        """Start tritonserver, wait until it is ready and is ours, then send the warm-up through the gateway."""
        assert self._gateway is not None and self._metrics_gateway is not None
        upstream = loopback_ports()
        self._launch(upstream)
        self._wait_ready(upstream[0])
        self._check_ours(upstream[0])
        self._gateway.start(upstream[0])
        self._metrics_gateway.start(upstream[1])
        self.warm_up()

    def _launch(self, upstream: tuple[int, int]) -> None:
        assert self._workdir is not None and self.log_path is not None and self._launch_files is not None
        server, backends, environ = self._launch_files
        command = server_command(server, self.config, self._address, upstream, self._workdir.path / "models",
                                 backends, self._workdir.shm_prefix)
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = self.log_path.open("ab")  # appended: a restart keeps why the server before it stopped
        except OSError as exc:
            raise UsageError(f"cannot write the log file {self.log_path}", exc.strerror or str(exc),
                             "choose a --log-file on a writable file system") from None
        with log:
            self._log_start = log.tell()
            self._process = subprocess.Popen(command, env=environ, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True,
                                             preexec_fn=die_with_parent())

    def _why(self) -> str:
        return first_error(self.log_path, start=self._log_start) if self.log_path else ""

    def _failure(self, what: str, fallback: str) -> NotAvailable:
        remedy = "" if self.config.log_file else "run again with --log-file FILE to keep Triton's whole log"
        return NotAvailable(what, self._why() or fallback, remedy)

    def _wait_ready(self, port: int) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.config.start_timeout_s
        with Client(f"{defaults.SERVE_HOST}:{port}", "http", timeout_s=5.0) as client:
            while not client.ready():
                code = self._process.poll()
                if code is not None:
                    raise self._failure(f"Triton could not start serving {self.config.model.name}",
                                        f"tritonserver exited with status {code}")
                if time.monotonic() > deadline:
                    raise self._failure(f"Triton did not become ready within {self.config.start_timeout_s:g} s",
                                        "it is still loading")
                time.sleep(0.1)

    def _check_ours(self, port: int) -> None:
        """Refuse to call ready a server that is not this start's: another process answered on its port."""
        with Client(f"{defaults.SERVE_HOST}:{port}", "http", timeout_s=5.0) as client:
            token = client.parameter(START_TOKEN)
        if token != self._token or self._process is None or self._process.poll() is not None:
            raise self._failure("Triton could not start serving: another server answered on its port",
                                "tritonserver exited" if self._process and self._process.poll() is not None
                                else "the answering server is not this start's")

    def warm_up(self) -> None:
        """One zero image through the gateway and the server: ready means a request was answered correctly."""
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

    def _gateways(self) -> list[Gateway]:
        return [g for g in (self._gateway, self._metrics_gateway) if g is not None]

    def _stop_server(self) -> None:
        """SIGTERM, then SIGKILL past the exit timeout; then any python-backend stub it left (issue 19 #16)."""
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
            workdir.end_processes(self._workdir.path)

    def stop(self) -> None:
        """Stop the server and the gateways, and remove everything they left (each step even if one before failed)."""
        try:
            self._stop_server()
        finally:
            for gateway in self._gateways():
                gateway.close()
            self._gateway = self._metrics_gateway = None
            if self._workdir is not None:
                self.leaked_shm = self._workdir.remove()
                self._workdir = None

    def __enter__(self) -> TritonService:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def restart(self) -> None:
        """Start tritonserver again after it died (the gateway answers 503 meanwhile); GnetError when it died
        more than :data:`RESTARTS_PER_MINUTE` times in the last minute, or does not come back."""
        code = self._process.poll() if self._process is not None else None
        why = self._why() or f"tritonserver exited with status {code}"
        now = time.monotonic()
        self._restart_times = [t for t in self._restart_times if now - t < 60] + [now]
        if len(self._restart_times) > RESTARTS_PER_MINUTE:
            raise NotAvailable("the Triton server keeps stopping", why,
                               "" if self.config.log_file else "run again with --log-file FILE to keep Triton's log")
        self.restarts.append(why)
        self.log(f"the Triton server stopped ({why}); restarting it")
        for gateway in self._gateways():
            gateway.pause()
        self._stop_server()
        if self._workdir is not None:
            workdir.remove_shm(self._workdir.shm_prefix)
        try:
            self._run_server()
        except NotAvailable as first:
            self.log(f"the restarted Triton server did not start ({first.cause}); trying once more")
            self._stop_server()
            time.sleep(RESTART_SETTLE_S)
            self._run_server()
        self.log("the Triton server is serving again")

    def serve_forever(self, poll_s: float = 0.5) -> None:
        """Serve until interrupted (KeyboardInterrupt, or the CLI's SIGTERM exception), restarting a tritonserver
        that dies; stops cleanly in every case."""
        try:
            while True:
                time.sleep(poll_s)
                if not self.alive():
                    self.restart()
        finally:
            self.stop()
