"""uvicorn for the daemon: no signal handling of its own (the app owns the shutdown order), saying when it
listens, and holding out against clients that hold sockets open.

uvicorn arms no timer on a new connection and cancels its keep-alive timer at every byte received, so a client
sending its headers a byte at a time (or nothing at all) keeps its socket forever, and a few hundred of them
use up the open-file limit and take every route down. The protocols here give each request's headers a
deadline (``[server] header_timeout``, answered 408), bound their size under httptools as h11 does
(``max_header_bytes``, 431), and answer a connection beyond ``max_connections`` 503 at once. The body's
deadline and size are the ASGI front door's (``claw.web.app.FrontDoor``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import time
from collections.abc import Iterator
from typing import Any

import h11
import structlog
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from claw.config import ServerSection

log = structlog.get_logger("claw.web")


class ListenError(Exception):
    """The address cannot be listened on; the message says why and what to change."""


WHY_NOT = {errno.EADDRINUSE: "the port is in use (another program, or a claw on another home)",
           errno.EACCES: "permission denied (ports below 1024 need privileges)",
           errno.EADDRNOTAVAIL: "that address is not one of this machine's"}


def listen_socket(host: str, port: int) -> socket.socket:
    """Bind the daemon's socket before anything else starts, so a busy port is one line, not a failure after
    start-up; uvicorn serves on it."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; set [server] host") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = WHY_NOT.get(exc.errno or 0, exc.strerror or str(exc))
        raise ListenError(f"cannot listen on {host}:{port}: {why}; choose another port with `claw serve --port N` "
                          "or [server] port in the config") from None
    return sock


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config):
        super().__init__(config)
        self.started_event = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.started_event.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Config(uvicorn.Config):
    """uvicorn's settings plus the ``[server]`` limits the protocols below read."""

    def __init__(self, app: Any, settings: ServerSection, host: str, port: int, **kwargs: Any):
        super().__init__(
            app, host=host, port=port, http=protocol(settings.http), ws="none",
            timeout_keep_alive=settings.keepalive_timeout,
            # uvicorn answers 503 once connections or running requests reach this; ours refuse the surplus
            # connection itself (below), so this is the in-flight request bound, one above the connection cap.
            limit_concurrency=settings.max_connections + 1,
            h11_max_incomplete_event_size=settings.max_header_bytes, **kwargs)
        self.header_timeout = settings.header_timeout
        self.max_connections = settings.max_connections
        self.max_header_bytes = settings.max_header_bytes


def _response(status: str, text: str) -> bytes:
    return (f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
            f"content-length: {len(text)}\r\n\r\n{text}").encode()


BUSY = _response("503 Service Unavailable", "too many connections; retry later\n")
SLOW = _response("408 Request Timeout", "request headers took too long\n")
BIG = _response("431 Request Header Fields Too Large", "request headers too large\n")


class Tally:
    """Logs a flood of one kind of event as one line every ``every`` seconds with a count, not one line each."""

    def __init__(self, event: str, every: float = 10.0):
        self.event, self.every = event, every
        self.count = 0
        self.last = -every

    def add(self, **fields: Any) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= self.every:
            log.warning(self.event, count=self.count, **fields)
            self.count, self.last = 0, now


refused = Tally("http.connection_refused")
cut_off = Tally("http.headers_cut_off")


class HeaderDeadline:
    """The time and bytes a client has left to finish one request's headers; past either it is answered and
    the connection closed."""

    def __init__(self, transport: asyncio.Transport, config: Config):
        self.transport = transport
        self.seconds = config.header_timeout
        self.max_bytes = config.max_header_bytes
        self.timer: asyncio.TimerHandle | None = None
        self.received = 0

    @property
    def waiting(self) -> bool:
        return self.timer is not None

    def start(self) -> None:
        if self.timer is None:
            self.received = 0
            self.timer = asyncio.get_running_loop().call_later(self.seconds, self._expire)

    def done(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def count(self, size: int) -> None:
        """Bytes received while the headers are still incomplete (httptools has no limit of its own)."""
        self.received += size
        if self.received > self.max_bytes:
            self._reject(BIG, "headers too large")

    def _expire(self) -> None:
        self.timer = None
        self._reject(SLOW, "headers too slow")

    def _reject(self, response: bytes, reason: str) -> None:
        self.done()
        if not self.transport.is_closing():
            cut_off.add(reason=reason, client=_peer(self.transport))
            self.transport.write(response)
            self.transport.close()


def _peer(transport: asyncio.BaseTransport) -> str | None:
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else None


def _refuse(connections: set[Any], config: Config, transport: asyncio.Transport) -> bool:
    if len(connections) < config.max_connections:
        return False
    refused.add(open=len(connections), client=_peer(transport))
    transport.write(BUSY)
    transport.close()
    return True


class Guarded(asyncio.Protocol):
    """What both parsers get: the connection cap, and the header deadline armed when a connection is made.
    Mixed in before uvicorn's protocol class, which supplies ``config`` and ``connections``."""

    config: Config
    connections: set[Any]
    deadline: HeaderDeadline | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if _refuse(self.connections, self.config, transport):
            return
        super().connection_made(transport)
        self.deadline = HeaderDeadline(transport, self.config)
        self.deadline.start()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.deadline is None:  # refused: uvicorn never set this connection up
            return
        self.deadline.done()
        super().connection_lost(exc)


class GuardedH11(Guarded, H11Protocol):  # type: ignore[misc]  # config: our uvicorn.Config subclass
    """h11 (which bounds header size itself) with the header deadline and the connection cap."""

    def handle_events(self) -> None:
        super().handle_events()
        if self.deadline is not None and self.conn.their_state is not h11.IDLE:
            self.deadline.done()  # the request line and headers are in (or the connection is failing)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.deadline is not None and not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self.deadline.start()  # the next request's headers, on a kept-alive connection


def protocol(name: str) -> type[asyncio.Protocol]:
    """The guarded protocol class for ``[server] http``."""
    if name == "h11":
        return GuardedH11
    try:
        return _httptools()
    except ImportError:
        if name == "httptools":
            raise
        return GuardedH11


def _httptools() -> type[asyncio.Protocol]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedHttpTools(Guarded, HttpToolsProtocol):  # type: ignore[misc]  # as GuardedH11
        """httptools with the header deadline, a header size limit and the connection cap."""

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.deadline is not None and self.deadline.waiting:
                self.deadline.count(len(data))

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self.deadline is not None:
                self.deadline.start()  # a no-op for the first request: armed when the connection was made

        def on_headers_complete(self) -> None:
            if self.deadline is not None:
                self.deadline.done()
            super().on_headers_complete()

    return GuardedHttpTools
