"""The outbox: the only writer of outbox rows, and the delivery loop that owns their state.

Rows are queued inside the caller's transaction (a turn's reply with the turn,
a pairing code with the inbound message), so a message is neither lost nor
written twice. The loop hands each due row to its channel, marking it
``sending`` before the call; after a crash, rows left ``sending`` are
reconciled by the channel (was it sent?) before anything is sent again, so a
message goes out at most once. Channels keep their own progress on a row
(parts sent, receipts) through ``change``, never by writing the table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import structlog
from sqlalchemy import String, bindparam, cast, insert, or_, select, update
from sqlalchemy.engine import Connection, Row

from claw.logging import scrub
from claw.store.db import Database, new_id, utcnow
from claw.store.schema import outbox

log = structlog.get_logger("claw.outbox")

MAX_ATTEMPTS = 12


@dataclass
class OutgoingMessage:
    id: int
    channel: str
    conversation_id: str
    recipient: str
    text: str
    payload: dict[str, Any]
    attempts: int = 0
    external_id: str | None = None
    status: str = "pending"

    @classmethod
    def of(cls, row: Row[Any]) -> OutgoingMessage:
        return cls(row.id, row.channel, row.conversation_id, row.recipient, row.text, dict(row.payload or {}),
                   row.attempts, row.external_id, row.status)


@dataclass
class DeliveryResult:
    """``sent``: done. ``retry``: try again later. ``held``: keep until the recipient writes again. ``failed``: give up."""

    status: Literal["sent", "retry", "held", "failed"]
    external_id: str | None = None
    error: str | None = None
    retry_after: float | None = None
    payload: dict[str, Any] | None = None  # replaces the stored payload (e.g. parts already sent)


@dataclass
class Change:
    """What a channel records on a row outside a delivery attempt: its progress, and a new status if any."""

    payload: dict[str, Any]
    status: Literal["pending", "held", "failed"] | None = None
    error: str | None = None


class DeliveryLedger(Protocol):
    """What a channel may read and record on its outbox rows (``Outbox`` is one)."""

    async def get(self, outbox_id: int) -> OutgoingMessage | None: ...

    async def recent(self, channel: str, recipient: str, since: datetime) -> list[OutgoingMessage]: ...

    async def change(self, change: Callable[[OutgoingMessage], Change | None], *, outbox_id: int | None = None,
                     channel: str | None = None, containing: str | None = None
                     ) -> tuple[OutgoingMessage, Change] | None: ...


class Sender(Protocol):
    """The delivery half of a channel."""

    async def deliver(self, item: OutgoingMessage) -> DeliveryResult: ...

    async def reconcile(self, item: OutgoingMessage) -> DeliveryResult:
        """Decide about a message whose send was interrupted by a crash (sent or not?) before resending."""
        ...


# Built once: the reply of every turn is queued with this statement.
_insert = insert(outbox)


def queue(conn: Connection, *, conversation_id: str, channel: str, recipient: str, text: str,
          inbox_id: int | None = None, payload: dict[str, Any] | None = None, delivered: bool = False) -> int:
    """Queue one message in the caller's transaction. ``delivered``: the channel's clients read the
    transcript (the web chat), so the row is born sent. The text is scrubbed of secrets: a key never leaves,
    nor is it stored."""
    now = utcnow()
    return new_id(conn.execute(_insert, {
        "inbox_id": inbox_id, "conversation_id": conversation_id, "channel": channel, "recipient": recipient,
        "text": scrub(text), "payload": payload or {}, "created_at": now,
        "status": "sent" if delivered else "pending", "sent_at": now if delivered else None,
    }))


_release = (update(outbox).where(outbox.c.channel == bindparam("ch"), outbox.c.recipient == bindparam("to"),
                                 outbox.c.status == "held").values(status="pending", next_attempt_at=None))


def release_held(conn: Connection, channel: str, recipient: str) -> int:
    """The recipient wrote again: their held messages go back in line (in the caller's transaction)."""
    return int(conn.execute(_release, {"ch": channel, "to": recipient}).rowcount)


def backoff(attempts: int) -> float:
    return min(300.0, 2.0 ** min(attempts, 9))


class Outbox:
    """Delivers due rows through their channel, with retries, and records every outcome."""

    def __init__(self, db: Database, senders: Mapping[str, Sender]):
        self.db = db
        self.senders = senders
        self._wake = asyncio.Event()
        self._stopping = False
        #: outbox id -> last error, for rows not yet sent (shown by /healthz)
        self.backlog: dict[int, str] = {}
        #: (channel, recipient) that may have held rows; None until loaded (then every sender is asked)
        self._held: set[tuple[str, str]] | None = None

    def may_hold(self, channel: str, recipient: str) -> bool:
        """Whether the recipient may have held messages (a superset: releasing finds out, costs one UPDATE)."""
        return self._held is None or (channel, recipient) in self._held

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        self._held = await self.db.tx(lambda c: {(r.channel, r.recipient) for r in c.execute(
            select(outbox.c.channel, outbox.c.recipient).where(outbox.c.status == "held"))})
        await self._reconcile_interrupted()
        while not self._stopping:
            self._wake.clear()
            try:
                await self._deliver_due()
            except Exception:
                log.exception("delivery.scan_failed")
            try:
                await asyncio.wait_for(self._wake.wait(), 2.0)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    # -- what channels may ask and record ------------------------------------------------

    async def get(self, outbox_id: int) -> OutgoingMessage | None:
        row = await self.db.tx(lambda c: c.execute(select(outbox).where(outbox.c.id == outbox_id)).first())
        return OutgoingMessage.of(row) if row is not None else None

    async def recent(self, channel: str, recipient: str, since: datetime) -> list[OutgoingMessage]:
        rows = await self.db.tx(lambda c: c.execute(select(outbox).where(
            outbox.c.channel == channel, outbox.c.recipient == recipient, outbox.c.created_at >= since)).all())
        return [OutgoingMessage.of(r) for r in rows]

    async def change(self, change: Callable[[OutgoingMessage], Change | None], *, outbox_id: int | None = None,
                     channel: str | None = None, containing: str | None = None) -> tuple[OutgoingMessage, Change] | None:
        """Read one row (by id, or the channel's row whose payload holds ``containing``), let ``change``
        decide, and write its decision, all in one transaction. Returns the row and the change made."""

        def apply(conn: Connection) -> tuple[OutgoingMessage, Change] | None:
            q = select(outbox)
            if outbox_id is not None:
                q = q.where(outbox.c.id == outbox_id)
            else:
                q = q.where(outbox.c.channel == channel, cast(outbox.c.payload, String).contains(containing or ""))
            row = conn.execute(q.order_by(outbox.c.id.desc()).limit(1)).first()
            if row is None:
                return None
            item = OutgoingMessage.of(row)
            decided = change(item)
            if decided is None:
                return None
            values: dict[str, Any] = {"payload": decided.payload}
            if decided.status is not None:
                values.update(status=decided.status, error=decided.error)
                if decided.status == "pending":
                    values["next_attempt_at"] = None
            conn.execute(update(outbox).where(outbox.c.id == item.id).values(**values))
            return item, decided

        done = await self.db.tx(apply)
        if done is not None:
            self._noted(done[0], done[1].status)
            if done[1].status == "pending":
                self.wake()
        return done

    def _noted(self, row: Any, status: str | None) -> None:
        """After the commit, on the loop: remember whose messages are held (their next message releases them)."""
        if status == "held" and self._held is not None:
            self._held.add((row.channel, row.recipient))

    # -- the loop ---------------------------------------------------------------------------

    async def _reconcile_interrupted(self) -> None:
        rows = await self.db.tx(lambda c: c.execute(select(outbox).where(outbox.c.status == "sending")).all())
        for row in rows:
            sender = self.senders.get(row.channel)
            if sender is None:
                continue
            await self._settle(row, await self._call(sender.reconcile, row))

    async def _deliver_due(self) -> None:
        now = utcnow()

        def due(conn: Connection) -> list[Any]:
            return list(conn.execute(
                select(outbox)
                .where(outbox.c.status == "pending", or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now))
                .order_by(outbox.c.id)
                .limit(100)
            ).all())

        for row in await self.db.tx(due):
            if self._stopping:
                return
            sender = self.senders.get(row.channel)
            if sender is None:
                await self._settle(row, DeliveryResult("failed", error=f"no channel {row.channel!r}"))
                continue

            def mark(conn: Connection, row: Any = row) -> bool:
                res = conn.execute(
                    update(outbox).where(outbox.c.id == row.id, outbox.c.status == "pending")
                    .values(status="sending", attempts=outbox.c.attempts + 1)
                )
                return res.rowcount == 1

            if not await self.db.tx(mark):
                continue
            await self._settle(row, await self._call(sender.deliver, row))

    async def _call(self, fn: Callable[[OutgoingMessage], Any], row: Any) -> DeliveryResult:
        try:
            result: DeliveryResult = await fn(OutgoingMessage.of(row))
            return result
        except Exception as exc:
            log.exception("delivery.crashed", outbox_id=row.id, channel=row.channel)
            return DeliveryResult("retry", error=f"{type(exc).__name__}: {exc}")

    async def _settle(self, row: Any, result: DeliveryResult) -> None:
        """Record the outcome; the backlog (read by /healthz) changes on the loop, after the commit."""
        status = await self.db.tx(lambda c: self._record(c, row, result))
        self._noted(row, status)
        if status in ("sent", "failed"):
            self.backlog.pop(row.id, None)
        else:
            self.backlog[row.id] = result.error or status

    def _record(self, conn: Connection, row: Any, result: DeliveryResult) -> str:
        values: dict[str, Any] = {"error": result.error}
        if result.external_id:
            values["external_id"] = result.external_id
        if result.payload is not None:
            values["payload"] = result.payload
        if result.status == "sent":
            values.update(status="sent", sent_at=utcnow())
        elif result.status == "held":
            values.update(status="held")
        elif result.status == "retry" and row.attempts + 1 < MAX_ATTEMPTS:
            delay = result.retry_after if result.retry_after is not None else backoff(row.attempts)
            values.update(status="pending", next_attempt_at=utcnow() + timedelta(seconds=delay))
        else:
            values.update(status="failed")
            log.error("delivery.failed", outbox_id=row.id, channel=row.channel, error=result.error)
        conn.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
        if result.status != "sent":
            log.warning("delivery.not_sent", outbox_id=row.id, status=values["status"], error=result.error)
        return str(values["status"])
