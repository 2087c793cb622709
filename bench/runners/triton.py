"""``triton``: the artifact ``ort-cpu`` runs, served by a real Triton server on loopback (``gnet serve``'s).

Variants are the client protocol, ``http`` and ``grpc``. ``prepare`` starts the server once (start-up,
model load and warm-up go into ``setup_s``) with ``max_batch_size`` = the largest benchmarked batch, on
ports the kernel picks. ``run`` is one synchronous request, so parity through the server is measured
like every other row; the timing is :mod:`gnet.bench.concurrency`'s (``clients`` gives one client per
thread). Against the in-process ``ort-cpu:default`` row on the same artifact the row shows what the
network hop costs: serialisation, loopback, Triton's queue and the python backend's shared memory.
"""

from __future__ import annotations

import socket
import time
from typing import Any, ClassVar

import numpy as np

from gnet.bench.runners.base import Availability, PrepareContext, Runner
from gnet.defaults import artifact_kind
from gnet.errors import GnetError

PORT_ATTEMPTS = 3


def free_loopback_ports(count: int) -> list[int]:
    """``count`` distinct ports nothing listens on at 127.0.0.1 now (the kernel's choice). Another process may take
    one before the server binds it: ``TritonService.start`` then raises PortInUse (never a false "ready")."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


class TritonRunner(Runner):
    """A served model, measured from the client side."""

    backend = "triton"
    device = "cpu"
    variants: ClassVar[tuple[str, ...]] = ("http", "grpc")
    supports_concurrency: ClassVar[bool] = True

    def __init__(self, variant: str, precision: str) -> None:
        super().__init__(variant, precision)
        self._service: Any = None
        self._client: Any = None

    @property
    def artifact_kind(self) -> str:
        return artifact_kind(self.precision, "cpu")  # the same ONNX files as ort-cpu: INT8 in the CPU format

    def available(self) -> Availability:
        from gnet.serve import bundle, stub_env

        try:
            bundle.find_bundle()
            bundle.require_client()
            stub_env.check()
        except GnetError as exc:
            return Availability.no(str(exc))
        return Availability.yes()

    def prepare(self, ctx: PrepareContext) -> None:
        from gnet.serve.client import Client
        from gnet.serve.service import PortInUse, ServeConfig, TritonService

        start = time.perf_counter()
        self.artifact_path = ctx.artifact(self.artifact_kind)
        max_batch = max(ctx.batches or [1])
        for attempt in range(PORT_ATTEMPTS):
            http, grpc, metrics = free_loopback_ports(3)
            config = ServeConfig(model=self.artifact_path, http_port=http, grpc_port=grpc, metrics_port=metrics,
                                 max_batch=max_batch, threads=ctx.threads)
            self._service = TritonService(config)
            try:
                self._service.start()
                break
            except PortInUse:  # another process took a port between the kernel's choice and the server's bind
                if attempt == PORT_ATTEMPTS - 1:
                    raise
        self._client = Client(self.url, self.variant)
        self.settings = {"protocol": self.variant, "instances": config.instances, "max_batch_size": max_batch,
                         "max_queue_delay_us": config.queue_delay_us, "threads": ctx.threads or "cores / instances",
                         "server": "tritonserver 2.51.0 (nvidia-pytriton's) with gnet's python-backend model "
                                   "(one ONNX Runtime CPU session per instance)",
                         "server_startup_s": round(self._service.startup_s, 2)}
        self.notes.append("client-side latency: serialisation, the loopback hop and Triton's queue included")
        self.setup_s += time.perf_counter() - start

    @property
    def url(self) -> str:
        assert self._service is not None
        return self._service.url(self.variant)

    def clients(self, count: int) -> list[Any]:
        """``count`` new clients of the running server (one per thread of a concurrency run)."""
        from gnet.serve.client import Client

        return [Client(self.url, self.variant) for _ in range(count)]

    def run(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self._client.infer(np.ascontiguousarray(images, dtype=np.float32)), dtype=np.float32)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._service is not None:
            self._service.stop()
            if self._service.leaked_shm:
                self.notes.append(f"shared memory the server left (removed): {', '.join(self._service.leaked_shm)}")
            self._service = None
