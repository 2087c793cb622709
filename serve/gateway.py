"""The HTTP front of ``gnet serve``: every request is judged here before tritonserver allocates anything for it.

tritonserver 2.51's HTTP frontend trusts what a request declares. Two requests abort it (issue 19): an
inference request declaring a shape like ``[4096, 3, 100000, 100000]`` (it allocates for the shape before
reading the data: ``std::bad_alloc``), and any large POST sent as ``application/x-www-form-urlencoded``
(curl's default, a segfault in its form parser). It has no option to bound either. So ``gnet serve`` holds
the public HTTP port itself and forwards to tritonserver's HTTP port on loopback only what cannot hurt it:

* a body with a ``Content-Length`` no larger than the largest valid request (chunked bodies are refused);
* for inference, a JSON header whose every input shape fits one batch of at most ``max_batch`` images;
* always the content type tritonserver's inference protocol uses (JSON, or octet-stream for binary data);
* Triton's error messages cut to their first line (its python backend appends Python stack frames).

While tritonserver restarts (see :mod:`gnet.serve.service`), requests get 503 with a sentence, so the
readiness endpoint answers "not ready" instead of a refused connection. The metrics port is a second
gateway (tritonserver's HTTP servers bind 255.255.255.255 for a name or an IPv6 address); gRPC is
tritonserver's own port: its gRPC frontend bounds messages itself and listens on IPv6.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gnet.serve.triton_log import clean_error

INFER_PATH = re.compile(r"^/v2/models/[^/]+(/versions/[^/]+)?/infer/?$")
HEADER_LENGTH = "Inference-Header-Content-Length"
JSON_SLACK = 1 << 20
"""Room for a request's JSON header beside its binary data."""
JSON_BYTES_PER_VALUE = 24
"""What one float may take written as JSON text ("-1.2345678901234567e-05, "): bounds a JSON-data request."""
OTHER_LIMIT = 1 << 20
DISCARD_LIMIT = 256 << 20
"""Bodies of every other POST (repository, shared-memory, trace and log requests) are small."""
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te", "trailer",
              "upgrade"}


class Refused(Exception):
    """A request the gateway answers itself: ``status`` and one sentence."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


@dataclass(frozen=True)
class Limits:
    """What one valid inference request can hold: ``max_batch`` images of ``values_per_image`` values."""

    max_batch: int
    values_per_image: int

    @property
    def max_values(self) -> int:
        return self.max_batch * self.values_per_image

    @property
    def max_body(self) -> int:
        return self.max_values * JSON_BYTES_PER_VALUE + JSON_SLACK

    def check_inputs(self, header: object) -> None:
        """Refuse a JSON inference header whose inputs are malformed or larger than one batch."""
        inputs = header.get("inputs") if isinstance(header, dict) else None
        if not isinstance(inputs, list) or not inputs:
            raise Refused(400, "the request has no 'inputs' list")
        for item in inputs:
            shape = item.get("shape") if isinstance(item, dict) else None
            if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
                raise Refused(400, "every input needs a 'shape' of non-negative integers")
            if shape and shape[0] > self.max_batch:
                raise Refused(400, f"a batch of {shape[0]} is over this server's maximum of {self.max_batch}; "
                                   "split it into smaller requests")
            values = 1
            for d in shape:
                values *= d
            if values > self.max_values:
                raise Refused(400, f"shape {shape} holds {values} values, more than a batch of {self.max_batch} "
                                   f"images ({self.max_values})")


def _error_body(text: str) -> bytes:
    return json.dumps({"error": text}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # a client that stops sending mid-request holds a thread this long at most
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the client's delayed
        # ACK held every HTTP request about 40 ms (measured: +45 ms at batch 1)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass  # tritonserver logs requests; the gateway only refuses them

    def do_GET(self) -> None:
        self._forward(b"")

    def do_HEAD(self) -> None:
        self._forward(b"")

    def do_POST(self) -> None:
        try:
            body, content_type = self._body()
        except Refused as refused:
            self.close_connection = True  # the unread body must not be taken for the next request
            self._reply(refused.status, _error_body(str(refused)))
            return
        self._forward(body, content_type)

    def _body(self) -> tuple[bytes, str]:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise Refused(411, "send the request with a Content-Length, not chunked")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise Refused(400, "the Content-Length header is not a number") from None
        infer = bool(INFER_PATH.match(self.path.split("?", 1)[0]))
        limit = self.server.limits.max_body if infer else OTHER_LIMIT
        if length < 0 or length > limit:
            self._discard(length)
            raise Refused(413, f"a body of {length} bytes is larger than any valid request here ({limit} bytes)")
        body = self.rfile.read(length)
        if len(body) != length:
            raise Refused(400, "the body ended before its Content-Length")
        if not infer:
            return body, "application/json"
        return body, self._check_infer(body)

    def _discard(self, length: int) -> None:
        """Read and drop a refused body (up to :data:`DISCARD_LIMIT`), so that the client, still sending, reads the
        refusal instead of a broken pipe; past that the connection is simply closed."""
        left = length if 0 < length <= DISCARD_LIMIT else 0
        while left > 0 and (chunk := self.rfile.read(min(left, 1 << 20))):
            left -= len(chunk)

    def _check_infer(self, body: bytes) -> str:
        declared = self.headers.get(HEADER_LENGTH)
        try:
            size = len(body) if declared is None else int(declared)
        except ValueError:
            raise Refused(400, f"the {HEADER_LENGTH} header is not a number") from None
        if not 0 < size <= len(body):
            raise Refused(400, f"the {HEADER_LENGTH} header ({size}) is not within the body ({len(body)} bytes)")
        try:
            header = json.loads(body[:size])
        except (ValueError, UnicodeDecodeError) as exc:
            raise Refused(400, f"the request is not valid JSON ({exc})") from None
        self.server.limits.check_inputs(header)
        return "application/json" if declared is None else "application/octet-stream"

    def _forward(self, body: bytes, content_type: str | None = None) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"content-type", "host"}}
        if content_type is not None:
            headers["Content-Type"] = content_type
        try:
            status, reply_headers, data = self.server.upstream(self.command, self.path, body, headers)
        except OSError:
            self._reply(503, _error_body("the server is restarting; retry shortly"))
            return
        if status >= 400 and data:
            try:
                data = _error_body(clean_error(str(json.loads(data).get("error", ""))))
            except (ValueError, AttributeError):
                pass
        self._reply(status, data, reply_headers)

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        for key, value in headers or [("Content-Type", "application/json")]:
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False  # another process on the port must be an error, not a shared port

    def __init__(self, address: tuple[str, int], family: int, limits: Limits) -> None:
        self.address_family = family
        super().__init__(address, _Handler, bind_and_activate=True)
        self.limits = limits
        self.upstream_port = 0
        self._local = threading.local()

    def server_bind(self) -> None:
        # HTTPServer's own looks the host's name up in DNS (socket.getfqdn), which can stall the start for seconds
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def upstream(self, method: str, path: str, body: bytes, headers: dict[str, str]):
        """Send one request to tritonserver on this thread's own kept-alive connection; retried once on a stale one."""
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None or conn.port != self.upstream_port:
                conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=300)
                conn.connect()
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as above, towards tritonserver
                self._local.conn = conn
            try:
                conn.request(method, path, body=body or None, headers=headers)
                reply = conn.getresponse()
                return reply.status, reply.getheaders(), reply.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise OSError("tritonserver did not answer") from None
        raise AssertionError("unreachable")


class Gateway:
    """The public HTTP port, bound at construction (held from then on), served from a thread after ``start``."""

    def __init__(self, host: str, port: int, limits: Limits) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._server = _Server((host, port), family, limits)  # OSError: the port is taken, the address not ours
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self, upstream_port: int) -> None:
        """Forward to tritonserver's HTTP port ``upstream_port`` (call again after a restart on a new port)."""
        self._server.upstream_port = upstream_port
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="gnet-gateway", daemon=True)
            self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()
