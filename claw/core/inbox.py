"""Writing inbound messages durably, once: the inbox is unique on (channel, external id)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection

from claw.store.db import ensure_conversation, inbox, utcnow


@dataclass
class Accepted:
    inbox_id: int
    conversation_id: str
    created: bool  # False: a duplicate (a retried webhook), acknowledged and ignored


# Built once: on the webhook hot path, building and cache-keying statements per call costs more than running them.
_find = select(inbox.c.id, inbox.c.conversation_id).where(
    inbox.c.channel == bindparam("channel"), inbox.c.external_id == bindparam("external_id"))
_insert = insert(inbox).on_conflict_do_nothing(index_elements=[inbox.c.channel, inbox.c.external_id])


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
    conv = ensure_conversation(conn, channel, peer)
    inserted = conn.execute(_insert, {
        "channel": channel, "external_id": external_id, "conversation_id": conv, "sender": sender, "origin": origin,
        "text": text, "payload": payload or {}, "status": "pending", "received_at": utcnow(),
    })
    if inserted.rowcount == 1:
        return Accepted(inserted.inserted_primary_key[0], conv, True)
    existing = conn.execute(_find, {"channel": channel, "external_id": external_id}).one()
    return Accepted(existing.id, existing.conversation_id, False)


def result_of(conn: Connection, inbox_id: int) -> dict[str, Any] | None:
    """The finished turn's result (reply, handled_by, actions, services), or None while it runs."""
    row = conn.execute(select(inbox.c.status, inbox.c.result).where(inbox.c.id == inbox_id)).first()
    if row is None or row.status != "done":
        return None
    return row.result or {}
