"""Tasks as the tables (``claw.store.schema``) hold them, and the queries on them.

The tasks table is the one record of what runs when: the CLI can list and edit
tasks while the daemon is down, and the daemon schedules from it at start.
``rev`` changes on every edit of a definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from claw.skill import TaskInfo
from claw.store.db import as_utc, new_id, utcnow
from claw.store.schema import inbox, task_journal, task_notes, task_runs, tasks

__all__ = ["KINDS", "LIVE", "Task", "task_journal", "task_notes", "task_runs", "tasks"]

KINDS = ("reminder", "routine", "watcher", "goal", "camera")  # camera: run by the camera skill
#: Statuses in which a task still runs.
LIVE = ("active",)


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

    def info(self) -> TaskInfo:
        """The task as skills see it."""
        return TaskInfo(self.id, self.kind, self.title, self.instruction, self.status, dict(self.spec), dict(self.state))

    @property
    def actions(self) -> list[dict[str, Any]] | None:
        """Compiled tool calls ``[{"tool", "args"}]``, or None when the task needs the LLM at run time."""
        return self.spec.get("actions")


def insert_task(conn: Connection, values: dict[str, Any]) -> int:
    now = utcnow()
    row = {"created_at": now, "updated_at": now, "rev": 1, "status": "active", "run_count": 0, "run_requests": 0,
           "state": {}, "spec": {}, **values}
    return new_id(conn.execute(insert(tasks).values(**row)))


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


def turn_pending(conn: Connection, task_id: int) -> bool:
    """Whether a turn this task queued has not finished yet (a goal's next iteration waits for its note)."""
    return conn.execute(
        select(task_runs.c.id).join(inbox, inbox.c.id == task_runs.c.inbox_id)
        .where(task_runs.c.task_id == task_id, task_runs.c.status == "queued", inbox.c.status != "done").limit(1)
    ).first() is not None


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
