"""Sending outbox rows to WhatsApp through Twilio's Messages API, at most once each.

Progress lives in the outbox row's ``payload["wa"]`` and is written *before*
each create call (``inflight``) and right after it (the part's SID). Twilio has
no idempotency key for Messages, so when a create's outcome is unknown (a crash,
a timeout) we ask Twilio: recent messages from us to the recipient whose body
matches the part and which were created after the attempt started. Found means
sent; only "not found" allows a resend.

Outside WhatsApp's 24-hour window Twilio answers 63016 (at create, or later as
a ``failed`` status): we fall back to the configured template, else hold the
row until the recipient writes again.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from claw.channels.base import DeliveryResult, OutgoingMessage
from claw.channels.whatsapp.text import split_message
from claw.channels.whatsapp.twilio import last_retry_after
from claw.core.outbox import Change, DeliveryLedger, backoff
from claw.store.db import as_utc, utcnow

log = structlog.get_logger("claw.whatsapp")

WINDOW_CLOSED = 63016
#: Twilio's clock and ours may differ; a sent message can look this much older than our attempt.
CLOCK_SKEW = timedelta(minutes=5)
#: Longest text put into the template's variable; a longer reply waits for the recipient to write.
TEMPLATE_VARIABLE_MAX = 1000
LOOKUP_LIMIT = 30
RANK = {"accepted": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4, "failed": 5,
        "undelivered": 5, "canceled": 5}


def wa(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


@dataclass
class WaState:
    """What has happened to one outbox row on WhatsApp (stored as ``payload["wa"]``)."""

    sids: dict[str, str] = field(default_factory=dict)  # part index -> message SID
    template: str | None = None  # SID of the template message sent for this row
    mode: str = "text"  # what to send next: "text" parts or the "template"
    inflight: dict[str, Any] | None = None  # {"kind": "text"|"template", "part": i, "at": iso} during a create
    receipts: dict[str, str] = field(default_factory=dict)  # SID -> last status Twilio reported

    @classmethod
    def of(cls, payload: dict[str, Any]) -> WaState:
        data = payload.get("wa") or {}
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def known(self) -> set[str]:
        return set(self.sids.values()) | ({self.template} if self.template else set())


class NotSent(Exception):
    """The create definitely did not happen (e.g. connection refused)."""


class Outbound:
    def __init__(self, client: Client, outbox: DeliveryLedger, from_number: str, template_sid: str | None,
                 status_callback: str | None):
        self.client = client
        self.outbox = outbox
        self.from_number = from_number
        self.template_sid = template_sid
        self.status_callback = status_callback

    # -- the channel protocol's two calls ------------------------------------------

    async def deliver(self, item: OutgoingMessage) -> DeliveryResult:
        state = WaState.of(item.payload)
        if state.inflight:
            try:
                found = await self._resolve_inflight(item, state)
            except (TwilioException, httpx.HTTPError) as exc:
                return self._retry(item, f"cannot check an interrupted send yet: {type(exc).__name__}")
            if found == "template":
                return self._after_template(item, state)
        if state.mode == "template" and self.template_sid:
            return await self._send_template(item, state)
        parts = split_message(item.text)
        for index, body in enumerate(parts):
            if str(index) in state.sids:
                continue
            state.inflight = {"kind": "text", "part": index, "at": utcnow().isoformat()}
            await self._save(item.id, state)
            try:
                media = item.payload.get("media") if index == 0 else None  # pictures ride on the first part
                sid = await self._create(item.recipient, body=body, **({"media_url": list(media)} if media else {}))
            except NotSent as exc:
                state.inflight = None
                await self._save(item.id, state)
                return self._retry(item, str(exc))
            except httpx.HTTPError as exc:  # the request may have reached Twilio: keep inflight, look it up next time
                return self._retry(item, f"network: {type(exc).__name__}")
            except TwilioRestException as exc:
                state.inflight = None
                await self._save(item.id, state)
                return await self._on_error(item, state, exc)
            state.sids[str(index)] = sid
            state.inflight = None
            await self._save(item.id, state)
        log.info("whatsapp.sent", outbox_id=item.id, parts=len(parts))
        return DeliveryResult("sent", external_id=state.sids.get("0"))

    async def reconcile(self, item: OutgoingMessage) -> DeliveryResult:
        """After a crash mid-send: ask Twilio whether the interrupted create happened, never guess."""
        state = WaState.of(item.payload)
        if state.inflight:
            try:
                found = await self._resolve_inflight(item, state)
            except (TwilioException, httpx.HTTPError) as exc:
                return self._retry(item, f"cannot reconcile yet: {type(exc).__name__}")
            if found == "template":
                return self._after_template(item, state)
        if state.mode == "template":
            return DeliveryResult("retry", retry_after=0, error="interrupted before the template was sent")
        if all(str(i) in state.sids for i in range(len(split_message(item.text)))):
            return DeliveryResult("sent", external_id=state.sids.get("0"))
        return DeliveryResult("retry", retry_after=0, error="interrupted before every part was sent")

    # -- status reports (callback route or fetch) ---------------------------------------

    async def on_status(self, sid: str, status: str, error_code: int | None) -> None:
        """Record delivered/read/failed on the row; a late 63016 puts the message back in line, or holds it
        until the recipient writes again."""
        def apply(item: OutgoingMessage) -> Change | None:
            state = WaState.of(item.payload)
            if sid not in state.known():
                return None
            previous = state.receipts.get(sid)
            if previous is None or RANK.get(status, 0) >= RANK.get(previous, 0):
                state.receipts[sid] = status
            change = Change({**item.payload, "wa": asdict(state)})
            if status in ("failed", "undelivered") and item.status == "sent":
                if error_code == WINDOW_CLOSED and sid != state.template:
                    state.sids = {k: v for k, v in state.sids.items() if v != sid}
                    if self.template_sid and not state.template:
                        state.mode = "template"
                        change.status, change.error = "pending", "63016: outside the 24h window"
                    else:
                        change.status, change.error = "held", "63016: outside the 24h window; waiting for them to write"
                else:
                    change.status, change.error = "failed", f"Twilio reported {status} (error {error_code})"
                    log.error("whatsapp.delivery_failed", outbox_id=item.id, sid=sid, error_code=error_code)
                change.payload["wa"] = asdict(state)
            return change

        await self.outbox.change(apply, channel="whatsapp", containing=f'"{sid}"')

    async def check_later(self, sids: list[str], delay: float) -> None:
        """Without a status callback, fetch the messages once after ``delay`` to catch a late failure."""
        await asyncio.sleep(delay)
        for sid in sids:
            try:
                message = await self.client.messages(sid).fetch_async()
            except (TwilioException, httpx.HTTPError) as exc:
                log.warning("whatsapp.status_fetch_failed", sid=sid, error=type(exc).__name__)
                continue
            await self.on_status(sid, str(message.status), message.error_code)

    # -- internals --------------------------------------------------------------------

    async def _create(self, recipient: str, **fields: Any) -> str:
        if self.status_callback:
            fields["status_callback"] = self.status_callback
        try:
            message = await self.client.messages.create_async(to=wa(recipient), from_=wa(self.from_number), **fields)
        except httpx.ConnectError as exc:
            raise NotSent(f"cannot connect to Twilio: {exc}") from None
        return str(message.sid)

    async def _on_error(self, item: OutgoingMessage, state: WaState, exc: TwilioRestException) -> DeliveryResult:
        if exc.code == WINDOW_CLOSED:
            if self.template_sid and not state.template:
                log.info("whatsapp.window_closed", outbox_id=item.id, fallback="template")
                return await self._send_template(item, state)
            log.info("whatsapp.window_closed", outbox_id=item.id, fallback="held")
            return DeliveryResult("held", error="63016: outside the 24h window; waiting for them to write")
        if exc.status == 429 or exc.status >= 500:
            return self._retry(item, f"Twilio {exc.status} {exc.code or ''}".strip())
        return DeliveryResult("failed", error=f"Twilio {exc.status} error {exc.code}: {exc.msg}")

    async def _send_template(self, item: OutgoingMessage, state: WaState) -> DeliveryResult:
        state.inflight = {"kind": "template", "part": 0, "at": utcnow().isoformat()}
        state.mode = "template"
        await self._save(item.id, state)
        variables = json.dumps({"1": preview(item.text)}, ensure_ascii=False)
        try:
            sid = await self._create(item.recipient, content_sid=self.template_sid, content_variables=variables)
        except NotSent as exc:
            state.inflight = None
            await self._save(item.id, state)
            return self._retry(item, str(exc))
        except httpx.HTTPError as exc:
            return self._retry(item, f"network: {type(exc).__name__}")
        except TwilioRestException as exc:
            state.inflight = None
            await self._save(item.id, state)
            if exc.code == WINDOW_CLOSED:
                return DeliveryResult("held", error="63016 even for the template; waiting for them to write")
            return await self._on_error(item, state, exc)
        state.template, state.inflight, state.mode = sid, None, "text"
        await self._save(item.id, state)
        log.info("whatsapp.template_sent", outbox_id=item.id)
        return self._after_template(item, state)

    def _after_template(self, item: OutgoingMessage, state: WaState) -> DeliveryResult:
        """The template carried the whole text (sent), or only its start (the rest waits for them to write)."""
        if len(item.text.strip()) <= TEMPLATE_VARIABLE_MAX:
            return DeliveryResult("sent", external_id=state.template)
        return DeliveryResult("held", error="template sent; the full reply waits for them to write")

    async def _resolve_inflight(self, item: OutgoingMessage, state: WaState) -> str | None:
        """Find the interrupted create at Twilio; the kind found ("text"/"template"), or None when it never happened."""
        assert state.inflight is not None
        inflight = state.inflight
        since = datetime.fromisoformat(inflight["at"]) - CLOCK_SKEW
        if inflight["kind"] == "template":
            wanted = preview(item.text)

            def matches(body: str) -> bool:
                return wanted in body or wanted[:200] in body
        else:
            parts = split_message(item.text)
            expected = parts[inflight["part"]] if inflight["part"] < len(parts) else None

            def matches(body: str) -> bool:
                return body == expected

        recent = await self.outbox.recent("whatsapp", item.recipient, utcnow() - timedelta(days=2))
        exclude = known_sids(recent) | state.known()
        sent = await self.client.messages.list_async(to=wa(item.recipient), from_=wa(self.from_number),
                                                     limit=LOOKUP_LIMIT, page_size=LOOKUP_LIMIT)
        found = next((m.sid for m in sent if m.sid not in exclude and m.date_created is not None
                      and as_utc(m.date_created) >= since and matches(m.body or "")), None)
        log.info("whatsapp.reconciled", outbox_id=item.id, kind=inflight["kind"], part=inflight["part"],
                 found=bool(found))
        if found:
            if inflight["kind"] == "template":
                state.template, state.mode = str(found), "text"
            else:
                state.sids[str(inflight["part"])] = str(found)
        state.inflight = None
        await self._save(item.id, state)
        return str(inflight["kind"]) if found else None

    async def _save(self, outbox_id: int, state: WaState) -> None:
        def merge(item: OutgoingMessage) -> Change:
            stored = WaState.of(item.payload)
            state.receipts = {**stored.receipts, **state.receipts}  # status callbacks may have arrived meanwhile
            return Change({**item.payload, "wa": asdict(state)})

        await self.outbox.change(merge, outbox_id=outbox_id)

    def _retry(self, item: OutgoingMessage, error: str) -> DeliveryResult:
        hinted = last_retry_after.get()
        last_retry_after.set(None)
        delay = hinted if hinted is not None else backoff(item.attempts)
        return DeliveryResult("retry", error=error, retry_after=delay)


def preview(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TEMPLATE_VARIABLE_MAX else text[: TEMPLATE_VARIABLE_MAX - 1].rstrip() + "…"


def known_sids(rows: list[OutgoingMessage]) -> set[str]:
    """SIDs already attributed to recent rows for this recipient: a lookup must not claim them twice."""
    found: set[str] = set()
    for row in rows:
        if row.external_id:
            found.add(row.external_id)
        found |= WaState.of(row.payload).known()
    return found
