"""The WhatsApp channel through Twilio: the signed webhook in, the Messages API out, and who may talk.

Inbound, a message is acknowledged only after it is durably in the inbox (or
handled here: pairing codes, approvals), and never before its signature checks
out against ``[whatsapp] public_url``. Unknown senders never reach the LLM.
Outbound lives in ``whatsapp_send``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator, compare

from claw.core import history, inbox, pairing
from claw.channels.base import DeliveryResult, OutgoingMessage
from claw.channels.whatsapp.media import Media, MediaError, MediaFetcher
from claw.store.db import ensure_conversation, outbox, utcnow

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from claw.channels.whatsapp.send import Outbound
    from claw.config import WhatsAppSection
    from claw.app import Runtime

log = structlog.get_logger("claw.whatsapp")

WEBHOOK_PATH = "/webhooks/twilio"
STATUS_PATH = "/webhooks/twilio/status"
MAX_BODY = 64_000
MAX_MEDIA = 10
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
CANT_READ = "Sorry, I can't read that kind of file yet ({types}). Photos work, and text of course."
IMAGE_FAILED = "(I couldn't download the photo you sent.)"
PAIRING_REPLY = ("Hi! I only talk to people my owner has approved. To get approved, ask them to send me "
                 "\"approve {code}\" (the code is valid for an hour).")
OWNER_NOTICE = "{who} wants to talk to me on WhatsApp. Reply \"approve {code}\" to let them in (valid for an hour)."


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


class Form(dict[str, str]):
    """Posted fields with the ``getall`` the validator tries first (on a plain dict it raises twice per field)."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


@dataclass
class Written:
    """What the inbound transaction did, so the handler knows whom to wake."""

    turn: bool = False
    outgoing: bool = False
    conversation: str | None = None


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

    def __init__(self, settings: WhatsAppSection):
        self.settings = settings
        self.allowed = list(settings.allowed)
        self.owner = self.allowed[0] if self.allowed else None
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.problems: list[str] = []
        if not settings.sid or not settings.token:
            self.problems.append("no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if not settings.from_number:
            self.problems.append("[whatsapp] from_number is not set")
        self.validator = RequestValidator(settings.token or "")
        self.outbound: Outbound | None = None
        self.fetcher: MediaFetcher | None = None
        self._background: set[asyncio.Task[None]] = set()
        #: Recipients who may have held rows (outside the 24h window): their next message releases them.
        self._held: set[str] = set()

    # -- lifecycle --------------------------------------------------------------------

    async def start(self, runtime: Runtime) -> None:
        from twilio.rest import Client

        from claw.channels.whatsapp.twilio import HttpxTwilioClient
        from claw.channels.whatsapp.send import Outbound

        self.runtime = runtime
        s = self.settings
        self.http = HttpxTwilioClient(s.api_base, s.send_timeout)
        client = Client(s.sid, s.token, http_client=self.http)
        callback = f"{s.public_url}{STATUS_PATH}" if s.status_callback and s.public_url else None
        self.outbound = Outbound(client, runtime.db, s.from_number or "", s.template_sid, callback,
                                 lambda: runtime.deliverer.wake())
        auth = (s.sid, s.token) if s.sid and s.token else None
        self.fetcher = MediaFetcher(s.api_base, auth, s.max_media_bytes)
        self._held = await runtime.db.tx(lambda c: set(c.execute(
            select(outbox.c.recipient).where(outbox.c.channel == self.name, outbox.c.status == "held")).scalars()))
        log.info("whatsapp.ready", webhook=f"{s.public_url or '(public_url not set)'}{WEBHOOK_PATH}",
                 from_number=s.from_number, allowed=len(self.allowed), problems=self.problems or None)

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self.outbound is not None:
            await self.http.close()
        if self.fetcher is not None:
            await self.fetcher.close()

    def routes(self) -> list[BaseRoute]:
        return [Route(WEBHOOK_PATH, self.inbound, methods=["POST"]), Route(STATUS_PATH, self.status, methods=["POST"])]

    def owner_address(self) -> str | None:
        return self.owner

    def health(self) -> dict[str, Any]:
        if self.problems:
            return {"ok": False, "detail": "; ".join(self.problems)}
        return {"ok": True, "detail": f"from {self.settings.from_number}"}

    # -- outbound (whatsapp_send does the work) --------------------------------------------

    async def deliver(self, item: OutgoingMessage) -> DeliveryResult:
        if self.outbound is None or self.problems:
            return DeliveryResult("retry", error="; ".join(self.problems) or "channel not started", retry_after=60)
        result = await self.outbound.deliver(item)
        if result.status == "held":
            self._held.add(item.recipient)
        delay = self.settings.status_check_seconds
        if result.status == "sent" and delay > 0:
            self._spawn(self._check_later(item.id, delay))
        return result

    async def reconcile(self, item: OutgoingMessage) -> DeliveryResult:
        if self.outbound is None:
            return DeliveryResult("retry", error="channel not started", retry_after=60)
        result = await self.outbound.reconcile(item)
        if result.status == "held":
            self._held.add(item.recipient)
        return result

    # -- HTTP ---------------------------------------------------------------------------

    async def inbound(self, request: Request) -> Response:
        params = await self._signed_params(request)
        if params is None:
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
        written = await self.runtime.db.tx_batched(lambda c: self._write(c, msg, text, images, skipped))
        if written.turn:
            self.runtime.dispatcher.wake(written.conversation)
        if written.outgoing:
            self.runtime.deliverer.wake()
        return twiml()

    async def status(self, request: Request) -> Response:
        params = await self._signed_params(request)
        if params is None:
            return Response(status_code=403)
        try:
            report = StatusReport.model_validate(params)
        except ValidationError:
            return Response("bad status fields", status_code=400)
        if self.outbound is not None:
            held = await self.outbound.on_status(report.MessageSid, report.MessageStatus.lower(), report.ErrorCode)
            if held:
                self._held.add(held)
        return Response(status_code=204)

    async def _signed_params(self, request: Request) -> dict[str, str] | None:
        """The posted parameters if Twilio signed exactly them for our public URL; else None (logged, no body)."""
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                log.warning("whatsapp.rejected", reason="body too large", path=request.url.path)
                return None
        try:
            params = Form(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            params = Form()
        signature = request.headers.get("x-twilio-signature", "")
        base = self.settings.public_url
        url = f"{base}{request.url.path}" if base else str(request.url)
        if base and request.url.query:
            url += f"?{request.url.query}"
        if not signature or not self.settings.token or not self._signed(url, params, signature):
            log.warning("whatsapp.rejected", reason="bad signature" if signature else "missing signature",
                        path=request.url.path, client=request.client.host if request.client else None)
            return None
        return params

    def _signed(self, url: str, params: Form, signature: str) -> bool:
        """``RequestValidator.validate`` always signs the URL twice (with and without the port);
        Twilio signs the URL as configured, so that exact match is tried first."""
        if compare(self.validator.compute_signature(url, params), signature):
            return True
        return self.validator.validate(url, params, signature)

    async def _media(self, msg: InboundMessage) -> tuple[list[dict[str, str]], list[str], str]:
        """Images downloaded for the model (only for senders who may talk), and the types we cannot read."""
        media = msg.media()
        text = msg.Body
        if not media:
            return [], [], text
        if msg.number not in self.allowed:
            known = await self.runtime.db.tx(lambda c: pairing.is_allowed(c, self.name, msg.number))
            if not known:
                return [], [], text
        images: list[dict[str, str]] = []
        skipped: list[str] = []
        for item in media:
            if not item.is_image:
                skipped.append(item.content_type or "unknown type")
                continue
            assert self.fetcher is not None
            try:
                images.append(await self.fetcher.image(item))
            except MediaError as exc:
                log.warning("whatsapp.media_failed", sid=msg.MessageSid, error=str(exc))
                text = f"{text}\n{IMAGE_FAILED}".strip()
        return images, skipped, text

    # -- the inbound transaction ------------------------------------------------------------

    def _write(self, conn: Connection, msg: InboundMessage, text: str, images: list[dict[str, str]],
               skipped: list[str]) -> Written:
        number = msg.number
        if number in self.allowed:
            is_owner = number == self.owner
        elif pairing.is_allowed(conn, self.name, number):
            is_owner = False
        else:
            return self._stranger(conn, msg)
        payload: dict[str, Any] = {"owner": is_owner}
        if msg.ProfileName:
            payload["profile_name"] = msg.ProfileName
        if images:
            payload["images"] = images
        if skipped:
            payload["media_skipped"] = skipped
        accepted = inbox.accept(conn, channel=self.name, external_id=msg.MessageSid, peer=number, sender=number,
                                text=text, payload=payload)
        if not accepted.created:
            log.info("whatsapp.duplicate", sid=msg.MessageSid)
            return Written()
        released = 0
        if number in self._held:  # the common case skips this statement
            released = conn.execute(
                update(outbox).where(outbox.c.channel == self.name, outbox.c.recipient == number,
                                     outbox.c.status == "held").values(status="pending", next_attempt_at=None)
            ).rowcount
            if released:
                self._held.discard(number)
        written = Written(turn=True, outgoing=released > 0, conversation=accepted.conversation_id)
        code = pairing.parse_approval(text) if is_owner and not images else None
        if code is not None:
            self._approve(conn, accepted, text, code)
            return Written(outgoing=True)
        if skipped:
            self._queue(conn, accepted.conversation_id, number, CANT_READ.format(types=", ".join(skipped)), accepted.inbox_id)
            written.outgoing = True
            if not text.strip() and not images:
                self._close(conn, accepted, text, None, "whatsapp")
                written.turn = False
        log.info("whatsapp.accepted", sid=msg.MessageSid, inbox_id=accepted.inbox_id, owner=is_owner,
                 images=len(images), released=released)
        return written

    def _stranger(self, conn: Connection, msg: InboundMessage) -> Written:
        """An unknown sender: one pairing code per hour (no inbox row, no turn, no tokens)."""
        number = msg.number
        if self.settings.policy == "closed":
            log.info("whatsapp.stranger_ignored", sender=number)
            return Written()
        issued = pairing.issue(conn, self.name, number, msg.ProfileName)
        if issued is None:
            log.warning("whatsapp.pairing_full", sender=number, detail="too many live pairing codes; not replying")
            return Written()
        if not issued.new:
            log.info("whatsapp.stranger_waiting", sender=number)
            return Written()
        conv = ensure_conversation(conn, self.name, number)
        self._queue(conn, conv, number, PAIRING_REPLY.format(code=issued.code), None)
        if self.owner:
            who = f"{msg.ProfileName} ({number})" if msg.ProfileName else number
            owner_conv = ensure_conversation(conn, self.name, self.owner)
            notice = OWNER_NOTICE.format(who=who, code=issued.code)
            history.record(conn, owner_conv, "assistant", notice, inbox_id=None, at=utcnow(), meta={"origin": "pairing"})
            self._queue(conn, owner_conv, self.owner, notice, None)
        log.info("whatsapp.pairing_code_sent", sender=number)
        return Written(outgoing=True)

    def _approve(self, conn: Connection, accepted: inbox.Accepted, text: str, code: str) -> None:
        try:
            found = pairing.approve(conn, code)
        except pairing.PairingError as exc:
            reply = f"Could not approve: {exc}."
        else:
            reply = f"Approved {found.name + ' ' if found.name else ''}({found.address}). They can talk to me now."
            pairing.queue_welcome(conn, self.name, found.address)
            log.info("whatsapp.paired", address=found.address, via="owner message")
        self._close(conn, accepted, text, reply, "pairing")
        self._queue(conn, accepted.conversation_id, self.owner or "", reply, accepted.inbox_id)  # the owner asked

    def _close(self, conn: Connection, accepted: inbox.Accepted, text: str, reply: str | None, handled_by: str) -> None:
        """Mark an inbox row the channel handled itself as done, keeping the transcript complete."""
        from claw.store.db import inbox as inbox_table

        now = utcnow()
        conn.execute(update(inbox_table).where(inbox_table.c.id == accepted.inbox_id).values(
            status="done", finished_at=now, result={"reply": reply or "", "handled_by": handled_by, "actions": [],
                                                    "services": []}))
        history.record(conn, accepted.conversation_id, "user", text, inbox_id=accepted.inbox_id, at=now)
        if reply:
            history.record(conn, accepted.conversation_id, "assistant", reply, inbox_id=accepted.inbox_id, at=now,
                           meta={"handled_by": handled_by})

    def _queue(self, conn: Connection, conversation_id: str, recipient: str, text: str, inbox_id: int | None) -> None:
        conn.execute(insert(outbox).values(inbox_id=inbox_id, conversation_id=conversation_id, channel=self.name,
                                           recipient=recipient, text=text, payload={}, status="pending",
                                           created_at=utcnow()))

    # -- background -------------------------------------------------------------------------

    async def _check_later(self, outbox_id: int, delay: float) -> None:
        """Catch a late failure (e.g. 63016) by fetching the sent messages when no status callback is configured."""
        from claw.channels.whatsapp.send import WaState

        await asyncio.sleep(delay)
        row = await self.runtime.db.tx(lambda c: c.execute(select(outbox.c.payload).where(outbox.c.id == outbox_id)).first())
        if row is None or self.outbound is None:
            return
        state = WaState.of(row.payload or {})
        pending = [sid for sid in state.known() if state.receipts.get(sid) not in ("delivered", "read", "failed", "undelivered")]
        await self.outbound.check_later(pending, 0)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")
