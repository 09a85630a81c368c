"""Delivers outbox rows through their channel, with retries; a row is marked ``sending`` before the call.

After a crash, rows left in ``sending`` are reconciled by the channel (was it
sent?) before anything is sent again, so a reply goes out at most once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from claw.channels.base import Channel, DeliveryResult, OutgoingMessage
from claw.store.db import Database, outbox, utcnow

log = structlog.get_logger("claw.core.outbox")

MAX_ATTEMPTS = 12


def backoff(attempts: int) -> float:
    return min(300.0, 2.0 ** min(attempts, 9))


class Deliverer:
    def __init__(self, db: Database, channels: dict[str, Channel]):
        self.db = db
        self.channels = channels
        self._wake = asyncio.Event()
        self._stopping = False
        #: outbox id -> last error, for rows not yet sent (shown by /healthz)
        self.backlog: dict[int, str] = {}

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
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

    async def _reconcile_interrupted(self) -> None:
        rows = await self.db.tx(lambda c: c.execute(select(outbox).where(outbox.c.status == "sending")).all())
        for row in rows:
            channel = self.channels.get(row.channel)
            if channel is None:
                continue
            result = await self._call(channel.reconcile, row)
            await self.db.tx(lambda c, row=row, result=result: self._record(c, row, result))

    async def _deliver_due(self) -> None:
        now = utcnow()

        def due(conn: Connection) -> list[Any]:
            return conn.execute(
                select(outbox)
                .where(outbox.c.status == "pending", or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now))
                .order_by(outbox.c.id)
                .limit(100)
            ).all()

        for row in await self.db.tx(due):
            if self._stopping:
                return
            channel = self.channels.get(row.channel)
            if channel is None:
                await self.db.tx(lambda c, row=row: self._record(c, row, DeliveryResult("failed", error=f"no channel {row.channel!r}")))
                continue

            def mark(conn: Connection, row: Any = row) -> bool:
                res = conn.execute(
                    update(outbox).where(outbox.c.id == row.id, outbox.c.status == "pending")
                    .values(status="sending", attempts=outbox.c.attempts + 1)
                )
                return res.rowcount == 1

            if not await self.db.tx(mark):
                continue
            result = await self._call(channel.deliver, row)
            await self.db.tx(lambda c, row=row, result=result: self._record(c, row, result))

    async def _call(self, fn: Any, row: Any) -> DeliveryResult:
        item = OutgoingMessage(row.id, row.conversation_id, row.recipient, row.text, dict(row.payload or {}),
                               row.attempts, row.external_id)
        try:
            return await fn(item)
        except Exception as exc:
            log.exception("delivery.crashed", outbox_id=row.id, channel=row.channel)
            return DeliveryResult("retry", error=f"{type(exc).__name__}: {exc}")

    def _record(self, conn: Connection, row: Any, result: DeliveryResult) -> None:
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
        if values["status"] in ("sent", "failed"):
            self.backlog.pop(row.id, None)
        else:
            self.backlog[row.id] = result.error or values["status"]
        if result.status != "sent":
            log.warning("delivery.not_sent", outbox_id=row.id, status=values["status"], error=result.error)
