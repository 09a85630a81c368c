"""Token usage: recording per turn and estimating cost."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from claw.store.db import usage, utcnow
from claw.providers.base import LLMResponse

# USD per million tokens: (input, output, cache read, cache write). Prefix match on the model name.
PRICES: list[tuple[str, tuple[float, float, float, float]]] = [
    ("claude-opus-4-5", (5.0, 25.0, 0.5, 6.25)),
    ("claude-opus", (15.0, 75.0, 1.5, 18.75)),
    ("claude-sonnet", (3.0, 15.0, 0.3, 3.75)),
    ("claude-haiku-4", (1.0, 5.0, 0.1, 1.25)),
    ("claude-3-5-haiku", (0.8, 4.0, 0.08, 1.0)),
    ("claude-3-haiku", (0.25, 1.25, 0.03, 0.3)),
    ("gpt-4.1-nano", (0.1, 0.4, 0.025, 0.0)),
    ("gpt-4.1-mini", (0.4, 1.6, 0.1, 0.0)),
    ("gpt-4.1", (2.0, 8.0, 0.5, 0.0)),
    ("gpt-4o-mini", (0.15, 0.6, 0.075, 0.0)),
    ("gpt-4o", (2.5, 10.0, 1.25, 0.0)),
    ("gpt-5-mini", (0.25, 2.0, 0.025, 0.0)),
    ("gpt-5-nano", (0.05, 0.4, 0.005, 0.0)),
    ("gpt-5", (1.25, 10.0, 0.125, 0.0)),
]


def estimate_cost(provider: str, model: str, inp: int, out: int, cache_read: int, cache_write: int) -> float:
    """Local models cost nothing; unknown cloud models are priced as zero rather than guessed."""
    for prefix, (p_in, p_out, p_cr, p_cw) in PRICES:
        if model.startswith(prefix):
            return (inp * p_in + out * p_out + cache_read * p_cr + cache_write * p_cw) / 1_000_000
    return 0.0


def record(conn: Connection, resp: LLMResponse, *, conversation_id: str | None, inbox_id: int | None,
           purpose: str = "turn", task_id: int | None = None) -> None:
    u = resp.usage
    conn.execute(insert(usage), {  # parameters, not .values(): building that statement costs more than running it
        "at": utcnow(), "conversation_id": conversation_id, "inbox_id": inbox_id, "task_id": task_id,
        "purpose": purpose, "provider": resp.provider, "model": resp.model,
        "input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
        "cache_read_tokens": u.cache_read_tokens, "cache_write_tokens": u.cache_write_tokens,
        "cost_usd": estimate_cost(resp.provider, resp.model, u.input_tokens, u.output_tokens,
                                  u.cache_read_tokens, u.cache_write_tokens),
    })


def totals(conn: Connection, by: str) -> list[dict[str, Any]]:
    """Totals grouped by ``day``, ``conversation`` or ``task``."""
    key = {
        "day": func.substr(usage.c.at, 1, 10),
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
