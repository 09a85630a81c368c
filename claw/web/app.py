"""The Starlette app: ``/healthz``, ``/api/*`` (bearer token), the web chat page, and channels' webhooks."""

from __future__ import annotations

import hmac
import json
from importlib import resources
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.schemas import SchemaGenerator

from claw.core import history

if TYPE_CHECKING:
    from claw.app import Runtime

log = structlog.get_logger("claw.web")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=16_000)
    sender: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[\w.@+-]+$")
    id: str | None = Field(None, min_length=1, max_length=128)  # idempotency key: the same id is processed once


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


def create_app(runtime: Runtime) -> Starlette:
    limit = runtime.config.server.max_body_bytes

    def authorized(request: Request, allow_query: bool = False) -> bool:
        supplied = ""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            supplied = header[7:].strip()
        elif allow_query:
            supplied = request.query_params.get("token", "")
        return bool(supplied) and hmac.compare_digest(supplied.encode(), runtime.web_token.encode())

    async def healthz(request: Request) -> Response:
        """Status and component health (no token).
        ---
        summary: Health
        responses:
          200:
            description: status, degraded components, uptime
        """
        return JSONResponse(runtime.health())

    async def post_message(request: Request) -> Response:
        """Send one message and wait for the turn.
        ---
        summary: Send a message
        security: [{bearer: []}]
        requestBody:
          required: true
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                required: [text]
                properties:
                  text: {type: string, minLength: 1, maxLength: 16000}
                  sender: {type: string, minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.@+-]+$"}
                  id: {type: string, minLength: 1, maxLength: 128}
        responses:
          200: {description: the reply, handled_by, actions and services}
          202: {description: accepted; the reply comes later}
          400: {description: not JSON}
          401: {description: missing or wrong token}
          413: {description: body too large}
          415: {description: not application/json}
          422: {description: invalid fields}
          503: {description: storage unavailable; nothing stored}
        """
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
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
            return error(422, problems)
        if not msg.text.strip():
            return error(422, "text: must not be blank")
        sender = msg.sender or "owner"
        accepted = await runtime.accept(
            channel="web", external_id=msg.id, peer=sender, sender=sender, text=msg.text, payload={"owner": True}
        )
        result = await runtime.dispatcher.wait_for(accepted.inbox_id, runtime.config.server.reply_timeout,
                                                   new=accepted.created)
        if result is None:
            return JSONResponse({"id": accepted.inbox_id, "status": "accepted",
                                 "detail": "still working; the reply will appear in GET /api/messages"}, status_code=202)
        return JSONResponse({"id": accepted.inbox_id, "duplicate": not accepted.created, **result})

    async def get_messages(request: Request) -> Response:
        """The transcript of a web conversation after a message id.
        ---
        summary: List messages
        security: [{bearer: []}]
        parameters:
          - {name: after, in: query, required: false, schema: {type: integer}}
          - {name: sender, in: query, required: false, schema: {type: string}}
        responses:
          200: {description: messages and whether a turn is running}
          400: {description: bad parameter}
          401: {description: missing or wrong token}
        """
        if not authorized(request):
            return error(401, "missing or wrong token")
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            return error(400, "after: expected a message id (integer)")
        sender = request.query_params.get("sender", "owner")
        rows = await runtime.db.tx(lambda c: history.since(c, f"web:{sender}", after))
        return JSONResponse({"messages": rows, "busy": runtime.dispatcher.busy() > 0})

    async def get_home(request: Request) -> Response:
        """Areas and device states.
        ---
        summary: Home snapshot
        security: [{bearer: []}]
        responses:
          200: {description: areas and entities}
          401: {description: missing or wrong token}
        """
        if not authorized(request):
            return error(401, "missing or wrong token")
        home = runtime.skills.shared.get("home")
        snapshot = home.snapshot() if home is not None else {"areas": [], "entities": []}
        return JSONResponse(snapshot)

    async def page(request: Request) -> Response:
        if not authorized(request, allow_query=True) and "token" in request.query_params:
            return HTMLResponse("<h1>401</h1><p>That token is not valid. Open the link printed by <code>claw serve</code>.</p>", status_code=401)
        # The page itself holds no data; it asks for the token (from the URL once, then sessionStorage).
        html = resources.files("claw.web").joinpath("static/index.html").read_text(encoding="utf-8")
        return HTMLResponse(html, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                           "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"})

    schemas = SchemaGenerator({"openapi": "3.0.0", "info": {"title": "claw", "version": "1"},
                               "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}})

    async def openapi(request: Request) -> Response:
        """The API's OpenAPI schema, built from the handlers' docstrings (used by the schemathesis tests)."""
        return JSONResponse(schemas.get_schema(app.routes))

    routes: list[Any] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False),
        Route("/api/messages", post_message, methods=["POST"]),
        Route("/api/messages", get_messages, methods=["GET"]),
        Route("/api/home", get_home, methods=["GET"]),
        Route("/", page, methods=["GET"]),
    ]
    for extra in runtime.extra_routes():
        routes.append(extra)

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
    return app
