"""The HTTP front of ``gnet serve``: every request is judged here before tritonserver allocates anything for it.

tritonserver 2.51's HTTP frontend trusts what a request declares. Two requests abort it (issue 19): an
inference request declaring a shape like ``[4096, 3, 100000, 100000]`` (it allocates for the shape before
reading the data: ``std::bad_alloc``), and any large POST sent as ``application/x-www-form-urlencoded``
(curl's default, a segfault in its form parser). It has no option to bound either. So ``gnet serve`` holds
the public HTTP port itself and forwards to tritonserver's HTTP port on loopback only what cannot hurt it:

* plain paths only (an absolute URL in the request line would be routed by Triton past these checks), no
  restricted API (model control, shared memory, trace, logging), and a body only on inference: every other
  POST, ``generate`` among them (Triton 2.51 parses its JSON recursively), is refused;
* a body with one ``Content-Length`` no larger than the largest valid request (chunked and compressed bodies
  are refused);
* for inference, a JSON header, with no key repeated (Triton reads a repeated key's first copy, Python its
  last), whose every input shape fits one batch of at most ``max_batch`` images; the checked header length is
  the one forwarded;
* always the content type tritonserver's inference protocol uses (JSON, or octet-stream for binary data);
* Triton's error messages cut to their first line (its python backend appends Python stack frames).

At most :data:`MAX_CONNECTIONS` client connections are served at once; a request is sent to tritonserver once
(only a kept-alive connection it had closed is retried).

While tritonserver restarts (see :mod:`gnet.serve.service`), requests get 503 with a sentence, so the
readiness endpoint answers "not ready" instead of a refused connection. The metrics port is a second
gateway (tritonserver's HTTP servers bind 255.255.255.255 for a name or an IPv6 address); gRPC is
tritonserver's own port: its gRPC frontend bounds messages itself and listens on IPv6.
"""

from __future__ import annotations

import http.client
import json
import math
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gnet.serve.triton_log import clean_error

INFER_PATH = re.compile(r"^/v2/models/[^/]+(/versions/[^/]+)?/infer$")
RESTRICTED_PATH = re.compile(r"^/v2/(repository|systemsharedmemory|cudasharedmemory|trace|logging)(/|$)|"
                             r"^/v2/models/[^/]+(/versions/[^/]+)?/trace(/|$)", re.IGNORECASE)
"""The APIs tritonserver restricts to its token (model control, shared memory, trace, logging): not public here."""
HEADER_LENGTH = "Inference-Header-Content-Length"
JSON_SLACK = 1 << 20
"""Room for a request's JSON header beside its binary data."""
JSON_BYTES_PER_VALUE = 24
"""What one float may take written as JSON text ("-1.2345678901234567e-05, "): bounds a JSON-data request."""
DISCARD_LIMIT = 256 << 20
MAX_CONNECTIONS = 256
"""Client connections served at once (each holds a thread); more are closed at once."""
UPSTREAM_TIMEOUT_S = 300
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
            values = math.prod(shape)
            if values > self.max_values:
                raise Refused(400, f"shape {shape} holds {values} values, more than a batch of {self.max_batch} "
                                   f"images ({self.max_values})")


def _no_repeated_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object, refused when a key repeats: Python keeps the last copy and Triton reads the first, so a
    repeated "shape" would pass these checks with one value and reach Triton with another."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key appears more than once in one object")
    return found


def _error_body(text: str) -> bytes:
    return json.dumps({"error": text}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # a client that stops sending mid-request holds a thread this long at most
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the client's delayed
        # ACK held every HTTP request for tens of milliseconds (docs/serving.md)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass  # tritonserver logs requests; the gateway only refuses them

    def do_GET(self) -> None:
        self._handle(read_body=False)

    def do_HEAD(self) -> None:
        self._handle(read_body=False)

    def do_POST(self) -> None:
        self._handle(read_body=True)

    def _handle(self, read_body: bool) -> None:
        self._header_length: str | None = None  # per request: a kept-alive connection serves many
        try:
            self._check_route(read_body)
            body, content_type = self._body() if read_body else (b"", None)
        except Refused as refused:
            self.close_connection = True  # an unread body must not be taken for the next request
            self._reply(refused.status, _error_body(str(refused)))
            return
        self._forward(body, content_type)

    def _check_route(self, is_post: bool) -> None:
        """Refuse what is not a plain path on this server's public API: an absolute URL (Triton would route it by
        its path, past these checks), the restricted APIs, every POST but inference (``generate`` parses JSON
        with a recursive parser), a body on GET/HEAD, and encodings the checks cannot read."""
        path = self.path.split("?", 1)[0]
        if not path.startswith("/") or "//" in path or "\\" in path:
            raise Refused(400, "the request target must be a plain path such as /v2/models/googlenet/infer")
        if RESTRICTED_PATH.match(path):
            raise Refused(403, "the model-repository, shared-memory, trace and logging APIs are not served here")
        if is_post and not INFER_PATH.match(path):
            raise Refused(405, "only inference (POST /v2/models/NAME/infer) takes a body here")
        if not is_post and (self.headers.get("Content-Length", "0") not in ("", "0") or "Transfer-Encoding" in self.headers):
            raise Refused(400, f"a {self.command} request has no body")
        if self.headers.get("Content-Encoding", "identity").lower() != "identity":
            raise Refused(415, "send the body uncompressed (no Content-Encoding)")
        if len(self.headers.get_all(HEADER_LENGTH) or []) > 1 or len(self.headers.get_all("Content-Length") or []) > 1:
            raise Refused(400, "a length header appears more than once")

    def _body(self) -> tuple[bytes, str]:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise Refused(411, "send the request with a Content-Length, not chunked")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise Refused(400, "the Content-Length header is not a number") from None
        limit = self.server.limits.max_body
        if length < 0 or length > limit:
            self._discard(length)
            raise Refused(413, f"a body of {length} bytes is larger than any valid request here ({limit} bytes)")
        body = self.rfile.read(length)
        if len(body) != length:
            raise Refused(400, "the body ended before its Content-Length")
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
            header = json.loads(body[:size], object_pairs_hook=_no_repeated_keys)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise Refused(400, f"the request is not valid JSON ({str(exc)[:120]})") from None
        self.server.limits.check_inputs(header)
        self._header_length = None if declared is None else str(size)
        return "application/json" if declared is None else "application/octet-stream"

    def _forward(self, body: bytes, content_type: str | None = None) -> None:
        dropped = HOP_BY_HOP | {"content-type", "host", "accept-encoding", HEADER_LENGTH.lower()}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if self._header_length is not None:
            headers[HEADER_LENGTH] = self._header_length  # the one value that was checked, never a client's copy
        try:
            status, reply_headers, data = self.server.upstream(self.command, self.path, body, headers)
        except TimeoutError:
            self._reply(504, _error_body("the server did not answer in time"))
            return
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
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def server_bind(self) -> None:
        # HTTPServer's own looks the host's name up in DNS (socket.getfqdn), which can stall the start for seconds
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def upstream(self, method: str, path: str, body: bytes, headers: dict[str, str]):
        """Send one request to tritonserver on this thread's kept-alive connection. Only a reused connection that the
        server had closed is retried (once, on a fresh one): a request that may have reached it is never sent twice.
        OSError while tritonserver is down (``pause``) or does not answer; TimeoutError past the timeout."""
        if not self.upstream_port:
            raise OSError("tritonserver is restarting")
        conn = getattr(self._local, "conn", None)
        reused = conn is not None and conn.port == self.upstream_port
        while True:
            if not reused:
                conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=UPSTREAM_TIMEOUT_S)
                conn.connect()
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as in setup(), towards tritonserver
                self._local.conn = conn
            try:
                conn.request(method, path, body=body or None, headers=headers)
                reply = conn.getresponse()
                return reply.status, reply.getheaders(), reply.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self._local.conn = None
                stale = reused and isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError,
                                                    ConnectionResetError))
                if not stale or isinstance(exc, TimeoutError):
                    raise exc if isinstance(exc, OSError) else OSError(str(exc)) from None
                reused = False

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if not self._slots.acquire(blocking=False):  # a flood of idle connections must not exhaust threads
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


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

    def pause(self) -> None:
        """Answer 503 without connecting until ``start`` names tritonserver's new port (a restart's meantime:
        another process could take the dead server's port)."""
        self._server.upstream_port = 0

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()
