"""The inbox: every inbound message is written durably, once, before anyone acknowledges it.

``Inbox`` is the port channels receive: ``publish`` runs the sender gate, writes
the row (unique on channel + external id, so a retried webhook is a no-op),
puts the sender's held replies back in line, and wakes the dispatcher, all
before the channel answers its caller. A channel only publishes; it never sees
the dispatcher, the agent or the database.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from claw.core import history, outbox
from claw.core.gate import SenderGate, Verdict
from claw.core.outbox import Outbox
from claw.core.pairing import parse_approval
from claw.store.db import Database, ensure_conversation, new_id, utcnow
from claw.store.schema import inbox

log = structlog.get_logger("claw.inbox")


@dataclass
class Accepted:
    inbox_id: int
    conversation_id: str
    created: bool  # False: a duplicate (a retried webhook), acknowledged and ignored


@dataclass
class Inbound:
    """A message as a channel publishes it."""

    channel: str
    external_id: str
    sender: str
    text: str
    profile_name: str | None = None
    images: list[dict[str, str]] = field(default_factory=list)  # {"media_type", "data_b64"}
    #: Attachments the channel could not turn into something the model reads (their media types).
    unreadable: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # channel details kept with the row


@dataclass
class Published:
    """What ``publish`` did. ``turn``: a turn will run; ``queued``: replies wait in the outbox."""

    verdict: Verdict
    accepted: Accepted | None = None
    turn: bool = False
    queued: bool = False


CANT_READ = "Sorry, I can't read that kind of file yet ({types}). Photos work, and text of course."

# Built once: on the webhook hot path, building and cache-keying statements per call costs more than running them.
_find = select(inbox.c.id, inbox.c.conversation_id).where(
    inbox.c.channel == bindparam("channel"), inbox.c.external_id == bindparam("external_id"))
_inserts: dict[str, Any] = {}


def _insert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the database in use (SQLite, or PostgreSQL imported only then)."""
    if dialect not in _inserts:
        module = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
        _inserts[dialect] = module.insert(inbox).on_conflict_do_nothing(index_elements=[inbox.c.channel,
                                                                                       inbox.c.external_id])
    return _inserts[dialect]


def accept(conn: Connection, *, channel: str, external_id: str, peer: str, sender: str, text: str,
           payload: dict[str, Any] | None = None, origin: str = "user") -> Accepted:
    conv = ensure_conversation(conn, channel, peer)
    inserted = conn.execute(_insert(conn.dialect.name), {
        "channel": channel, "external_id": external_id, "conversation_id": conv, "sender": sender, "origin": origin,
        "text": text, "payload": payload or {}, "status": "pending", "received_at": utcnow(),
    })
    if inserted.rowcount == 1:
        return Accepted(new_id(inserted), conv, True)
    existing = conn.execute(_find, {"channel": channel, "external_id": external_id}).one()
    return Accepted(existing.id, existing.conversation_id, False)


def close(conn: Connection, accepted: Accepted, text: str, reply: str | None, handled_by: str) -> None:
    """Mark a row handled without a turn (an approval, an unreadable file) done, keeping the transcript whole."""
    now = utcnow()
    conn.execute(update(inbox).where(inbox.c.id == accepted.inbox_id).values(
        status="done", finished_at=now,
        result={"reply": reply or "", "handled_by": handled_by, "actions": [], "services": []}))
    history.record(conn, accepted.conversation_id, "user", text, inbox_id=accepted.inbox_id, at=now)
    if reply:
        history.record(conn, accepted.conversation_id, "assistant", reply, inbox_id=accepted.inbox_id, at=now,
                       meta={"handled_by": handled_by})


def result_of(conn: Connection, inbox_id: int) -> dict[str, Any] | None:
    """The finished turn's result (reply, handled_by, actions, services), or None while it runs."""
    row = conn.execute(select(inbox.c.status, inbox.c.result).where(inbox.c.id == inbox_id)).first()
    if row is None or row.status != "done":
        return None
    return row.result or {}


class Inbox:
    """The inbound port: the gate, the durable write, and the wake-ups once it is committed."""

    def __init__(self, db: Database, gate: SenderGate, wake_turns: Callable[[str], None], outbox: Outbox):
        self.db = db
        self.gate = gate
        self.wake_turns = wake_turns
        self.outbox = outbox

    async def may_talk(self, channel: str, sender: str) -> bool:
        """Whether the sender is admitted (say, before downloading what they sent)."""
        return await self.db.tx(lambda c: self.gate.may_talk(c, channel, sender))

    async def publish(self, msg: Inbound, batched: bool = False) -> Published:
        """Gate and write the message; with ``batched``, concurrent webhooks share one commit."""
        write = self.db.tx_batched if batched else self.db.tx
        done = await write(lambda c: self._write(c, msg))
        if done.turn and done.accepted is not None:
            self.wake_turns(done.accepted.conversation_id)
        if done.queued:
            self.outbox.wake()
        return done

    async def enqueue(self, *, channel: str, external_id: str, peer: str, sender: str, text: str,
                      payload: dict[str, Any] | None = None, origin: str = "user") -> Accepted:
        """A message from inside the house (the web API's token holder, a scheduled task): no gate."""
        accepted = await self.db.tx(lambda c: accept(c, channel=channel, external_id=external_id, peer=peer,
                                                     sender=sender, text=text, payload=payload, origin=origin))
        if accepted.created:
            self.wake_turns(accepted.conversation_id)
        return accepted

    def _write(self, conn: Connection, msg: Inbound) -> Published:
        """One transaction, no effects outside it (a batched write may run twice after a rollback)."""
        verdict = self.gate.check(conn, msg.channel, msg.sender, msg.profile_name)
        if not verdict.admitted:
            return Published(verdict, queued=verdict.queued)
        is_owner = verdict.status == "owner"
        payload: dict[str, Any] = {"owner": is_owner, **msg.extra}
        if msg.profile_name:
            payload["profile_name"] = msg.profile_name
        if msg.images:
            payload["images"] = msg.images
        if msg.unreadable:
            payload["unreadable"] = msg.unreadable
        accepted = accept(conn, channel=msg.channel, external_id=msg.external_id, peer=msg.sender, sender=msg.sender,
                          text=msg.text, payload=payload)
        if not accepted.created:
            log.info("inbox.duplicate", channel=msg.channel, external_id=msg.external_id)
            return Published(verdict, accepted)
        done = Published(verdict, accepted, turn=True)
        if self.outbox.may_hold(msg.channel, msg.sender):  # they wrote again: held replies go back in line
            done.queued = outbox.release_held(conn, msg.channel, msg.sender) > 0
        code = parse_approval(msg.text) if is_owner and not msg.images else None
        if code is not None:
            reply = self.gate.approve(conn, code)
            close(conn, accepted, msg.text, reply, "pairing")
            outbox.queue(conn, conversation_id=accepted.conversation_id, channel=msg.channel, recipient=msg.sender,
                         text=reply, inbox_id=accepted.inbox_id)
            done.turn, done.queued = False, True
        elif msg.unreadable:
            outbox.queue(conn, conversation_id=accepted.conversation_id, channel=msg.channel, recipient=msg.sender,
                         text=CANT_READ.format(types=", ".join(msg.unreadable)), inbox_id=accepted.inbox_id)
            done.queued = True
            if not msg.text.strip() and not msg.images:  # nothing else in it: no turn
                close(conn, accepted, msg.text, None, msg.channel)
                done.turn = False
        return done
