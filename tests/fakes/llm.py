"""A fake LLM server speaking the Anthropic Messages and OpenAI Chat Completions APIs.

Why a real server: the official ``anthropic`` and ``openai`` SDKs send requests
through ``httpx2``, which respx and pytest-httpx cannot intercept. Serving the
wire protocol on 127.0.0.1 lets tests drive the *real* SDK code paths (retries,
SSE parsing, stream accumulation, error classes), both from in-process async
tests and from a claw daemon started as a subprocess.

Typical use::

    with FakeLLM() as fake:
        fake.script(Reply(text="hi"), Reply(tool_calls=[ToolUse("get_time", {"tz": "UTC"})]))
        client = anthropic.Anthropic(base_url=fake.url, api_key="test")
        ...  # or openai.OpenAI(base_url=fake.openai_url, api_key="test")
        assert fake.requests[0].last_user_text() == "what time is it?"

Scripted items are consumed in order by whichever API asks next. When the
script is empty, ``fake.responder`` (if set) decides, otherwise the fake
answers ``Reply(text="(fake llm: nothing scripted)")``.

Only the generation endpoints (``POST /v1/messages`` and
``POST /v1/chat/completions``) are recorded, consume the script and honour
``hold()``. ``POST /v1/messages/count_tokens`` and ``GET /v1/models[/{id}]``
always answer directly, so a "doctor" reachability check never eats a
scripted reply.

The server uses the standard library only, so it has no event loop of its own
and works the same whether the client is sync, async, or another process.
"""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = [
    "DEFAULT_TEXT",
    "Error",
    "FakeLLM",
    "Hang",
    "RecordedRequest",
    "Reply",
    "ScriptItem",
    "ToolResult",
    "ToolUse",
]

DEFAULT_TEXT = "(fake llm: nothing scripted)"

Api = Literal["anthropic", "openai"]


# --------------------------------------------------------------------------- script items


@dataclass(frozen=True)
class ToolUse:
    """One tool call the fake model makes.

    ``arguments`` may be a raw string to simulate malformed JSON from a model:

    * OpenAI: the string goes verbatim into ``function.arguments`` (that API
      really does hand clients unparsed, possibly broken JSON).
    * Anthropic: ``tool_use.input`` is always an object on the wire, so the
      string is sent parsed if it parses to a JSON object, and otherwise
      wrapped as ``{"_raw": "<the string>"}``.

    ``id`` defaults to a fresh ``toolu_...`` (Anthropic) or ``call_...``
    (OpenAI) id; give one to make the follow-up tool_result easy to assert.
    """

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """A successful model turn: optional text, then optional tool calls.

    ``usage`` keys (all optional): ``input_tokens`` (uncached input; default
    ``len(request json) // 4``), ``output_tokens`` (default 10), ``cache_read``
    and ``cache_write`` (default 0). Anthropic reports them as-is; OpenAI
    reports ``prompt_tokens = input + cache_read + cache_write`` with
    ``prompt_tokens_details.cached_tokens = cache_read``.

    ``stop_reason`` overrides the derived one and may be given in either API's
    vocabulary ("end_turn"/"stop", "tool_use"/"tool_calls",
    "max_tokens"/"length", ...); it is translated for the other API.
    """

    text: str = ""
    tool_calls: list[ToolUse] = field(default_factory=list)
    usage: dict[str, int] | None = None
    stop_reason: str | None = None


@dataclass(frozen=True)
class Error:
    """An HTTP error in the asking API's own error format.

    ``type`` overrides the error type string (e.g. Anthropic ``"overloaded_error"``
    is already the default for 529). ``retry_after`` (seconds) is sent as the
    ``retry-after`` header, which both SDKs honour when it is > 0; with 0 they
    fall back to their own short backoff (~0.5 s).
    """

    status: int
    message: str = ""
    retry_after: float | None = None
    type: str | None = None


@dataclass(frozen=True)
class Hang:
    """Accept the request and send nothing for ``seconds``, then drop the connection.

    Meant for client-timeout tests: the client gives up long before. Stopping
    the fake cuts the hang short.
    """

    seconds: float = 30.0


ScriptItem = Reply | Error | Hang
Responder = Callable[["RecordedRequest"], ScriptItem]


# --------------------------------------------------------------------------- recorded requests


class ToolResult(NamedTuple):
    """A tool result the client sent back (a plain tuple, so tests may unpack it)."""

    tool_use_id: str
    content: str
    is_error: bool


@dataclass(frozen=True)
class RecordedRequest:
    """One generation request as the fake received it, with API-neutral helpers."""

    api: Api
    path: str
    headers: dict[str, str]  # lower-case keys
    body: dict[str, Any]

    @property
    def stream(self) -> bool:
        return self.body.get("stream") is True

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def api_key(self) -> str | None:
        """The key the client authenticated with. anthropic 2.x sends it as
        ``authorization: Bearer ...`` (older SDKs used ``x-api-key``); both are read."""
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" and token else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The ``messages`` list exactly as sent (OpenAI's includes system messages)."""
        return list(self.body.get("messages") or [])

    def system_text(self) -> str:
        """The system prompt as one string: Anthropic ``system`` (string or text
        blocks), or OpenAI ``system``/``developer`` messages, joined by newlines."""
        if self.api == "anthropic":
            return _text_of(self.body.get("system"))
        parts = [
            _text_of(m.get("content"))
            for m in self.messages
            if m.get("role") in ("system", "developer")
        ]
        return "\n".join(parts)

    def tool_names(self) -> list[str]:
        """Names of the tool definitions sent (either API's shape)."""
        names: list[str] = []
        for tool in self.body.get("tools") or []:
            function = tool.get("function")
            name = function.get("name") if isinstance(function, dict) else tool.get("name")
            if name:
                names.append(str(name))
        return names

    def last_user_text(self) -> str:
        """Text of the last user message, text blocks joined by newlines.

        Anthropic user turns that only carry tool_result blocks are skipped, so
        both APIs give what the human last said (OpenAI puts tool results in
        ``role="tool"`` messages instead).
        """
        for message in reversed(self.messages):
            if message.get("role") != "user":
                continue
            content = message.get("content")
            if isinstance(content, list) and content and all(
                isinstance(b, dict) and b.get("type") == "tool_result" for b in content
            ):
                continue
            return _text_of(content)
        return ""

    def images(self) -> list[dict[str, Any]]:
        """Every image block sent: Anthropic ``{"type": "image", ...}`` (also inside
        tool_result content) and OpenAI ``{"type": "image_url", ...}``."""
        found: list[dict[str, Any]] = []

        def walk(blocks: list[Any]) -> None:
            for block in blocks:
                if not isinstance(block, dict):
                    continue
                if block.get("type") in ("image", "image_url"):
                    found.append(block)
                elif block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                    walk(block["content"])

        for message in self.messages:
            if isinstance(message.get("content"), list):
                walk(message["content"])
        return found

    def tool_results(self) -> list[ToolResult]:
        """Tool results sent back: Anthropic tool_result blocks or OpenAI
        ``role="tool"`` messages (which have no error flag: always False)."""
        results: list[ToolResult] = []
        for message in self.messages:
            content = message.get("content")
            if self.api == "openai":
                if message.get("role") == "tool":
                    results.append(
                        ToolResult(str(message.get("tool_call_id", "")), _text_of(content), False)
                    )
                continue
            if message.get("role") != "user" or not isinstance(content, list):
                continue
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    results.append(
                        ToolResult(
                            str(block.get("tool_use_id", "")),
                            _text_of(block.get("content")),
                            bool(block.get("is_error", False)),
                        )
                    )
        return results


def _text_of(content: Any) -> str:
    """A string content, or the text blocks/parts of a list content joined by newlines."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return str(content)


# --------------------------------------------------------------------------- the server


class FakeLLM:
    """A loopback server scripted by the test. See the module docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.responder: Responder | None = None
        # Served by GET /v1/models for both APIs; set it to what a doctor check expects.
        self.models: list[str] = ["claude-fake-1", "gpt-fake-1"]
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._script: deque[ScriptItem] = deque()
        self._holds: deque[threading.Event] = deque()
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle

    def start(self) -> FakeLLM:
        """Bind and serve in a daemon thread; returns self for chaining."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self._host, self._port), _Handler, self)
        self._thread = threading.Thread(
            # A short poll keeps stop() fast; the default 0.5 s adds up over a suite.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-llm:{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut short any Hang/hold, and drop open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL for the anthropic SDK (it appends ``/v1/messages``)."""
        if self._server is None:
            raise RuntimeError("FakeLLM is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_url(self) -> str:
        """Base URL for the openai SDK (it appends ``/chat/completions``)."""
        return self.url + "/v1"

    # ----- scripting

    def script(self, *items: ScriptItem) -> FakeLLM:
        """Append responses, consumed in order by the next generation requests."""
        with self._lock:
            self._script.extend(items)
        return self

    def hold(self) -> threading.Event:
        """Make the next generation request wait until the returned event is set.

        The request is recorded on arrival (so ``wait_for_requests`` sees it)
        and its response is chosen only after release. If the client hung up
        meanwhile (e.g. the daemon was killed mid-turn), nothing is consumed
        from the script.
        """
        gate = threading.Event()
        with self._lock:
            self._holds.append(gate)
        return gate

    def clear(self) -> None:
        """Forget the script, recorded requests and not-yet-used holds (not the responder)."""
        with self._lock:
            self._script.clear()
            self._requests.clear()
            self._holds.clear()

    # ----- inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the generation requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def wait_for_requests(self, n: int, timeout: float = 10) -> bool:
        """Block until at least ``n`` generation requests arrived; False on timeout."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self._requests) >= n, timeout)

    # ----- used by the handler threads

    def _arrive(self, request: RecordedRequest) -> threading.Event | None:
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()
            return self._holds.popleft() if self._holds else None

    def _next_item(self, request: RecordedRequest) -> ScriptItem:
        with self._lock:
            if self._script:
                return self._script.popleft()
            responder = self.responder
        if responder is not None:
            return responder(request)
        return Reply(text=DEFAULT_TEXT)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # never let a hung handler keep the test process alive

    def __init__(self, address: tuple[str, int], handler: type[_Handler], fake: FakeLLM) -> None:
        self.fake = fake
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    """Routes one HTTP/1.1 connection's requests to the fake (keep-alive, like real APIs)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: with Nagle on, the body waited for the client's delayed ACK of
    # the headers, about 40 ms on every kept-alive request, which the real APIs do not add.
    disable_nagle_algorithm = True
    server: _Server

    @property
    def fake(self) -> FakeLLM:
        return self.server.fake

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep pytest output clean

    # ----- routing

    def do_GET(self) -> None:
        api = self._api_from_headers()
        path = urlsplit(self.path).path
        if path == "/v1/models":
            self._send_json(200, _models_page(api, self.fake.models), api)
        elif path.startswith("/v1/models/"):
            model_id = unquote(path.removeprefix("/v1/models/"))
            if model_id in self.fake.models:
                self._send_json(200, _model_entry(api, model_id), api)
            else:
                self._send_error(api, Error(404, f"model: {model_id}"))
        else:
            self._send_error(api, Error(404, f"Not found: GET {path}"))

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        api: Api = "openai" if path == "/v1/chat/completions" else "anthropic"
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body is not an object")
        except ValueError as exc:
            self._send_error(api, Error(400, f"Invalid JSON body: {exc}"))
            return
        if path in ("/v1/messages", "/v1/chat/completions"):
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._generate(RecordedRequest(api, path, headers, body))
        elif path == "/v1/messages/count_tokens":
            self._send_json(200, {"input_tokens": _estimate_tokens(body)}, api)
        else:
            self._send_error(api, Error(404, f"Not found: POST {path}"))

    def _api_from_headers(self) -> Api:
        # GET /v1/models is the same path for both SDKs; only anthropic sends this header.
        return "anthropic" if "anthropic-version" in self.headers else "openai"

    # ----- generation

    def _generate(self, request: RecordedRequest) -> None:
        gate = self.fake._arrive(request)
        if gate is not None:
            while not gate.wait(0.05):
                if self.fake._stopping.is_set():
                    self.close_connection = True
                    return
            if self._peer_closed():
                self.close_connection = True
                return
        item = self.fake._next_item(request)
        if isinstance(item, Hang):
            self.fake._stopping.wait(item.seconds)
            self.close_connection = True
        elif isinstance(item, Error):
            self._send_error(request.api, item)
        elif request.stream:
            self._send_stream(request, item)
        else:
            builder = _anthropic_message if request.api == "anthropic" else _openai_completion
            self._send_json(200, builder(request, item), request.api)

    def _peer_closed(self) -> bool:
        """True if the client hung up (readable socket with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    # ----- writing

    def _send_json(
        self, status: int, payload: Any, api: Api, extra_headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status, _REASONS.get(status))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self._send_request_id(api)
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self._write(data)

    def _send_error(self, api: Api, error: Error) -> None:
        headers: dict[str, str] = {}
        if error.retry_after is not None:
            headers["retry-after"] = _format_seconds(error.retry_after)
        payload = _anthropic_error(error) if api == "anthropic" else _openai_error(error)
        self._send_json(error.status, payload, api, headers)

    def _send_stream(self, request: RecordedRequest, reply: Reply) -> None:
        """Server-sent events over chunked transfer encoding, one write per event."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self._send_request_id(request.api)
        self.end_headers()
        if request.api == "anthropic":
            # The anthropic SDK ignores SSE frames without an `event:` line.
            frames = [
                f"event: {e['type']}\ndata: {json.dumps(e)}\n\n"
                for e in _anthropic_events(request, reply)
            ]
        else:
            frames = [f"data: {json.dumps(c)}\n\n" for c in _openai_chunks(request, reply)]
            frames.append("data: [DONE]\n\n")
        for frame in frames:
            data = frame.encode()
            if not self._write(b"%x\r\n%s\r\n" % (len(data), data)):
                return
        self._write(b"0\r\n\r\n")

    def _send_request_id(self, api: Api) -> None:
        name = "request-id" if api == "anthropic" else "x-request-id"
        self.send_header(name, f"req_{uuid.uuid4().hex[:24]}")

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            return True
        except OSError:  # the client went away mid-response
            self.close_connection = True
            return False


_REASONS = {529: "Overloaded"}


# --------------------------------------------------------------------------- Anthropic wire format

_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

_TO_ANTHROPIC_STOP = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}
_TO_OPENAI_STOP = {
    "end_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "stop_sequence": "stop",
    "refusal": "content_filter",
}


def _anthropic_error(error: Error) -> dict[str, Any]:
    default_type = "api_error" if error.status >= 500 else "invalid_request_error"
    kind = error.type or _ANTHROPIC_ERROR_TYPES.get(error.status, default_type)
    return {
        "type": "error",
        "error": {"type": kind, "message": error.message or f"fake llm: scripted {kind}"},
        "request_id": f"req_{uuid.uuid4().hex[:24]}",
    }


def _anthropic_stop_reason(reply: Reply) -> str:
    if reply.stop_reason:
        return _TO_ANTHROPIC_STOP.get(reply.stop_reason, reply.stop_reason)
    return "tool_use" if reply.tool_calls else "end_turn"


def _anthropic_input(arguments: dict[str, Any] | str) -> dict[str, Any]:
    """tool_use.input must be an object: parse a string, or wrap it as {"_raw": ...}."""
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments)
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"_raw": arguments}


def _anthropic_blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    for call in reply.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id or _new_id("toolu_"),
                "name": call.name,
                "input": _anthropic_input(call.arguments),
            }
        )
    return blocks


def _anthropic_usage(request: RecordedRequest, reply: Reply) -> dict[str, int]:
    usage = _usage(request, reply)
    return {
        "input_tokens": usage["input_tokens"],
        "output_tokens": usage["output_tokens"],
        "cache_creation_input_tokens": usage["cache_write"],
        "cache_read_input_tokens": usage["cache_read"],
    }


def _anthropic_message(request: RecordedRequest, reply: Reply) -> dict[str, Any]:
    return {
        "id": _new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": _anthropic_blocks(reply),
        "stop_reason": _anthropic_stop_reason(reply),
        "stop_sequence": None,
        "usage": _anthropic_usage(request, reply),
    }


def _anthropic_events(request: RecordedRequest, reply: Reply) -> Iterator[dict[str, Any]]:
    """The event sequence of a streamed message, as the real API sends it."""
    usage = _anthropic_usage(request, reply)
    yield {
        "type": "message_start",
        "message": {
            **_anthropic_message(request, reply),
            "content": [],
            "stop_reason": None,
            "usage": {**usage, "output_tokens": 1},
        },
    }
    yield {"type": "ping"}
    for index, block in enumerate(_anthropic_blocks(reply)):
        if block["type"] == "text":
            yield _block_start(index, {"type": "text", "text": ""})
            for piece in _words(block["text"]):
                yield _block_delta(index, {"type": "text_delta", "text": piece})
        else:
            yield _block_start(index, {**block, "input": {}})
            # Like the real API: an empty first delta, then the JSON in fragments.
            for piece in ["", *_slices(json.dumps(block["input"]), 8)]:
                yield _block_delta(index, {"type": "input_json_delta", "partial_json": piece})
        yield {"type": "content_block_stop", "index": index}
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": _anthropic_stop_reason(reply), "stop_sequence": None},
        "usage": {"output_tokens": usage["output_tokens"]},
    }
    yield {"type": "message_stop"}


def _block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _block_delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


# --------------------------------------------------------------------------- OpenAI wire format


def _openai_error(error: Error) -> dict[str, Any]:
    if error.status == 401:
        kind, code = "invalid_request_error", "invalid_api_key"
    elif error.status == 404:
        kind, code = "invalid_request_error", "model_not_found"
    elif error.status == 429:
        kind, code = "requests", "rate_limit_exceeded"
    elif error.status >= 500:
        kind, code = "server_error", None
    else:
        kind, code = "invalid_request_error", None
    kind = error.type or kind
    return {
        "error": {
            "message": error.message or f"fake llm: scripted {error.status} {kind}",
            "type": kind,
            "param": None,
            "code": code,
        }
    }


def _openai_finish_reason(reply: Reply) -> str:
    if reply.stop_reason:
        return _TO_OPENAI_STOP.get(reply.stop_reason, reply.stop_reason)
    return "tool_calls" if reply.tool_calls else "stop"


def _openai_arguments(arguments: dict[str, Any] | str) -> str:
    """Raw strings pass through verbatim (malformed JSON included); dicts are
    encoded compactly, as OpenAI does."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, separators=(",", ":"))


def _openai_tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id or _new_id("call_"),
            "type": "function",
            "function": {"name": call.name, "arguments": _openai_arguments(call.arguments)},
        }
        for call in reply.tool_calls
    ]


def _openai_usage(request: RecordedRequest, reply: Reply) -> dict[str, Any]:
    usage = _usage(request, reply)
    prompt = usage["input_tokens"] + usage["cache_read"] + usage["cache_write"]
    return {
        "prompt_tokens": prompt,
        "completion_tokens": usage["output_tokens"],
        "total_tokens": prompt + usage["output_tokens"],
        "prompt_tokens_details": {"cached_tokens": usage["cache_read"]},
    }


def _openai_completion(request: RecordedRequest, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text or None,
        "refusal": None,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = _openai_tool_calls(reply)
    return {
        "id": _new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _openai_finish_reason(reply),
            }
        ],
        "usage": _openai_usage(request, reply),
    }


def _openai_chunks(request: RecordedRequest, reply: Reply) -> Iterator[dict[str, Any]]:
    """``chat.completion.chunk`` objects; the caller adds ``data: [DONE]``.

    With ``stream_options.include_usage`` every chunk carries ``"usage": null``
    and one last chunk with empty ``choices`` carries the totals, as documented.
    """
    include_usage = bool((request.body.get("stream_options") or {}).get("include_usage"))
    base: dict[str, Any] = {
        "id": _new_id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
    }
    if include_usage:
        base["usage"] = None

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**base, "choices": [choice]}

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for piece in _words(reply.text):
        yield chunk({"content": piece})
    for index, call in enumerate(_openai_tool_calls(reply)):
        function = call["function"]
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": function["name"], "arguments": ""},
                    }
                ]
            }
        )
        for piece in _slices(function["arguments"], 8):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, _openai_finish_reason(reply))
    if include_usage:
        yield {**base, "choices": [], "usage": _openai_usage(request, reply)}


def _models_page(api: Api, models: list[str]) -> dict[str, Any]:
    data = [_model_entry(api, m) for m in models]
    if api == "openai":
        return {"object": "list", "data": data}
    return {
        "data": data,
        "has_more": False,
        "first_id": models[0] if models else None,
        "last_id": models[-1] if models else None,
    }


def _model_entry(api: Api, model_id: str) -> dict[str, Any]:
    if api == "openai":
        return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}
    return {
        "type": "model",
        "id": model_id,
        "display_name": f"Fake {model_id}",
        "created_at": "2025-01-01T00:00:00Z",
        "lifecycle": "active",
    }


# --------------------------------------------------------------------------- shared helpers


def _usage(request: RecordedRequest, reply: Reply) -> dict[str, int]:
    given = reply.usage or {}
    return {
        "input_tokens": given.get("input_tokens", _estimate_tokens(request.body)),
        "output_tokens": given.get("output_tokens", 10),
        "cache_read": given.get("cache_read", 0),
        "cache_write": given.get("cache_write", 0),
    }


def _estimate_tokens(body: dict[str, Any]) -> int:
    """Roughly four characters of JSON per token: enough for budget logic to react."""
    return max(1, len(json.dumps(body)) // 4)


def _new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def _words(text: str) -> list[str]:
    """Split text into word-sized deltas (with their trailing spaces) so clients
    really have to accumulate them."""
    return re.findall(r"\S+\s*|\s+", text)


def _slices(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


if __name__ == "__main__":  # manual poking: python -m tests.fakes.llm
    with FakeLLM() as _fake:
        print(f"anthropic base_url={_fake.url}  openai base_url={_fake.openai_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
