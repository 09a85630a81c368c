"""The tasks tables and the dataclasses read from them.

Task definitions live in our own table (not only in APScheduler's pickled job
store) so they can be listed, explained and edited by the CLI while the daemon
is down. ``rev`` changes on every edit of a definition; the daemon compares it
with the revision it scheduled to know which jobs to rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from claw.store.db import as_utc, utcnow

metadata = MetaData()

KINDS = ("reminder", "routine", "watcher", "goal", "camera")  # camera: run by the camera skill
#: Statuses in which a task still runs.
LIVE = ("active",)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String, nullable=False),  # reminder | routine | watcher | goal | camera
    Column("title", String, nullable=False),
    Column("instruction", Text, nullable=False),
    Column("trigger", JSON),  # {"type": "at"|"cron"|"every", ...}; None for watchers
    Column("spec", JSON, nullable=False, default=dict),  # actions, watch condition, goal bounds, ...
    Column("status", String, nullable=False, default="active"),  # active | paused | done | missed | expired
    Column("status_reason", Text),
    Column("created_by", String, nullable=False, default="chat"),  # chat | cli | api
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("rev", Integer, nullable=False, default=1),
    Column("next_run_at", DateTime(timezone=True)),
    Column("last_run_at", DateTime(timezone=True)),
    Column("run_count", Integer, nullable=False, default=0),
    Column("max_runs", Integer),
    Column("expires_at", DateTime(timezone=True)),
    Column("tokens_per_day", Integer),
    Column("run_requests", Integer, nullable=False, default=0),  # `claw tasks run` while the daemon was down
    Column("state", JSON, nullable=False, default=dict),  # watcher episode, goal progress
)
Index("ix_tasks_status", tasks.c.status)

task_runs = Table(
    "task_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", Integer, nullable=False),
    Column("run_key", String, nullable=False),  # scheduled time (UTC ISO), "manual:<n>" or "watch:<episode>"
    Column("scheduled_for", DateTime(timezone=True)),
    Column("status", String, nullable=False),  # running | ok | failed | missed | skipped | queued
    Column("detail", Text),
    Column("inbox_id", Integer),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("task_id", "run_key", name="uq_task_runs_key"),
)

task_journal = Table(
    "task_journal",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", Integer, nullable=False),
    Column("iteration", Integer, nullable=False),
    Column("inbox_id", Integer),
    Column("text", Text, nullable=False),
    Column("data", JSON, nullable=False, default=dict),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("task_id", "iteration", name="uq_task_journal_iteration"),
)

task_notes = Table(
    "task_notes",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", JSON),
)


def ensure_schema(engine: Engine) -> None:
    metadata.create_all(engine)


@dataclass
class Task:
    id: int
    kind: str
    title: str
    instruction: str
    trigger: dict[str, Any] | None
    spec: dict[str, Any]
    status: str
    status_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    rev: int
    next_run_at: datetime | None
    last_run_at: datetime | None
    run_count: int
    max_runs: int | None
    expires_at: datetime | None
    tokens_per_day: int | None
    run_requests: int
    state: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Any) -> Task:
        m = dict(row._mapping)
        for key in ("created_at", "updated_at", "next_run_at", "last_run_at", "expires_at"):
            m[key] = as_utc(m[key])
        m["spec"] = m["spec"] or {}
        m["state"] = m["state"] or {}
        return cls(**m)

    @property
    def actions(self) -> list[dict[str, Any]] | None:
        """Compiled tool calls ``[{"tool", "args"}]``, or None when the task needs the LLM at run time."""
        return self.spec.get("actions")


def insert_task(conn: Connection, values: dict[str, Any]) -> int:
    now = utcnow()
    row = {"created_at": now, "updated_at": now, "rev": 1, "status": "active", "run_count": 0, "run_requests": 0,
           "state": {}, "spec": {}, **values}
    return int(conn.execute(insert(tasks).values(**row)).inserted_primary_key[0])


def get_task(conn: Connection, task_id: int) -> Task | None:
    row = conn.execute(select(tasks).where(tasks.c.id == task_id)).first()
    return Task.from_row(row) if row else None


def list_tasks(conn: Connection, include_finished: bool = True) -> list[Task]:
    q = select(tasks).order_by(tasks.c.id)
    if not include_finished:
        q = q.where(tasks.c.status.in_(("active", "paused")))
    return [Task.from_row(r) for r in conn.execute(q)]


def edit_task(conn: Connection, task_id: int, **values: Any) -> bool:
    """A change to the definition or status: bumps ``rev`` so the daemon reschedules it."""
    res = conn.execute(
        update(tasks).where(tasks.c.id == task_id).values(rev=tasks.c.rev + 1, updated_at=utcnow(), **values)
    )
    return res.rowcount == 1


def set_runtime(conn: Connection, task_id: int, **values: Any) -> None:
    """Bookkeeping the daemon writes (next run, counters, state): does not reschedule."""
    conn.execute(update(tasks).where(tasks.c.id == task_id).values(**values))


def delete_task(conn: Connection, task_id: int) -> bool:
    return conn.execute(tasks.delete().where(tasks.c.id == task_id)).rowcount == 1


def journal_entries(conn: Connection, task_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(task_journal).where(task_journal.c.task_id == task_id).order_by(task_journal.c.iteration))
    return [{"iteration": r.iteration, "text": r.text, "at": as_utc(r.at).isoformat(), "data": r.data} for r in rows]


def recent_runs(conn: Connection, task_id: int, limit: int = 10) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(task_runs).where(task_runs.c.task_id == task_id).order_by(task_runs.c.id.desc()).limit(limit)
    )
    return [
        {"run_key": r.run_key, "status": r.status, "detail": r.detail,
         "at": as_utc(r.started_at).isoformat(), "inbox_id": r.inbox_id}
        for r in rows
    ]


def note(conn: Connection, key: str) -> Any:
    return conn.execute(select(task_notes.c.value).where(task_notes.c.key == key)).scalar()


def set_note(conn: Connection, key: str, value: Any) -> None:
    if conn.execute(update(task_notes).where(task_notes.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(insert(task_notes).values(key=key, value=value))


def count_tasks(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(tasks)).scalar() or 0)
