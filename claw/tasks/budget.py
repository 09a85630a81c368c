"""Token budgets for unattended work, read from the usage table (rows carry the task id).

Only tasks that need the LLM spend tokens; reminders, compiled routines and
watchers with local actions cost nothing and are never stopped by a token budget.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from claw.store.schema import usage

_TOKENS = usage.c.input_tokens + usage.c.output_tokens + usage.c.cache_read_tokens + usage.c.cache_write_tokens


def local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    """Start of today in local time, as UTC (what the usage table stores)."""
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    return start.replace(tzinfo=tz).astimezone(UTC)


def _naive(dt: datetime) -> datetime:
    # usage.at is written as aware UTC; SQLite compares the stored text, which has no offset.
    return dt.astimezone(UTC).replace(tzinfo=None)


def task_tokens(conn: Connection, task_id: int, since: datetime | None = None) -> int:
    q = select(func.coalesce(func.sum(_TOKENS), 0)).where(usage.c.task_id == task_id)
    if since is not None:
        q = q.where(usage.c.at >= _naive(since))
    return int(conn.execute(q).scalar() or 0)


def unattended_tokens(conn: Connection, since: datetime) -> int:
    """Every token spent for tasks (runs, goal iterations, compiling) since ``since``."""
    q = select(func.coalesce(func.sum(_TOKENS), 0)).where(usage.c.task_id.is_not(None), usage.c.at >= _naive(since))
    return int(conn.execute(q).scalar() or 0)


def tomorrow(now: datetime, tz: ZoneInfo) -> datetime:
    return local_midnight(now, tz) + timedelta(days=1)
