"""Pairing: how someone the owner has not listed gets permission to talk to the claw.

An unknown sender gets a short code; the owner approves it (``claw pairing
approve CODE`` or by texting "approve CODE" on that channel), which adds the
sender to ``allowed_senders``. Everything is plain SQL on a connection, so the
CLI works whether or not the daemon is running.

Limits, against someone with many numbers: a sender holds one code a day
(writing again gets nothing new); at most ``REPLIES_PER_HOUR`` strangers a
channel are sent their code each hour (the rest keep theirs, sent when they
write again once there is room); the owner hears about strangers at most once
an hour (``claw.core.gate``). Every stranger is recorded either way, so a flood
never keeps a real person from being listed (``claw pairing list``) and
approved; only ``MAX_PENDING`` waiting codes bound the table.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from claw.core import outbox
from claw.store.db import as_utc, ensure_conversation, new_id, utcnow
from claw.store.schema import allowed_senders, pairing_codes

#: A stranger's code lasts a day; until it expires, writing again gets them no new one.
CODE_TTL = timedelta(hours=24)
#: Codes sent to strangers per channel in any hour: a flood of numbers gets the owner's number this many replies.
REPLIES_PER_HOUR = 20
#: Waiting codes per channel; past it a new stranger is not recorded (it bounds the table, nothing else).
MAX_PENDING = 500
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 6
WELCOME = "You're approved. Hello! What can I do for you?"
APPROVE_RE = re.compile(r"^\s*approve\s+([A-Za-z0-9]{4,12})\s*[.!]?\s*$", re.IGNORECASE)


@dataclass
class Code:
    code: str
    channel: str
    address: str
    name: str | None
    status: str
    created_at: datetime
    expires_at: datetime
    id: int = 0
    replied_at: datetime | None = None  # when the stranger was sent the code (None: not yet)
    notified_at: datetime | None = None  # when the owner was told about it (None: not yet)


@dataclass
class Sender:
    channel: str
    address: str
    name: str | None
    added_at: datetime
    via: str


@dataclass
class Issued:
    code: str
    new: bool  # False: the sender already holds a live code
    id: int
    replied: bool  # the sender was already sent this code (they never get it twice)


def _code(row: Any) -> Code:
    return Code(row.code, row.channel, row.address, row.name, row.status, as_utc(row.created_at),
                as_utc(row.expires_at), row.id, as_utc(row.replied_at) if row.replied_at else None,
                as_utc(row.notified_at) if row.notified_at else None)


def is_allowed(conn: Connection, channel: str, address: str) -> bool:
    return conn.execute(
        select(allowed_senders.c.address).where(allowed_senders.c.channel == channel, allowed_senders.c.address == address)
    ).first() is not None


def issue(conn: Connection, channel: str, address: str, name: str | None, now: datetime | None = None) -> Issued | None:
    """The sender's live code, else a new one; None when ``MAX_PENDING`` codes already wait on the channel."""
    now = now or utcnow()
    live = conn.execute(
        select(pairing_codes).where(pairing_codes.c.channel == channel, pairing_codes.c.address == address,
                                    pairing_codes.c.status == "pending", pairing_codes.c.expires_at > now)
    ).first()
    if live is not None:
        return Issued(live.code, False, live.id, live.replied_at is not None)
    conn.execute(delete(pairing_codes).where(pairing_codes.c.status == "pending", pairing_codes.c.expires_at <= now))
    count = conn.execute(
        select(func.count()).select_from(pairing_codes).where(pairing_codes.c.channel == channel,
                                                               pairing_codes.c.status == "pending")
    ).scalar_one()
    if count >= MAX_PENDING:
        return None
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if conn.execute(select(pairing_codes.c.id).where(pairing_codes.c.code == code)).first() is None:
            break
    row_id = new_id(conn.execute(insert(pairing_codes).values(
        channel=channel, address=address, name=name, code=code, status="pending", created_at=now,
        expires_at=now + CODE_TTL)))
    return Issued(code, True, row_id, False)


def claim_reply(conn: Connection, channel: str, code_id: int, now: datetime | None = None) -> bool:
    """Whether the code's holder may be sent it now (the hour's budget on the channel has room); if so,
    it is marked sent, in the caller's transaction."""
    now = now or utcnow()
    sent = conn.execute(
        select(func.count()).select_from(pairing_codes).where(pairing_codes.c.channel == channel,
                                                               pairing_codes.c.replied_at > now - timedelta(hours=1))
    ).scalar_one()
    if sent >= REPLIES_PER_HOUR:
        return False
    conn.execute(update(pairing_codes).where(pairing_codes.c.id == code_id).values(replied_at=now))
    return True


def last_notice(conn: Connection, channel: str) -> datetime | None:
    """When the owner was last told about a stranger on the channel."""
    at = conn.execute(select(func.max(pairing_codes.c.notified_at)).where(pairing_codes.c.channel == channel)).scalar()
    return as_utc(at) if at is not None else None


def unnoticed(conn: Connection, channel: str, now: datetime | None = None) -> list[Code]:
    """Waiting codes the owner has not been told about yet, oldest first."""
    now = now or utcnow()
    rows = conn.execute(select(pairing_codes).where(
        pairing_codes.c.channel == channel, pairing_codes.c.status == "pending", pairing_codes.c.expires_at > now,
        pairing_codes.c.notified_at.is_(None)).order_by(pairing_codes.c.created_at, pairing_codes.c.id)).all()
    return [_code(r) for r in rows]


def mark_noticed(conn: Connection, ids: list[int], now: datetime) -> None:
    conn.execute(update(pairing_codes).where(pairing_codes.c.id.in_(ids)).values(notified_at=now))


class PairingError(Exception):
    """A code that does not exist, expired, or a number that cannot be revoked; phrased for the owner."""


def approve(conn: Connection, code: str, now: datetime | None = None, channel: str | None = None) -> Code:
    """Admit the sender holding ``code`` (only a code of ``channel``, when given); raises PairingError when the
    code is unknown there or expired."""
    now = now or utcnow()
    query = select(pairing_codes).where(pairing_codes.c.code == code.strip().upper())
    if channel is not None:
        query = query.where(pairing_codes.c.channel == channel)
    row = conn.execute(query).first()
    if row is None:
        raise PairingError(f"no pairing code {code.strip().upper()!r}")
    found = _code(row)
    if found.status == "approved":
        return found
    if found.expires_at <= now:
        raise PairingError(f"code {found.code} expired at {found.expires_at:%H:%M} UTC; ask them to write again")
    conn.execute(update(pairing_codes).where(pairing_codes.c.id == row.id).values(status="approved"))
    if not is_allowed(conn, found.channel, found.address):
        conn.execute(insert(allowed_senders).values(channel=found.channel, address=found.address, name=found.name,
                                                    added_at=now, via=found.code))
    found.status = "approved"
    return found


def revoke(conn: Connection, channel: str, address: str) -> bool:
    """Remove a paired sender; False when they were not paired."""
    conn.execute(delete(pairing_codes).where(pairing_codes.c.channel == channel, pairing_codes.c.address == address))
    res = conn.execute(delete(allowed_senders).where(allowed_senders.c.channel == channel,
                                                     allowed_senders.c.address == address))
    return res.rowcount > 0


def pending(conn: Connection, now: datetime | None = None) -> list[Code]:
    now = now or utcnow()
    rows = conn.execute(select(pairing_codes).where(pairing_codes.c.status == "pending", pairing_codes.c.expires_at > now)
                        .order_by(pairing_codes.c.created_at)).all()
    return [_code(r) for r in rows]


def senders(conn: Connection) -> list[Sender]:
    rows = conn.execute(select(allowed_senders).order_by(allowed_senders.c.added_at)).all()
    return [Sender(r.channel, r.address, r.name, as_utc(r.added_at), r.via) for r in rows]


def parse_approval(text: str) -> str | None:
    """The code in an owner's "approve CODE" message, or None."""
    m = APPROVE_RE.match(text)
    return m.group(1).upper() if m else None


def queue_welcome(conn: Connection, channel: str, address: str) -> None:
    """Tell the newly admitted sender; a running daemon's delivery loop picks the row up (or the next start does)."""
    conv = ensure_conversation(conn, channel, address)
    outbox.queue(conn, conversation_id=conv, channel=channel, recipient=address, text=WELCOME)
