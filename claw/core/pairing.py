"""Pairing: how someone the owner has not listed gets permission to talk to the claw.

An unknown sender gets a short code; the owner approves it (``claw pairing
approve CODE`` or by texting "approve CODE"), which adds the sender to
``allowed_senders``. Everything is plain SQL on a connection, so the CLI works
whether or not the daemon is running.
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
from claw.store.db import as_utc, ensure_conversation, utcnow
from claw.store.schema import allowed_senders, pairing_codes

CODE_TTL = timedelta(hours=1)
#: No more than this many live codes at once: a flood of strangers cannot make us send a flood of replies.
MAX_LIVE_CODES = 20
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
    new: bool  # False: the sender already holds a live code (they get no second reply)


def _code(row: Any) -> Code:
    return Code(row.code, row.channel, row.address, row.name, row.status, as_utc(row.created_at),
                as_utc(row.expires_at))


def is_allowed(conn: Connection, channel: str, address: str) -> bool:
    return conn.execute(
        select(allowed_senders.c.address).where(allowed_senders.c.channel == channel, allowed_senders.c.address == address)
    ).first() is not None


def issue(conn: Connection, channel: str, address: str, name: str | None, now: datetime | None = None) -> Issued | None:
    """A code for this sender: their live one if any, else a new one; None when too many codes are live."""
    now = now or utcnow()
    live = conn.execute(
        select(pairing_codes).where(pairing_codes.c.channel == channel, pairing_codes.c.address == address,
                                    pairing_codes.c.status == "pending", pairing_codes.c.expires_at > now)
    ).first()
    if live is not None:
        return Issued(live.code, False)
    count = conn.execute(
        select(func.count()).select_from(pairing_codes).where(pairing_codes.c.status == "pending",
                                                               pairing_codes.c.expires_at > now)
    ).scalar_one()
    if count >= MAX_LIVE_CODES:
        return None
    conn.execute(delete(pairing_codes).where(pairing_codes.c.status == "pending", pairing_codes.c.expires_at <= now))
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if conn.execute(select(pairing_codes.c.id).where(pairing_codes.c.code == code)).first() is None:
            break
    conn.execute(insert(pairing_codes).values(channel=channel, address=address, name=name, code=code,
                                              status="pending", created_at=now, expires_at=now + CODE_TTL))
    return Issued(code, True)


class PairingError(Exception):
    """A code that does not exist, expired, or a number that cannot be revoked; phrased for the owner."""


def approve(conn: Connection, code: str, now: datetime | None = None) -> Code:
    """Admit the sender holding ``code``; raises PairingError when the code is unknown or expired."""
    now = now or utcnow()
    row = conn.execute(select(pairing_codes).where(pairing_codes.c.code == code.strip().upper())).first()
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
