"""The WhatsApp channel through Twilio: the signed webhook in, the Messages API out.

Inbound, a message is acknowledged only after the inbox has it durably (the
sender gate, pairing codes and approvals happen there, in the same
transaction), and never before its signature checks out against
``[whatsapp] public_url``. A forgery is refused as cheaply as it can be: the
signature header's shape and the number of fields are checked before the form
is parsed, and the HMAC is computed once per distinct URL Twilio may have
signed. Only ``whatsapp:`` senders reach the channel: Twilio signs SMS webhooks
to the same URL with the same token, and a bare ``+1555...`` must never pass
for the owner. Outbound lives in ``send``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import time
from collections import deque
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from twilio.request_validator import add_port, remove_port
from twilio.rest import Client

from claw.channels.base import ChannelDeps, DeliveryResult, OutgoingMessage
from claw.channels.whatsapp.config import STATUS_PATH, WEBHOOK_PATH, WhatsAppConfig
from claw.channels.whatsapp.media import Media, MediaError, MediaFetcher
from claw.channels.whatsapp.send import Outbound, WaState
from claw.channels.whatsapp.twilio import HttpxTwilioClient
from claw.core.inbox import Inbound

log = structlog.get_logger("claw.whatsapp")

MAX_BODY = 64_000
MAX_MEDIA = 10
#: Twilio's inbound webhook has about 20 fields, plus two per media item; a form with more is not Twilio's.
MAX_FIELDS = 100
#: ``X-Twilio-Signature``: base64 of an HMAC-SHA1, 20 bytes.
SIGNATURE = re.compile(r"[A-Za-z0-9+/]{27}=")
WHATSAPP_SENDER = "whatsapp:"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
IMAGE_FAILED = "(I couldn't download the photo you sent.)"


class InboundMessage(BaseModel):
    """The fields of Twilio's webhook we use; Twilio adds others, which are allowed and ignored."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    MessageSid: str = Field(min_length=2, max_length=64)
    From: str = Field(min_length=2, max_length=64)
    To: str = ""
    Body: str = Field("", max_length=16_000)
    NumMedia: int = Field(0, ge=0, le=MAX_MEDIA)
    ProfileName: str | None = Field(None, max_length=200)
    WaId: str | None = None

    @property
    def number(self) -> str:
        return self.From.removeprefix("whatsapp:")

    def media(self) -> list[Media]:
        extra = self.model_extra or {}
        return [Media(str(extra.get(f"MediaUrl{i}", "")), str(extra.get(f"MediaContentType{i}", "")))
                for i in range(self.NumMedia) if extra.get(f"MediaUrl{i}")]


class StatusReport(BaseModel):
    model_config = ConfigDict(extra="allow")

    MessageSid: str = Field(min_length=2, max_length=64)
    MessageStatus: str = Field(min_length=1, max_length=32)
    ErrorCode: int | None = None

    @field_validator("ErrorCode", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value


def signatures(token: str, urls: list[str], params: dict[str, str]) -> Iterator[str]:
    """Twilio's signature (``RequestValidator.compute_signature``) of ``params`` posted to each of ``urls``, as
    they are asked for: the sorted fields are joined once, and each distinct URL costs one HMAC over them."""
    fields = "".join(name + params[name] for name in sorted(params)).encode()
    key = token.encode()
    for url in dict.fromkeys(urls):
        mac = hmac.new(key, url.encode(), hashlib.sha1)
        mac.update(fields)
        yield base64.b64encode(mac.digest()).decode()


class RateLimiter:
    """At most ``limit`` events per sender per minute (0: unlimited), in memory: a flood is cut before the DB."""

    def __init__(self, limit: int):
        self.limit = limit
        self.events: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        if self.limit <= 0:
            return True
        now = time.monotonic()
        seen = self.events.setdefault(key, deque())
        while seen and seen[0] <= now - 60:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        if len(self.events) > 10_000:
            self.events = {k: v for k, v in self.events.items() if v and v[-1] > now - 60}
        return True


class WhatsAppChannel:
    name = "whatsapp"
    transcript_only = False

    def __init__(self, settings: WhatsAppConfig, deps: ChannelDeps):
        self.settings = settings
        self.inbox = deps.inbox
        self.outbox = deps.outbox
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.problems: list[str] = []
        if not settings.sid or not settings.token:
            self.problems.append("no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if not settings.from_number:
            self.problems.append("[whatsapp] from_number is not set")
        s = settings
        self.http = HttpxTwilioClient(s.api_base, s.send_timeout)
        callback = f"{s.public_url}{STATUS_PATH}" if s.status_callback and s.public_url else None
        self.outbound = Outbound(Client(s.sid, s.token, http_client=self.http), self.outbox, s.from_number or "",
                                 s.template_sid, callback)
        self.fetcher = MediaFetcher(s.api_base, (s.sid, s.token) if s.sid and s.token else None, s.max_media_bytes)
        self._background: set[asyncio.Task[None]] = set()

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        log.info("whatsapp.ready", webhook=f"{s.public_url or '(public_url not set)'}{WEBHOOK_PATH}",
                 from_number=s.from_number, allowed=len(s.allowed), problems=self.problems or None)

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.http.close()
        await self.fetcher.close()

    def routes(self) -> list[BaseRoute]:
        return [Route(WEBHOOK_PATH, self.inbound, methods=["POST"]), Route(STATUS_PATH, self.status, methods=["POST"])]

    def health(self) -> dict[str, Any]:
        if self.problems:
            return {"ok": False, "detail": "; ".join(self.problems)}
        return {"ok": True, "detail": f"from {self.settings.from_number}"}

    # -- outbound (send does the work) --------------------------------------------

    async def deliver(self, item: OutgoingMessage) -> DeliveryResult:
        if self.problems:
            return DeliveryResult("retry", error="; ".join(self.problems), retry_after=60)
        result = await self.outbound.deliver(item)
        delay = self.settings.status_check_seconds
        if result.status == "sent" and delay > 0:
            self._spawn(self._check_later(item.id, delay))
        return result

    async def reconcile(self, item: OutgoingMessage) -> DeliveryResult:
        return await self.outbound.reconcile(item)

    # -- HTTP ---------------------------------------------------------------------------

    async def inbound(self, request: Request) -> Response:
        params = await self._signed_params(request)
        if params is None:
            return Response(status_code=403)
        sender = params.get("From", "")
        if not sender.startswith(WHATSAPP_SENDER):
            # Signed, but not WhatsApp (an SMS to the same Twilio number): no SMS channel here, so refused.
            log.warning("whatsapp.rejected", reason="not a WhatsApp sender", sender=sender[:64],
                        sid=params.get("MessageSid", "")[:64])
            return Response(status_code=403)
        try:
            msg = InboundMessage.model_validate(params)
        except ValidationError as exc:
            log.warning("whatsapp.bad_webhook", fields=[".".join(map(str, e["loc"])) for e in exc.errors()])
            return Response("bad webhook fields", status_code=400)
        number = msg.number
        if not self.limiter.allow(number):
            log.warning("whatsapp.rate_limited", sender=number, sid=msg.MessageSid)
            return twiml()
        images, skipped, text = await self._media(msg)
        done = await self.inbox.publish(Inbound(self.name, msg.MessageSid, number, text, msg.ProfileName, images,
                                                unreadable=skipped), batched=True)
        if done.accepted is not None and done.verdict is not None:
            log.info("whatsapp.accepted", sid=msg.MessageSid, inbox_id=done.accepted.inbox_id,
                     duplicate=not done.accepted.created, sender=done.verdict.status, images=len(images))
        return twiml()

    async def status(self, request: Request) -> Response:
        params = await self._signed_params(request)
        if params is None:
            return Response(status_code=403)
        try:
            report = StatusReport.model_validate(params)
        except ValidationError:
            return Response("bad status fields", status_code=400)
        await self.outbound.on_status(report.MessageSid, report.MessageStatus.lower(), report.ErrorCode)
        return Response(status_code=204)

    async def _signed_params(self, request: Request) -> dict[str, str] | None:
        """The posted parameters if Twilio signed exactly them for our public URL; else None (logged, no body).

        What is cheap to check comes first: the signature header's shape, the body's size, the field count
        (before the form is parsed); then one HMAC per distinct URL Twilio may have signed."""
        signature = request.headers.get("x-twilio-signature", "")
        token = self.settings.token
        reason = ("missing signature" if not signature else "malformed signature" if not SIGNATURE.fullmatch(signature)
                  else "no auth token configured" if not token else None)
        body = bytearray()
        if reason is None:
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    reason = "body too large"
                    break
        params: dict[str, str] = {}
        if reason is None:
            try:
                params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS))
            except UnicodeDecodeError:
                reason = "not UTF-8"
            except ValueError:
                reason = "too many fields"
        if reason is None:
            assert token is not None
            if not any(hmac.compare_digest(computed, signature)
                       for computed in signatures(token, self._signed_urls(request), params)):
                reason = "bad signature"
        if reason is not None:
            log.warning("whatsapp.rejected", reason=reason, path=request.url.path,
                        client=request.client.host if request.client else None)
            return None
        return params

    def _signed_urls(self, request: Request) -> list[str]:
        """The URL Twilio requested, as configured (what it signs), then with the default port added or
        removed, the variants ``RequestValidator.validate`` also accepts."""
        base = self.settings.public_url
        url = f"{base}{request.url.path}" if base else str(request.url)
        if base and request.url.query:
            url += f"?{request.url.query}"
        parsed = urlsplit(url)
        return [url, add_port(parsed), remove_port(parsed)]

    async def _media(self, msg: InboundMessage) -> tuple[list[dict[str, str]], list[str], str]:
        """Images downloaded for the model (only for senders who may talk), and the types we cannot read."""
        media = msg.media()
        text = msg.Body
        if not media or not await self.inbox.may_talk(self.name, msg.number):
            return [], [], text
        images: list[dict[str, str]] = []
        skipped: list[str] = []
        for item in media:
            if not item.is_image:
                skipped.append(item.content_type or "unknown type")
                continue
            try:
                images.append(await self.fetcher.image(item))
            except MediaError as exc:
                log.warning("whatsapp.media_failed", sid=msg.MessageSid, error=str(exc))
                text = f"{text}\n{IMAGE_FAILED}".strip()
        return images, skipped, text

    # -- background -------------------------------------------------------------------------

    async def _check_later(self, outbox_id: int, delay: float) -> None:
        """Catch a late failure (e.g. 63016) by fetching the sent messages when no status callback is configured."""
        await asyncio.sleep(delay)
        row = await self.outbox.get(outbox_id)
        if row is None:
            return
        state = WaState.of(row.payload)
        pending = [sid for sid in state.known() if state.receipts.get(sid) not in ("delivered", "read", "failed", "undelivered")]
        await self.outbound.check_later(pending, 0)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")
