"""The conversation transcript: what was said, for the recent window and the web chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from claw.store.db import as_utc, messages
from claw.providers.base import Message


def record(conn: Connection, conversation_id: str, role: str, text: str, *, inbox_id: int | None,
           at: datetime, meta: dict[str, Any] | None = None) -> int:
    return conn.execute(insert(messages), {  # parameters, not .values(): cheaper on every turn
        "conversation_id": conversation_id, "role": role, "text": text, "inbox_id": inbox_id, "meta": meta or {}, "at": at,
    }).inserted_primary_key[0]


def since(conn: Connection, conversation_id: str, after_id: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(messages).where(messages.c.conversation_id == conversation_id, messages.c.id > after_id)
        .order_by(messages.c.id.desc()).limit(limit)
    ).all()
    return [
        {"id": r.id, "role": r.role, "text": r.text, "at": as_utc(r.at).isoformat(), "meta": r.meta}
        for r in reversed(rows)
    ]


def window(conn: Connection, conversation_id: str, limit: int) -> list[Message]:
    """The last ``limit`` messages as alternating user/assistant turns, oldest first."""
    if limit <= 0:
        return []
    from claw.agent.turn import untrusted  # here: claw.agent.turn imports this module

    q = select(messages.c.role, messages.c.text, messages.c.meta).where(messages.c.conversation_id == conversation_id)
    rows = list(reversed(conn.execute(q.order_by(messages.c.id.desc()).limit(limit)).all()))
    out: list[Message] = []
    for role, text, meta in rows:
        if role == "task":  # a scheduled instruction is context, never a user message
            role, text = "assistant", f"(scheduled task ran: {text})"
        elif isinstance(meta, dict) and meta.get("untrusted"):
            # a notification quoting outside text (a camera's description): data for the model, not orders
            text = untrusted(str(meta["untrusted"]), text)
        if role not in ("user", "assistant"):
            continue
        if out and out[-1].role == role:
            out[-1].text += "\n\n" + text
        else:
            out.append(Message(role=role, text=text))  # type: ignore[arg-type]
    while out and out[0].role != "user":
        out.pop(0)
    if out and out[-1].role == "user":
        # The current message is appended after; keep strict alternation for the providers.
        out.append(Message(role="assistant", text="(no reply was sent)"))
    return out
