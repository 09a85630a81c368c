"""The conversation transcript: what was said, for the recent window and the web chat.

Every line is scrubbed of secrets before it is written: whoever records it, a key never lands in the transcript.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from claw.logging import scrub, scrub_data
from claw.store.db import as_utc, new_id
from claw.store.schema import messages


def record(conn: Connection, conversation_id: str, role: str, text: str, *, inbox_id: int | None,
           at: datetime, meta: dict[str, Any] | None = None) -> int:
    return new_id(conn.execute(insert(messages), {  # parameters, not .values(): cheaper on every turn
        "conversation_id": conversation_id, "role": role, "text": scrub(text), "inbox_id": inbox_id,
        "meta": scrub_data(meta) if meta else {}, "at": at,
    }))


PAGE = 200


def since(conn: Connection, conversation_id: str, after_id: int = 0, limit: int = PAGE) -> list[dict[str, Any]]:
    """What a person reads (the web chat, ``claw chat``): a task's internal prompt (role "task") is not shown.

    From the start (``after_id`` 0) the newest ``limit`` lines; after a line, the next ``limit`` in order, so a
    client that reads page after page misses none."""
    query = select(messages).where(messages.c.conversation_id == conversation_id, messages.c.id > after_id,
                                   messages.c.role != "task")
    if after_id:
        rows = conn.execute(query.order_by(messages.c.id).limit(limit)).all()
    else:
        rows = list(reversed(conn.execute(query.order_by(messages.c.id.desc()).limit(limit)).all()))
    return [
        {"id": r.id, "role": r.role, "text": r.text, "at": as_utc(r.at).isoformat(), "meta": r.meta,
         "inbox_id": r.inbox_id}
        for r in rows
    ]


def recent(conn: Connection, conversation_id: str, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The last ``limit`` (role, text, meta) of a conversation, oldest first."""
    if limit <= 0:
        return []
    q = select(messages.c.role, messages.c.text, messages.c.meta).where(messages.c.conversation_id == conversation_id)
    rows = conn.execute(q.order_by(messages.c.id.desc()).limit(limit)).all()
    return [(r.role, r.text, r.meta if isinstance(r.meta, dict) else {}) for r in reversed(rows)]
