"""Token usage: one row per model call (the cost estimated by its provider), and totals for `claw usage`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from claw.providers.base import LLMResponse
from claw.store.db import utcnow
from claw.store.schema import usage


def record(conn: Connection, resp: LLMResponse, *, conversation_id: str | None, inbox_id: int | None,
           purpose: str = "turn", task_id: int | None = None) -> None:
    u = resp.usage
    conn.execute(insert(usage), {  # parameters, not .values(): building that statement costs more than running it
        "at": utcnow(), "conversation_id": conversation_id, "inbox_id": inbox_id, "task_id": task_id,
        "purpose": purpose, "provider": resp.provider, "model": resp.model,
        "input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
        "cache_read_tokens": u.cache_read_tokens, "cache_write_tokens": u.cache_write_tokens,
        "cost_usd": resp.cost_usd, "estimated_input": resp.estimated_input,
    })


def totals(conn: Connection, by: str) -> list[dict[str, Any]]:
    """Totals grouped by ``day``, ``conversation`` or ``task``."""
    key = {
        "day": func.date(usage.c.at),
        "conversation": func.coalesce(usage.c.conversation_id, "-"),
        "task": func.coalesce(usage.c.task_id, 0),
    }[by]
    rows = conn.execute(
        select(
            key.label("key"),
            func.count().label("calls"),
            func.sum(usage.c.input_tokens).label("input"),
            func.sum(usage.c.output_tokens).label("output"),
            func.sum(usage.c.cache_read_tokens).label("cache_read"),
            func.sum(usage.c.cache_write_tokens).label("cache_write"),
            func.sum(usage.c.cost_usd).label("cost"),
        ).group_by(key).order_by(key)
    )
    return [dict(r._mapping) for r in rows]


def estimate_error(conn: Connection) -> dict[str, int]:
    """Over the calls a budget checked: the input they really took against what the check counted. A budget can
    be overshot by at most what the count missed."""
    actual = usage.c.input_tokens + usage.c.cache_read_tokens + usage.c.cache_write_tokens
    row = conn.execute(select(func.count(), func.coalesce(func.sum(actual), 0),
                              func.coalesce(func.sum(usage.c.estimated_input), 0),
                              func.coalesce(func.max(actual - usage.c.estimated_input), 0))
                       .where(usage.c.estimated_input.is_not(None))).one()
    return {"calls": row[0], "actual": int(row[1]), "estimated": int(row[2]), "worst_under": int(row[3])}
