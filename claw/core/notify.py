"""Messages claw sends on its own (reminders, alerts, task reports, budget stops) to the owner where they read.

Each goes to the owner's preferred channel (the first channel whose allowlist names
an owner, WhatsApp when configured; else the web chat), labelled for what it is, so
"call mom" arrives as "Reminder: call mom". When that channel is not the web chat,
the line is also written to the owner's web transcript (no delivery: the web chat
and ``claw chat`` show it live). Queued in the outbox, written to the transcript and
handed to ``on_record`` (memory keeps it as an episode), all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from claw.core import history, outbox
from claw.core.events import TurnInput, TurnOutcome
from claw.store.db import Database, ensure_conversation, utcnow

#: (conversation, text, meta) written in the notification's transaction.
OnRecord = Callable[[Connection, str, str, dict[str, Any] | None], None]

#: kind (the meta the sender passes) -> the label the owner reads first. Kinds whose text already says what it
#: is ("Goal #3 ... stopped", "I missed task #4 ...") have none.
LABELS = {"reminder": "Reminder", "watcher": "Alert", "alert": "Alert", "budget": "Budget"}

WEB_OWNER = ("web", "owner")


def labelled(text: str, kind: str | None) -> str:
    label = LABELS.get(kind or "")
    if label is None or text.lower().startswith(label.lower()):
        return text
    return f"{label}: {text}"


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
        meta = dict(meta or {})
        text = labelled(text, meta.get("kind"))
        line = {"origin": "notify", "via": self.channel, **meta}

        def write(conn: Connection) -> int:
            now = utcnow()
            conv = ensure_conversation(conn, self.channel, self.address)
            history.record(conn, conv, "assistant", text, inbox_id=None, at=now, meta=line)
            self._copy_to_web(conn, text, line)
            if self.on_record is not None:
                self.on_record(conn, conv, text, meta)
            return outbox.queue(conn, conversation_id=conv, channel=self.channel, recipient=self.address, text=text,
                                payload={"media": media} if media else None)

        outbox_id = await self.db.tx(write)
        self.wake_delivery()
        return outbox_id

    def copy_report(self, conn: Connection, item: TurnInput, outcome: TurnOutcome) -> None:
        """A task turn's answer (a routine's report) went to the owner's channel: when that is not the web chat,
        the web transcript shows it too, as it shows what ``notify_owner`` sends. Runs in the turn's transaction."""
        if item.origin == "scheduler" and outcome.reply:
            self._copy_to_web(conn, outcome.reply, {"origin": "scheduler", "via": self.channel})

    def _copy_to_web(self, conn: Connection, text: str, meta: dict[str, Any]) -> None:
        if (self.channel, self.address) != WEB_OWNER:
            web = ensure_conversation(conn, *WEB_OWNER)
            history.record(conn, web, "assistant", text, inbox_id=None, at=utcnow(), meta={**meta, "copy": True})
