"""The Starlette app: ``/healthz``, ``/api/*`` (bearer token), the web chat page, and channels' and skills' routes.

Every API route is an ``Operation`` (``claw.web.schema``): its pydantic models
validate requests and generate ``/openapi.json``. ``FrontDoor`` checks every
request before any route sees it (Host, Origin, the body's size and time, JSON
that parses safely), so a route never meets a slow, huge or hostile body.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from claw.config import ServerSection, field_errors
from claw.core.feed import Feed
from claw.core.history import PAGE
from claw.core.inbox import Inbox
from claw.skill import ToolError
from claw.web.schema import Operation, openapi

if TYPE_CHECKING:
    from claw.tasks.service import TaskService

log = structlog.get_logger("claw.web")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=16_000)
    sender: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[\w.@+-]+$")
    id: str | None = Field(None, min_length=1, max_length=128)  # idempotency key: the same id is processed once


class ToolCallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arguments: dict[str, Any] = {}


class ToolCallOut(BaseModel):
    content: str


class TurnResult(BaseModel):
    id: int
    duplicate: bool
    reply: str
    handled_by: str
    actions: list[dict[str, Any]]
    services: list[dict[str, Any]]


class StillWorking(BaseModel):
    id: int
    status: str
    detail: str


class TranscriptQuery(BaseModel):
    after: int = Field(0, ge=0, le=2**62)
    sender: str = Field("owner", min_length=1, max_length=64, pattern=r"^[\w.@+-]+$")


class EventsQuery(TranscriptQuery):
    """``after``: the last message id the client has (``Last-Event-ID`` on a reconnect wins when larger)."""


class TranscriptLine(BaseModel):
    id: int
    role: str
    text: str
    at: str
    meta: dict[str, Any]
    inbox_id: int | None  # the message this line answers (None: claw wrote first)


class Transcript(BaseModel):
    messages: list[TranscriptLine]
    busy: bool


class HomeSnapshot(BaseModel):
    areas: list[dict[str, Any]]
    entities: list[dict[str, Any]]


class Health(BaseModel):
    """Without the token only ``status``: the rest names cameras, brokers and faults."""

    status: str
    degraded: list[str] | None = None
    uptime_s: float | None = None
    turns_running: int | None = None
    components: dict[str, Any] | None = None


class Replies(Protocol):
    """Waiting for a turn's result (``claw.core.dispatcher.Dispatcher``)."""

    async def wait_for(self, inbox_id: int, within: float, new: bool = False) -> dict[str, Any] | None: ...

    def busy(self) -> int: ...


@dataclass
class WebDeps:
    """What the HTTP front door uses."""

    token: str
    inbox: Inbox
    replies: Replies
    transcript: Callable[[str, int], Awaitable[list[dict[str, Any]]]]  # (conversation, after id) -> messages
    home: Callable[[], dict[str, Any]]  # areas and entities
    health: Callable[[], dict[str, Any]]
    server: ServerSection
    tasks: TaskService | None = None
    #: (tool, arguments) -> the tool's answer, for the owner's CLI; raises KeyError or ToolError
    call_tool: Callable[[str, dict[str, Any]], Awaitable[str]] | None = None
    routes: list[BaseRoute] = field(default_factory=list)  # channels' webhooks, skills' routes
    feed: Feed | None = None  # wakes GET /api/events


#: Seconds between comment lines on an idle stream: proxies keep it open, a gone client is noticed.
KEEPALIVE = 15.0
#: Seconds between two home events on one stream.
HOME_EVERY = 1.0


async def _events(deps: WebDeps, feed: Feed, conversation: str, after: int) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    seen: dict[str, int] | None = None  # None: the first look, which sends every line after ``after``
    busy: bool | None = None
    last_home = 0.0
    while not feed.closed:
        versions = dict(feed.versions)
        page = PAGE if seen is None or versions.get("messages") != seen.get("messages") else 0
        while page == PAGE:  # a reconnect after a long gap reads every page, not only the last
            lines = await deps.transcript(conversation, after)
            page = len(lines)
            for line in lines:
                after = line["id"]
                # ASCII JSON: a U+2028 in a message would otherwise split the data line in clients that
                # treat it as a line break (httpx does), and wedge them on that line
                yield f"id: {after}\nevent: message\ndata: {json.dumps(line)}\n\n"
        if seen is not None and versions.get("home") != seen.get("home"):
            # a house of chatty sensors: at most one refresh of the panel a second per open chat
            await asyncio.sleep(max(0.0, last_home + HOME_EVERY - time.monotonic()))
            last_home = time.monotonic()
            yield "event: home\ndata: {}\n\n"
        if (now := deps.replies.busy() > 0) != busy:
            busy = now
            yield f'event: status\ndata: {{"busy": {json.dumps(busy)}}}\n\n'
        seen = versions
        if not await feed.wait(seen, KEEPALIVE):
            yield ": ping\n\n"


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


# -- the front door ---------------------------------------------------------------------------------------

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD = frozenset({"0.0.0.0", "::", ""})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: JSON this API never needs and parsers choke on: deeper nesting, longer integers.
MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 30


class Hosts:
    """The names a request may carry in ``Host`` and ``Origin``: loopback, the bound address, the channels'
    public_url hosts and ``[server] allowed_hosts``. A DNS-rebinding page carries its own name, so it is refused;
    an IP address cannot be rebound, so when bound to every interface any address of this machine is accepted."""

    def __init__(self, bound: str, public_urls: Iterable[str] = (), extra: Iterable[str] = ()):
        names = set(LOOPBACK) | {h.lower().strip("[]") for h in extra}
        names |= {host for url in public_urls if (host := urlsplit(url).hostname)}
        self.any_address = bound in WILDCARD
        if not self.any_address:
            names.add(bound.lower().strip("[]"))
        self.names = frozenset(names)

    def allows(self, netloc: str | None) -> bool:
        """``netloc`` is ``host[:port]`` as in a Host header."""
        if not netloc or any(c in netloc for c in "@/\\?#"):
            return False
        try:
            name = urlsplit(f"//{netloc}").hostname
        except ValueError:
            return False
        if not name:
            return False
        if name in self.names:
            return True
        if self.any_address:
            try:
                ipaddress.ip_address(name)
            except ValueError:
                return False
            return True
        return False

    def allows_origin(self, origin: str) -> bool:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and self.allows(parts.netloc)


class UnsafeJSON(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnsafeJSON("number out of range")
    return value


def _short_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise UnsafeJSON(f"integer longer than {MAX_INT_DIGITS} digits")
    return int(text)


def _no_constant(text: str) -> Any:
    raise UnsafeJSON(f"{text} is not JSON")


def safe_json(body: bytes) -> Any:
    """``body`` parsed, or ``UnsafeJSON`` saying why not: not UTF-8, not JSON, nested deeper than
    ``MAX_JSON_DEPTH``, an integer longer than ``MAX_INT_DIGITS`` digits, an infinite number or NaN."""
    try:
        value = json.loads(body.decode("utf-8"), parse_float=_finite, parse_int=_short_int,
                           parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise UnsafeJSON("not UTF-8") from None
    except RecursionError:
        raise UnsafeJSON(f"nested deeper than {MAX_JSON_DEPTH}") from None
    except UnsafeJSON:
        raise
    except ValueError as exc:
        raise UnsafeJSON(str(exc).split(":")[0]) from None
    level: list[Any] = [value]
    for _ in range(MAX_JSON_DEPTH):
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)]
        if not level:
            return value
    if any(isinstance(item, (dict, list)) for item in level):
        raise UnsafeJSON(f"nested deeper than {MAX_JSON_DEPTH}")
    return value


class FrontDoor:
    """ASGI middleware in front of every route. In order: ``Host`` must name this machine (400), a
    state-changing request's ``Origin``, if sent, too (403); ``/api/`` needs the token (401) before its body is
    read; the whole body must arrive within ``[server] body_timeout`` (408) and ``max_body_bytes`` (413), since
    uvicorn bounds neither; a body on ``/api/`` must be JSON (415) that parses safely (400). The route then
    reads the body already received."""

    def __init__(self, app: ASGIApp, settings: ServerSection, hosts: Hosts, authorized: Authorized):
        self.app = app
        self.hosts = hosts
        self.authorized = authorized
        self.limit = settings.max_body_bytes
        self.timeout = settings.body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        if not self.hosts.allows(headers.get("host")):
            log.warning("http.refused", reason="unknown host", host=headers.get("host", "")[:100], path=path)
            await _answer(send, 400, "unknown Host: add it to [server] allowed_hosts if you open claw by that name")
            return
        origin = headers.get("origin")
        if scope["method"] in UNSAFE and origin is not None and not self.hosts.allows_origin(origin):
            log.warning("http.refused", reason="foreign origin", origin=origin[:100], path=path)
            await _answer(send, 403, "cross-site request refused (Origin is not this machine)")
            return
        api = path.startswith("/api/")
        if api and not self.authorized(Request(scope)):
            await _answer(send, 401, "missing or wrong token: send 'Authorization: Bearer <token from "
                                     "$CLAW_HOME/web-token>'", close=True)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await _answer(send, 413, f"body larger than {self.limit} bytes (server.max_body_bytes)", close=True)
            return
        body = bytearray()
        try:
            async with asyncio.timeout(self.timeout):
                more = True
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                    if len(body) > self.limit:
                        await _answer(send, 413, f"body larger than {self.limit} bytes (server.max_body_bytes)",
                                      close=True)
                        return
        except TimeoutError:
            log.warning("http.refused", reason="body too slow", path=path, received=len(body))
            await _answer(send, 408, f"the body took longer than {self.timeout:g} s (server.body_timeout)", close=True)
            return
        if body and api:
            if "application/json" not in headers.get("content-type", ""):
                await _answer(send, 415, "send JSON with 'Content-Type: application/json'")
                return
            try:
                safe_json(bytes(body))
            except UnsafeJSON as exc:
                await _answer(send, 400, f"body is not valid JSON ({exc})")
                return
        await self.app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the connection's own messages (a disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, status: int, message: str, close: bool = False) -> None:
    """An error answered before any route ran; ``close`` when the rest of the body is not worth reading."""
    raw = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


class Authorized(Protocol):
    def __call__(self, request: Request, allow_query: bool = False) -> bool: ...


def bearer_check(token: str) -> Authorized:
    def authorized(request: Request, allow_query: bool = False) -> bool:
        supplied = ""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            supplied = header[7:].strip()
        elif allow_query:
            supplied = request.query_params.get("token", "")
        return bool(supplied) and hmac.compare_digest(supplied.encode(), token.encode())

    return authorized


def create_app(deps: WebDeps, bound: str = "127.0.0.1", public_urls: Iterable[str] = ()) -> ASGIApp:
    """The routes behind the ``FrontDoor``; ``bound`` is the address served, ``public_urls`` the channels'."""
    limit = deps.server.max_body_bytes
    authorized = bearer_check(deps.token)

    async def healthz(request: Request) -> Response:
        health = deps.health()
        if authorized(request):
            return JSONResponse(health)
        return JSONResponse({"status": health["status"]})  # details (components, faults) only with the token

    async def post_message(request: Request) -> Response:
        if not authorized(request):
            return error(401, "missing or wrong token: send 'Authorization: Bearer <token from $CLAW_HOME/web-token>'")
        if "application/json" not in request.headers.get("content-type", ""):
            return error(415, "send the message as JSON with 'Content-Type: application/json'")
        try:
            data = safe_json(await read_body(request, limit))
        except BodyTooLarge:
            return error(413, f"body larger than {limit} bytes (server.max_body_bytes)")
        except UnsafeJSON as exc:
            return error(400, f'body is not valid JSON ({exc}); expected {{"text": "..."}}')
        if not isinstance(data, dict):
            return error(400, 'expected a JSON object like {"text": "..."}')
        try:
            msg = MessageIn.model_validate(data)
        except ValidationError as exc:
            return error(422, field_errors(exc))
        if not msg.text.strip():
            return error(422, "text: must not be blank")
        sender = msg.sender or "owner"
        accepted = await deps.inbox.enqueue(channel="web", external_id=msg.id or uuid.uuid4().hex, peer=sender, sender=sender,
                                            text=msg.text, payload={"owner": True})
        result = await deps.replies.wait_for(accepted.inbox_id, deps.server.reply_timeout, new=accepted.created)
        if result is None:
            return JSONResponse({"id": accepted.inbox_id, "status": "accepted",
                                 "detail": "still working; the reply will appear in GET /api/messages"}, status_code=202)
        return JSONResponse({"id": accepted.inbox_id, "duplicate": not accepted.created, **result})

    async def post_tool(request: Request) -> Response:
        if not authorized(request):
            return error(401, "missing or wrong token")
        assert deps.call_tool is not None
        try:
            call = ToolCallIn.model_validate(safe_json(await read_body(request, limit)))
        except BodyTooLarge:
            return error(413, f"body larger than {limit} bytes (server.max_body_bytes)")
        except UnsafeJSON as exc:
            return error(400, f"body is not valid JSON ({exc})")
        except ValidationError as exc:
            return error(422, field_errors(exc))
        name = request.path_params["name"]
        try:
            content = await deps.call_tool(name, call.arguments)
        except KeyError:
            return error(404, f"no tool named {name!r} that the command line may call")
        except ToolError as exc:
            return error(409, str(exc))
        except TimeoutError:
            return error(504, f"{name} did not finish in time")
        return JSONResponse({"content": content})

    async def get_messages(request: Request) -> Response:
        if not authorized(request):
            return error(401, "missing or wrong token")
        try:
            query = TranscriptQuery.model_validate(dict(request.query_params))
        except ValidationError as exc:
            return error(400, field_errors(exc))
        rows = await deps.transcript(f"web:{query.sender}", query.after)
        return JSONResponse({"messages": rows, "busy": deps.replies.busy() > 0})

    async def get_events(request: Request) -> Response:
        """Server-sent events: ``message`` (a transcript line, also what claw sends unasked), ``home`` (a device
        changed: fetch /api/home), ``status`` (whether a turn is running). Woken by the feed, never polling."""
        if not authorized(request):
            return error(401, "missing or wrong token")
        if deps.feed is None:
            return error(404, "no live stream here")
        try:
            query = EventsQuery.model_validate(dict(request.query_params))
        except ValidationError as exc:
            return error(400, field_errors(exc))
        resume = request.headers.get("last-event-id", "")
        after = max(query.after, int(resume) if resume.isdigit() and len(resume) < 19 else 0)
        return StreamingResponse(_events(deps, deps.feed, f"web:{query.sender}", after), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def get_home(request: Request) -> Response:
        if not authorized(request):
            return error(401, "missing or wrong token")
        return JSONResponse(deps.home())

    async def page(request: Request) -> Response:
        if not authorized(request, allow_query=True) and "token" in request.query_params:
            return HTMLResponse("<h1>401</h1><p>That token is not valid. Open the link printed by <code>claw serve</code>.</p>", status_code=401)
        # The page itself holds no data; it asks for the token (from the URL once, then sessionStorage).
        html = resources.files("claw.web").joinpath("static/index.html").read_text(encoding="utf-8")
        return HTMLResponse(html, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                           "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"})

    api: list[tuple[Operation, Any]] = [
        (Operation("GET", "/healthz", "Status; with the token also degraded parts, uptime and components",
                   {200: "status (and with the token the details)"}, returns={200: Health}, secured=False), healthz),
        (Operation("POST", "/api/messages", "Send one message and wait for the turn", {
            200: "the reply, handled_by, actions and services", 202: "accepted; the reply comes later",
            400: "not JSON", 401: "missing or wrong token", 413: "body too large", 415: "not application/json",
            422: "invalid fields", 503: "storage unavailable; nothing stored"},
            body=MessageIn, returns={200: TurnResult, 202: StillWorking}), post_message),
        (Operation("GET", "/api/messages", "The transcript of a web conversation after a message id", {
            200: "messages and whether a turn is running", 400: "bad parameter", 401: "missing or wrong token"},
            query=TranscriptQuery, returns={200: Transcript}), get_messages),
        (Operation("GET", "/api/events", "A live stream (text/event-stream) of the web conversation's new lines, "
                   "messages claw sends on its own, home changes and whether a turn runs", {
                       200: "server-sent events: message, home, status", 400: "bad parameter",
                       401: "missing or wrong token"}, query=EventsQuery), get_events),
        (Operation("GET", "/api/home", "Areas and device states", {200: "areas and entities",
                                                                   401: "missing or wrong token"},
                   returns={200: HomeSnapshot}), get_home),
    ]
    if deps.call_tool is not None:
        api.append((Operation("POST", "/api/tools/{name}", "Run one tool as the owner, outside any chat (the CLI)", {
            200: "what the tool answered", 400: "not JSON", 401: "missing or wrong token", 404: "no such tool",
            409: "refused or failed", 413: "body too large",
            422: "invalid fields"}, body=ToolCallIn, returns={200: ToolCallOut}), post_tool))
    if deps.tasks is not None:
        from claw.tasks.api import operations

        api += operations(deps.tasks, authorized)
    document: dict[str, Any] = {}

    async def schema(request: Request) -> Response:
        if not authorized(request):
            return error(401, "missing or wrong token")
        if not document:  # built on first use: nothing at start-up pays for it
            document.update(openapi([op for op, _ in api]))
        return JSONResponse(document)

    routes: list[BaseRoute] = [Route(op.path, handler, methods=[op.method]) for op, handler in api]
    routes += [Route("/openapi.json", schema, methods=["GET"]), Route("/", page, methods=["GET"]), *deps.routes]

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(404, "not found")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error(405, "method not allowed")

    async def storage_unavailable(request: Request, exc: Exception) -> Response:
        """Disk full or the database locked past busy_timeout: nothing was stored, so say "retry", not "bug"."""
        log.error("http.storage_unavailable", path=request.url.path, error=str(getattr(exc, "orig", exc)))
        return JSONResponse({"error": "storage unavailable (database locked or disk full); nothing was stored, retry later"},
                            status_code=503, headers={"Retry-After": "5"})

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("http.error", path=request.url.path)
        return error(500, "internal error (logged)")

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed, 500: server_error,
                                                       OperationalError: storage_unavailable})
    return FrontDoor(app, deps.server, Hosts(bound, public_urls, deps.server.allowed_hosts), authorized)
