"""Sensitive tool calls wait for the owner's yes; the pending action is stored so it survives a restart."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from claw.store.db import as_utc, utcnow
from claw.store.schema import pending_actions

YES = re.compile(r"^\s*(yes|y|yep|yeah|yup|ok|okay|sure|confirm(ed)?|do it|go ahead|approve[d]?)\b[\s.!]*$", re.I)
NO = re.compile(r"^\s*(no|n|nope|cancel|stop|don'?t|never ?mind)\b[\s.!]*$", re.I)


@dataclass
class PendingAction:
    id: int
    tool: str
    args: dict[str, Any]
    summary: str
    origin: str | None = None  # the outside words that came before it was proposed, if any


def describe(tool: str, args: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items() if v is not None)
    return f"{tool}({shown})"


def create(conn: Connection, conversation_id: str, tool: str, args: dict[str, Any], minutes: int,
           summary: str | None = None, origin: str | None = None) -> str:
    """Store the action (replacing any earlier one) and return the question to put to the owner.

    ``summary`` is what the call does in words ("Unlock the Front Door"); without one the call is shown as written.
    ``origin`` names the outside words that came into the turn first ("the Porch camera's description"): the
    question says so, and the call runs knowing it (a fact it stores stays marked as theirs).
    """
    now = utcnow()
    conn.execute(
        update(pending_actions)
        .where(pending_actions.c.conversation_id == conversation_id, pending_actions.c.status == "waiting")
        .values(status="cancelled")
    )
    summary = summary or describe(tool, args)
    conn.execute(
        insert(pending_actions).values(
            conversation_id=conversation_id, tool=tool, args=args, summary=summary, status="waiting",
            created_at=now, expires_at=now + timedelta(minutes=minutes), origin=origin,
        )
    )
    return question(summary, minutes, origin)


def question(summary: str, minutes: int, origin: str | None = None) -> str:
    """What the owner is asked: "Unlock the Front Door? Reply yes to confirm, ...", or, after outside words,
    "After reading the Porch camera's description, I was about to open the Garage Door. Do it? ..."."""
    tail = f"Reply yes to confirm, or no to cancel (it expires in {minutes} min)."
    if origin:
        return f"After reading {origin}, I was about to {summary[:1].lower()}{summary[1:]}. Do it? {tail}"
    return f"{summary}? {tail}"


# Built once: asked on every owner message.
_waiting = (select(pending_actions)
            .where(pending_actions.c.conversation_id == bindparam("conversation_id"), pending_actions.c.status == "waiting")
            .order_by(pending_actions.c.id.desc()).limit(1))


def waiting(conn: Connection, conversation_id: str) -> PendingAction | None:
    row = conn.execute(_waiting, {"conversation_id": conversation_id}).first()
    if row is None:
        return None
    if as_utc(row.expires_at) < utcnow():
        conn.execute(update(pending_actions).where(pending_actions.c.id == row.id).values(status="expired"))
        return None
    return PendingAction(row.id, row.tool, row.args, row.summary, row.origin)


def close(conn: Connection, action_id: int, status: str) -> bool:
    """Mark the action done or cancelled; False if something else already closed it (never run twice)."""
    res = conn.execute(
        update(pending_actions)
        .where(pending_actions.c.id == action_id, pending_actions.c.status == "waiting")
        .values(status=status)
    )
    return res.rowcount == 1
