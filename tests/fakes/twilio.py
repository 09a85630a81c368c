"""A fake Twilio REST API (the Messages resource and media) for the real ``twilio`` SDK, plus webhook signing.

Serves on 127.0.0.1 with the standard library, like the fake LLM, so a
``claw serve`` subprocess reaches it through ``[whatsapp] api_base``:

- ``POST /2010-04-01/Accounts/{sid}/Messages.json``: create (form fields as the
  SDK sends them: ``To``, ``From``, ``Body``, ``ContentSid``,
  ``ContentVariables``, ``StatusCallback``);
- ``GET .../Messages.json``: list, newest first, filtered by ``To``/``From``;
- ``GET .../Messages/{MessageSid}.json``: fetch;
- ``GET .../Messages/{MessageSid}/Media/{MediaSid}``: media added with ``add_media``;
- ``GET /2010-04-01/Accounts/{sid}.json`` and ``.../IncomingPhoneNumbers.json`` for ``claw doctor``.

Every request is recorded; HTTP basic auth is checked (401, error 20003).
``script(...)`` queues outcomes for the next creates (``Fail(429)``,
``Fail(400, 63016)``, ``Fail(503)``); ``hold()`` freezes the next create
*after* the message exists, to simulate a crash between Twilio accepting a
message and the client recording it.

Typical use::

    with FakeTwilio() as tw:
        tw.script(Fail(429, retry_after=0))
        ...  # point the daemon at tw.url with tw.account_sid / tw.auth_token
        assert [m.body for m in tw.sent()] == ["hello"]
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from twilio.request_validator import RequestValidator

from tests.fakes.server import LoopbackServer

__all__ = ["FakeTwilio", "Fail", "LateFail", "Message", "Recorded", "TEST_JPEG", "sign", "webhook_params"]

ACCOUNT_SID = "AC" + "f" * 32
AUTH_TOKEN = "fake-twilio-auth-token-0123456789"

#: A 1x1 white JPEG.
TEST_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgy"
    "PC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
)


@dataclass
class Fail:
    """The next create fails with this HTTP status and Twilio error code."""

    status: int
    code: int | None = None
    message: str = "scripted failure"
    retry_after: float | None = None


@dataclass
class LateFail:
    """The next create succeeds (201, queued), but the message later reports ``failed`` with this code."""

    code: int = 63016


@dataclass
class Message:
    sid: str
    to: str
    from_: str
    body: str
    content_sid: str | None = None
    content_variables: str | None = None
    status_callback: str | None = None
    status: str = "queued"
    error_code: int | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def resource(self, account_sid: str) -> dict[str, Any]:
        stamp = format_datetime(self.created)
        return {
            "sid": self.sid, "account_sid": account_sid, "to": self.to, "from": self.from_, "body": self.body,
            "status": self.status, "error_code": self.error_code,
            "error_message": "scripted" if self.error_code else None, "direction": "outbound-api",
            "num_segments": "1", "num_media": "0", "api_version": "2010-04-01", "price": None, "price_unit": "USD",
            "messaging_service_sid": None, "date_created": stamp, "date_updated": stamp, "date_sent": stamp,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{self.sid}.json", "subresource_uris": {},
        }


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    authorized: bool


class FakeTwilio(LoopbackServer):
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._script: deque[Fail | LateFail] = deque()
        self._holds: deque[threading.Event] = deque()
        self._messages: list[Message] = []
        self._requests: list[Recorded] = []
        self._media: dict[str, tuple[str, bytes]] = {}
        super().__init__()

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    # -- lifecycle

    def stop(self) -> None:
        if self._server is not None:
            for gate in list(self._holds):
                gate.set()  # a frozen create must not keep the server from shutting down
        super().stop()

    @property
    def url(self) -> str:
        return self.base_url

    # -- scripting

    def script(self, *outcomes: Fail | LateFail) -> None:
        with self._lock:
            self._script.extend(outcomes)

    def hold(self) -> threading.Event:
        """Freeze the next create after the message is stored, until the returned event is set."""
        gate = threading.Event()
        with self._lock:
            self._holds.append(gate)
        return gate

    def fail_later(self, sid: str, code: int = 63016, status: str = "failed") -> None:
        """Make a sent message report a failure when fetched (as Twilio does for a closed 24h window)."""
        with self._lock:
            for m in self._messages:
                if m.sid == sid:
                    m.status, m.error_code = status, code

    def add_media(self, content_type: str = "image/jpeg", data: bytes = TEST_JPEG) -> str:
        media_sid = "ME" + secrets.token_hex(16)
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages/MM{secrets.token_hex(16)}/Media/{media_sid}"
        with self._lock:
            self._media[path] = (content_type, data)
        return self.url + path

    # -- inspection

    def sent(self) -> list[Message]:
        """Messages created, oldest first."""
        with self._lock:
            return list(self._messages)

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def creates(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")]

    def wait_for(self, count: int, timeout: float = 15.0, to: str | None = None) -> list[Message]:
        """Block until ``count`` messages (to ``to``, if given) exist; returns them."""
        def matching() -> list[Message]:
            return [m for m in self._messages if to is None or m.to == f"whatsapp:{to}"]

        with self._changed:
            self._changed.wait_for(lambda: len(matching()) >= count, timeout)
            found = matching()
        if len(found) < count:
            raise AssertionError(f"expected {count} messages, got {[(m.to, m.body[:60]) for m in found]}")
        return found

    def wait_for_requests(self, count: int, timeout: float = 15.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self._requests) >= count, timeout)

    # -- handler side

    def _record(self, rec: Recorded) -> None:
        with self._changed:
            self._requests.append(rec)
            self._changed.notify_all()

    def _create(self, form: dict[str, str]) -> tuple[Fail | None, Message | None, threading.Event | None]:
        with self._changed:
            outcome = self._script.popleft() if self._script else None
            if isinstance(outcome, Fail):
                return outcome, None, None
            body = form.get("Body", "")
            if form.get("ContentSid"):
                variables = json.loads(form.get("ContentVariables") or "{}")
                body = f"Template {form['ContentSid']}: " + " ".join(str(v) for v in variables.values())
            msg = Message("SM" + secrets.token_hex(16), form.get("To", ""), form.get("From", ""), body,
                          form.get("ContentSid"), form.get("ContentVariables"), form.get("StatusCallback"))
            if isinstance(outcome, LateFail):
                msg.status, msg.error_code = "failed", outcome.code  # what a later fetch or callback reports
            self._messages.append(msg)
            self._changed.notify_all()
            return None, msg, self._holds.popleft() if self._holds else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakeTwilio:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.fake.account_sid}:{self.fake.auth_token}".encode()).decode()
        return header == f"Basic {expected}"

    def _json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, code: int | None, message: str, retry_after: float | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        self._json(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                            "status": status}, headers)

    def _start(self) -> tuple[str, dict[str, str], dict[str, str], bool]:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        form = dict(parse_qsl(raw, keep_blank_values=True))
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        ok = self._authorized()
        self.fake._record(Recorded(self.command, parts.path, query, form, ok))
        return parts.path, query, form, ok

    def do_POST(self) -> None:
        path, _query, form, ok = self._start()
        if not ok:
            return self._error(401, 20003, "Authenticate")
        if not re.fullmatch(rf"/2010-04-01/Accounts/{self.fake.account_sid}/Messages\.json", path):
            return self._error(404, 20404, "not found")
        if not form.get("To") or not form.get("From") or not (form.get("Body") or form.get("ContentSid")):
            return self._error(400, 21602, "Message body is required.")
        fail, msg, gate = self.fake._create(form)
        if fail is not None:
            return self._error(fail.status, fail.code, fail.message, fail.retry_after)
        assert msg is not None
        created = msg.resource(self.fake.account_sid)
        created.update(status="queued", error_code=None, error_message=None)
        if gate is not None:
            gate.wait(60)
            time.sleep(0.05)
        try:
            self._json(201, created)
        except OSError:
            pass  # the client died while we were holding: that is the point

    def do_GET(self) -> None:
        path, query, _form, ok = self._start()
        if not ok:
            return self._error(401, 20003, "Authenticate")
        base = f"/2010-04-01/Accounts/{self.fake.account_sid}/Messages"
        with self.fake._lock:
            media = self.fake._media.get(path)
            messages = list(self.fake._messages)
        if media is not None:
            content_type, data = media
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        account = f"/2010-04-01/Accounts/{self.fake.account_sid}"
        if path == account + ".json":  # what `claw doctor` reads to check the credentials
            return self._json(200, {"sid": self.fake.account_sid, "friendly_name": "Fake account", "status": "active",
                                    "type": "Full", "uri": path})
        if path == account + "/IncomingPhoneNumbers.json":
            return self._json(200, {"incoming_phone_numbers": [], "next_page_uri": None, "page": 0, "page_size": 50,
                                    "start": 0, "end": 0, "uri": path, "first_page_uri": path,
                                    "previous_page_uri": None})
        if path == base + ".json":
            found = [m for m in reversed(messages)
                     if (not query.get("To") or m.to == query["To"]) and (not query.get("From") or m.from_ == query["From"])]
            size = int(query.get("PageSize") or 50)
            page = [m.resource(self.fake.account_sid) for m in found[:size]]
            uri = f"{base}.json?{urlencode(query)}"
            return self._json(200, {"messages": page, "end": len(page) - 1, "first_page_uri": uri,
                                    "next_page_uri": None, "page": 0, "page_size": size, "previous_page_uri": None,
                                    "start": 0, "uri": uri})
        m = re.fullmatch(rf"{base}/(SM\w+)\.json", path)
        if m:
            for msg in messages:
                if msg.sid == m.group(1):
                    return self._json(200, msg.resource(self.fake.account_sid))
        return self._error(404, 20404, "The requested resource was not found")


# --------------------------------------------------------------------------- webhooks, as Twilio signs them


def webhook_params(body: str, sender: str, sid: str | None = None, to: str = "+14155238886",
                   media: list[tuple[str, str]] | None = None, profile: str | None = "Test User",
                   account_sid: str = ACCOUNT_SID) -> dict[str, str]:
    """The form Twilio posts for an inbound WhatsApp message; ``media`` is [(url, content_type)]."""
    params = {
        "SmsMessageSid": sid or "SM" + secrets.token_hex(16), "NumMedia": str(len(media or [])),
        "SmsSid": "", "SmsStatus": "received", "Body": body, "To": f"whatsapp:{to}", "NumSegments": "1",
        "MessageSid": "", "AccountSid": account_sid, "From": f"whatsapp:{sender}", "ApiVersion": "2010-04-01",
        "WaId": sender.lstrip("+"), "MessageType": "image" if media else "text",
    }
    params["MessageSid"] = params["SmsSid"] = params["SmsMessageSid"]
    if profile:
        params["ProfileName"] = profile
    for i, (url, content_type) in enumerate(media or []):
        params[f"MediaUrl{i}"] = url
        params[f"MediaContentType{i}"] = content_type
    return params


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for this public URL and form."""
    return RequestValidator(token).compute_signature(url, params)
