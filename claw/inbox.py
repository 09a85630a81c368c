"""Writing inbound messages durably, once: the inbox is unique on (channel, external id)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from claw.db import ensure_conversation, inbox, utcnow


@dataclass
class Accepted:
    inbox_id: int
    conversation_id: str
    created: bool  # False: a duplicate (a retried webhook), acknowledged and ignored


def accept(
    conn: Connection,
    *,
    channel: str,
    external_id: str,
    peer: str,
    sender: str,
    text: str,
    payload: dict[str, Any] | None = None,
    origin: str = "user",
) -> Accepted:
    existing = conn.execute(
        select(inbox.c.id, inbox.c.conversation_id).where(inbox.c.channel == channel, inbox.c.external_id == external_id)
    ).first()
    if existing is not None:
        return Accepted(existing.id, existing.conversation_id, False)
    conv = ensure_conversation(conn, channel, peer)
    inbox_id = conn.execute(
        insert(inbox).values(
            channel=channel, external_id=external_id, conversation_id=conv, sender=sender, origin=origin,
            text=text, payload=payload or {}, status="pending", received_at=utcnow(),
        )
    ).inserted_primary_key[0]
    return Accepted(inbox_id, conv, True)


def result_of(conn: Connection, inbox_id: int) -> dict[str, Any] | None:
    """The finished turn's result (reply, handled_by, actions, services), or None while it runs."""
    row = conn.execute(select(inbox.c.status, inbox.c.result).where(inbox.c.id == inbox_id)).first()
    if row is None or row.status != "done":
        return None
    return row.result or {}
