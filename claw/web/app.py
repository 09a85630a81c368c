"""The Starlette app: ``/healthz``, ``/api/*`` (bearer token), the web chat page, and channels' and skills' routes.

Every API route is an ``Operation`` (``claw.web.schema``): its pydantic models
validate requests and generate ``/openapi.json``.
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from claw.config import ServerSection, field_errors
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


class TranscriptLine(BaseModel):
    id: int
    role: str
    text: str
    at: str
    meta: dict[str, Any]


class Transcript(BaseModel):
    messages: list[TranscriptLine]
    busy: bool


class HomeSnapshot(BaseModel):
    areas: list[dict[str, Any]]
    entities: list[dict[str, Any]]


class Health(BaseModel):
    status: str
    degraded: list[str]
    uptime_s: float
    turns_running: int
    components: dict[str, Any]


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


def create_app(deps: WebDeps) -> Starlette:
    limit = deps.server.max_body_bytes
    authorized = bearer_check(deps.token)

    async def healthz(request: Request) -> Response:
        return JSONResponse(deps.health())

    async def post_message(request: Request) -> Response:
        if not authorized(request):
            return error(401, "missing or wrong token: send 'Authorization: Bearer <token from $CLAW_HOME/web-token>'")
        if "application/json" not in request.headers.get("content-type", ""):
            return error(415, "send the message as JSON with 'Content-Type: application/json'")
        try:
            body = await read_body(request, limit)
        except BodyTooLarge:
            return error(413, f"body larger than {limit} bytes (server.max_body_bytes)")
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return error(400, 'body is not valid JSON; expected {"text": "..."}')
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
            call = ToolCallIn.model_validate_json(await read_body(request, limit))
        except BodyTooLarge:
            return error(413, f"body larger than {limit} bytes (server.max_body_bytes)")
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
        (Operation("GET", "/healthz", "Status and component health (no token)", {200: "status, degraded parts, uptime"},
                   returns={200: Health}, secured=False), healthz),
        (Operation("POST", "/api/messages", "Send one message and wait for the turn", {
            200: "the reply, handled_by, actions and services", 202: "accepted; the reply comes later",
            400: "not JSON", 401: "missing or wrong token", 413: "body too large", 415: "not application/json",
            422: "invalid fields", 503: "storage unavailable; nothing stored"},
            body=MessageIn, returns={200: TurnResult, 202: StillWorking}), post_message),
        (Operation("GET", "/api/messages", "The transcript of a web conversation after a message id", {
            200: "messages and whether a turn is running", 400: "bad parameter", 401: "missing or wrong token"},
            query=TranscriptQuery, returns={200: Transcript}), get_messages),
        (Operation("GET", "/api/home", "Areas and device states", {200: "areas and entities",
                                                                   401: "missing or wrong token"},
                   returns={200: HomeSnapshot}), get_home),
    ]
    if deps.call_tool is not None:
        api.append((Operation("POST", "/api/tools/{name}", "Run one tool as the owner, outside any chat (the CLI)", {
            200: "what the tool answered", 401: "missing or wrong token", 404: "no such tool",
            409: "refused or failed", 413: "body too large",
            422: "invalid fields"}, body=ToolCallIn, returns={200: ToolCallOut}), post_tool))
    if deps.tasks is not None:
        from claw.tasks.api import operations

        api += operations(deps.tasks, authorized)
    document: dict[str, Any] = {}

    async def schema(request: Request) -> Response:
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

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed, 500: server_error,
                                                        OperationalError: storage_unavailable})
