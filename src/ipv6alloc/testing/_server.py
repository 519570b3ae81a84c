"""The HTTP side: routing, bodies, faults, watches, and a request log.

The server is ``http.server.ThreadingHTTPServer`` speaking HTTP/1.1 (keep-alive, chunked watch
streams). Each request is logged as a :class:`RequestRecord`. Before a resource request is
served, the pending faults are consulted (:class:`FaultRule`, first match wins, each for a
number of requests):

- ``conflict``: 409, the ``Status`` of an optimistic-lock conflict;
- ``throttle``: 429 with ``Retry-After``, answered as the API server's max-in-flight and
  priority-and-fairness filters answer it (plain text ``Too many requests, please try again
  later.``; ``k8s.io/apiserver/pkg/server/filters/maxinflight.go``);
- ``error``: 500, an ``InternalError`` ``Status``;
- ``timeout``: no answer; the connection is held until the client gives up (or ``hold``
  seconds pass), then closed;
- ``lose``: the request is carried out (a write is stored), then the connection is closed
  without an answer.

Request bodies are limited to 3 MiB (``MaxRequestBodyBytes``: 413); an unknown patch type
answers 415 with go-restful's message, which the API server wraps in a ``Status``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import select
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final, Literal
from urllib.parse import parse_qsl, urlsplit

from ._api import PATCH_TYPES, Api, Route, parse_json
from ._discovery import discovery, route
from ._status import ApiError, bad_request, conflict, generic, internal_error, status

__all__ = ["FAULTS", "MAX_BODY", "Fault", "FaultRule", "RequestRecord", "Server"]

#: The kinds of fault :meth:`Emulator.inject <ipv6alloc.testing.Emulator.inject>` takes.
Fault = Literal["conflict", "throttle", "error", "timeout", "lose"]
FAULTS: Final[tuple[Fault, ...]] = ("conflict", "throttle", "error", "timeout", "lose")
#: ``MaxRequestBodyBytes`` of the API server.
MAX_BODY: Final = 3 * 1024 * 1024
_THROTTLED: Final = b"Too many requests, please try again later.\n"
_POLL: Final = 0.05
#: The most of a refused body read before the answer (the rest is cut off).
_DRAIN_LIMIT: Final = 64 * 1024 * 1024
_REASONS: Final = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed"}


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the emulator received, and what became of it.

    Attributes:
        method: The HTTP method (``""`` when the request line was unreadable).
        path: The path with its query string.
        content_type: The ``Content-Type`` header sent, or None.
        status: The status code answered, or None when the connection was dropped.
        fault: The fault injected into this request, or None.
    """

    method: str
    path: str
    content_type: str | None
    status: int | None
    fault: Fault | None = None


@dataclass(slots=True)
class FaultRule:
    """A pending fault: its kind, how many requests are left, and which requests it matches.

    Attributes:
        fault: The kind of fault.
        remaining: Requests left to fault.
        verb: The verb matched (``get``, ``list``, ``watch``, ``create``, ``update``,
            ``patch``, ``delete``) or ``*``.
        resource: The resource matched (``nodes``, ``nodes/status``, ``events``, ``leases``)
            or ``*``.
        name: The object name matched, or None for any.
        retry_after: ``Retry-After`` seconds of a throttle.
        hold: Seconds a timeout holds the request at most.
    """

    fault: Fault
    remaining: int
    verb: str = "patch"
    resource: str = "nodes"
    name: str | None = None
    retry_after: int = 1
    hold: float = 30.0

    def matches(self, target: Route) -> bool:
        """Whether this rule applies to a request for ``target``."""
        return (
            self.remaining > 0
            and self.verb in ("*", target.verb)
            and self.resource in ("*", target.resource)
            and self.name in (None, target.name)
        )


class Server(ThreadingHTTPServer):
    """The HTTP server: the API, its discovery, the pending faults and the request log."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        api: Api,
        version: str,
        *,
        lock: threading.Lock,
        faults: list[FaultRule],
        log: list[RequestRecord],
    ) -> None:
        super().__init__(address, _Handler)
        self.api = api
        self.version = version
        self.stopping = threading.Event()
        self.lock = lock  # guards faults, log and connections
        self.faults = faults
        self.log = log
        self.connections: set[socket.socket] = set()

    @property
    def address(self) -> str:
        """``host:port`` of the listening socket."""
        host, port = self.server_address[:2]
        return f"{host!s}:{port}"

    def take_fault(self, target: Route) -> FaultRule | None:
        """The first pending fault matching ``target``, its count taken down by one."""
        with self.lock:
            for rule in self.faults:
                if rule.matches(target):
                    rule.remaining -= 1
                    return rule
            return None

    def record(self, entry: RequestRecord) -> None:
        """Append to the request log."""
        with self.lock:
            self.log.append(entry)

    def close_connections(self) -> None:
        """Shut every open connection down (held requests and watches end at once)."""
        with self.lock:
            open_now = list(self.connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _DropConnectionError(Exception):
    """The connection is to be closed without an answer."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server
    _pending: RequestRecord | None = None  # the request being served, until it is logged

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        """Say nothing: requests go to the request log instead."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    # -- answering ---------------------------------------------------------------------------

    def _log(self, code: int | None) -> None:
        """Log this request once, before its answer leaves (a client never outruns the log)."""
        pending = self._pending
        if pending is not None:
            self._pending = None
            self.server.record(dataclasses.replace(pending, status=code))

    def _send(self, code: int, data: bytes, content_type: str, headers: dict[str, str]) -> None:
        self._log(code)
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_json(self, code: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, separators=(",", ":")).encode() + b"\n"
        self._send(code, data, "application/json", headers or {})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a malformed request with a ``Status`` and close the connection."""
        del explain
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # answer with a status line and headers anyway
        text = message or "the request could not be read"
        reason = _REASONS.get(code, "BadRequest" if code < 500 else "InternalError")
        method, path = getattr(self, "command", None) or "", getattr(self, "path", "")
        self._pending = RequestRecord(method, path, None, None)
        with contextlib.suppress(OSError):
            self._send_json(code, status(code, reason, text), {"Connection": "close"})

    # -- reading -----------------------------------------------------------------------------

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._chunked_body()
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        if not length_text.isascii() or not length_text.strip().isdigit():
            self.close_connection = True
            raise bad_request(f"bad Content-Length: {length_text!r}")
        length = int(length_text)
        if length > MAX_BODY:
            self.close_connection = True
            self._discard(length)
            raise _too_large()
        return self.rfile.read(length)

    def _discard(self, length: int) -> None:
        """Read and drop a refused body (up to a limit), so the client reads the answer."""
        left = min(length, _DRAIN_LIMIT)
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                return
            left -= len(chunk)

    def _chunked_body(self) -> bytes:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                chunk = int(line, 16)
            except ValueError:
                self.close_connection = True
                raise bad_request("bad chunked body") from None
            if chunk == 0:
                self.rfile.readline(1024)
                return b"".join(parts)
            size += chunk
            if size > MAX_BODY:
                self.close_connection = True
                raise _too_large()
            parts.append(self.rfile.read(chunk))
            self.rfile.readline(1024)

    # -- serving -----------------------------------------------------------------------------

    def _serve(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        content_type = self.headers.get("Content-Type")
        self._pending = RequestRecord(self.command, self.path, content_type, None)
        try:
            raw = self._body()
            target = route(self.command, url.path, watch=query.get("watch", "") in ("true", "1"))
            fault = self.server.take_fault(target) if target is not None else None
            if fault is not None:
                self._pending = dataclasses.replace(self._pending, fault=fault.fault)
            self._answer(url.path, query, content_type, raw, target=target, fault=fault)
        except ApiError as error:
            self._send_json(error.code, error.body, error.headers)
        except (_DropConnectionError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # any bug answers 500 and never stops the server
            failure = internal_error(f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(OSError):
                self._send_json(500, failure.body)
        self._log(None)  # no answer was sent

    def _answer(
        self,
        path: str,
        query: dict[str, str],
        content_type: str | None,
        raw: bytes,
        *,
        target: Route | None,
        fault: FaultRule | None,
    ) -> None:
        """Serve one request."""
        if target is None:
            self._answer_other(path)
        elif fault is not None and fault.fault != "lose":
            self._inject(fault, target)
        elif target.verb == "watch":
            if fault is not None:
                raise _DropConnectionError
            self._stream(target, query)
        else:
            code, body = self._operate(target, query, content_type, raw)
            if fault is not None:  # "lose": the work is done, the answer never leaves
                raise _DropConnectionError
            self._send_json(code, body)

    def _answer_other(self, path: str) -> None:
        if self.command == "GET" and path.rstrip("/") in ("/healthz", "/livez", "/readyz"):
            self._send(200, b"ok", "text/plain; charset=utf-8", {})
            return
        document = discovery(path, self.server.version, self.server.address)
        if document is not None and self.command == "GET":
            self._send_json(200, document)
            return
        if document is not None or route("GET", path, watch=False) is not None:
            raise generic(405)
        raise generic(404)

    def _operate(
        self, target: Route, query: dict[str, str], content_type: str | None, raw: bytes
    ) -> tuple[int, dict[str, object]]:
        api = self.server.api
        if target.verb == "get":
            return api.get(target)
        if target.verb == "list":
            return api.list(target, query)
        if target.verb == "patch":
            base = (content_type or "").split(";", 1)[0].strip().lower()
            if base not in PATCH_TYPES:
                raise generic(415, "415: Unsupported Media Type")
            return api.patch(target, base, raw)
        if target.verb == "delete":
            return api.delete(target, parse_json(raw) if raw.strip() else None)
        body = parse_json(raw)  # a missing Content-Type is read as JSON
        if target.verb == "create":
            return api.create(target, body)
        return api.update(target, body)

    def _inject(self, fault: FaultRule, target: Route) -> None:
        if fault.fault == "conflict":
            error = conflict(target.kind.resource, target.name, target.kind.group)
            self._send_json(409, error.body)
            return
        if fault.fault == "throttle":
            headers = {"Retry-After": str(fault.retry_after), "X-Content-Type-Options": "nosniff"}
            self._send(429, _THROTTLED, "text/plain; charset=utf-8", headers)
            return
        if fault.fault == "error":
            self._send_json(500, internal_error("injected fault: error").body)
            return
        self._hold(fault.hold)
        raise _DropConnectionError

    def _hold(self, seconds: float) -> None:
        """Wait without answering until the client leaves, ``seconds`` pass, or shutdown."""
        deadline = time.monotonic() + seconds
        connection = self.connection
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            try:
                readable, _, _ = select.select([connection], [], [], _POLL)
                if readable and not connection.recv(1, socket.MSG_PEEK):
                    return  # the client closed its end
            except (OSError, ValueError):
                return

    def _stream(self, target: Route, query: dict[str, str]) -> None:
        watch = self.server.api.watch(target, query)
        self._log(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for event in watch.events(self.server.stopping):
                data = json.dumps(event, separators=(",", ":")).encode() + b"\n"
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True


def _too_large() -> ApiError:
    return ApiError(
        status(413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY}")
    )
