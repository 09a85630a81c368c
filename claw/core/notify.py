"""Messages claw sends on its own (reminders, watchers, alerts, task reports) to the owner where they read.

Each is queued in the outbox, written to the conversation's transcript and handed
to ``on_record`` (memory keeps it as an episode), all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from claw.core import history, outbox
from claw.store.db import Database, ensure_conversation, utcnow

#: (conversation, text, meta) written in the notification's transaction.
OnRecord = Callable[[Connection, str, str, dict[str, Any] | None], None]


class Notifier:
    def __init__(self, db: Database, route: tuple[str, str], wake_delivery: Callable[[], None],
                 on_record: OnRecord | None = None):
        self.db = db
        self.channel, self.address = route  # where the owner is reached
        self.wake_delivery = wake_delivery
        self.on_record = on_record

    @property
    def conversation(self) -> str:
        return f"{self.channel}:{self.address}"

    async def notify_owner(self, text: str, media: list[str] | None = None, meta: dict[str, Any] | None = None) -> int:
        """Queue ``text`` (and picture links) for the owner; returns the outbox id."""

        def write(conn: Connection) -> int:
            conv = ensure_conversation(conn, self.channel, self.address)
            history.record(conn, conv, "assistant", text, inbox_id=None, at=utcnow(),
                           meta={"origin": "notify", **(meta or {})})
            if self.on_record is not None:
                self.on_record(conn, conv, text, meta)
            return outbox.queue(conn, conversation_id=conv, channel=self.channel, recipient=self.address, text=text,
                                payload={"media": media} if media else None)

        outbox_id = await self.db.tx(write)
        self.wake_delivery()
        return outbox_id
