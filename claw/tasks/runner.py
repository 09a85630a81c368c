"""Executing one run of a task: reminders, compiled tool calls, LLM turns, watcher actions, goal iterations.

Every run first claims a ``task_runs`` row unique on (task, run key) — the key
is the scheduled time, the watcher episode or a manual-run number — so a run is
never doubled, whatever restarts or races happen. Reminders and compiled calls
use no LLM; LLM runs enter the pipeline as scheduler-origin turns in the
owner's conversation, with an inbox external id derived from the same key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from claw.agent.turn import Toolbox
from claw.core.inbox import Inbox
from claw.providers import budget
from claw.skill import TaskKind, ToolContext, ToolError
from claw.store.db import Database, new_id, utcnow
from claw.tasks import conditions
from claw.tasks import models as m
from claw.tasks.turns import goal_text, routine_text

log = structlog.get_logger("claw.tasks.runner")

TOOL_TIMEOUT = 60.0


@dataclass
class RunResult:
    status: str  # ok | failed | queued | missed | skipped
    detail: str = ""
    inbox_id: int | None = None


class Runner:
    def __init__(self, db: Database, inbox: Inbox, notify: Callable[..., Awaitable[Any]], owner: tuple[str, str],
                 toolbox: Toolbox, tz: ZoneInfo, handlers: Mapping[str, TaskKind],
                 measurements: Callable[[m.Task], list[str]], task_tokens_per_day: int = 0):
        self.db = db
        self.inbox = inbox
        self.notify_owner = notify
        self.owner = owner  # (channel, address): task turns run in the owner's conversation
        self.toolbox = toolbox
        self.tz = tz
        self.handlers = handlers  # skill-run kinds, registered with the service (shared mapping)
        self.measurements = measurements
        self.task_tokens_per_day = task_tokens_per_day  # a task's own daily budget unless it sets one

    def cap(self, task: m.Task) -> budget.Cap | None:
        """The task's own budget: a goal's over its whole life, another task's for today (0: none)."""
        if task.kind == "goal":
            return budget.Cap(f"goal #{task.id}'s budget", int(task.spec["token_budget"]))
        limit = task.tokens_per_day if task.tokens_per_day is not None else self.task_tokens_per_day
        if not limit:
            return None
        return budget.Cap(f"task #{task.id}'s budget for today", limit, budget.local_midnight(utcnow(), self.tz))

    # -- claiming -----------------------------------------------------------

    async def claim(self, task_id: int, run_key: str, scheduled_for: datetime | None, status: str = "running") -> int | None:
        """Insert the run row; None if this run was already claimed (never run twice)."""

        def write(conn: Any) -> int:
            return new_id(conn.execute(insert(m.task_runs).values(
                task_id=task_id, run_key=run_key, scheduled_for=scheduled_for, status=status, started_at=utcnow(),
            )))

        try:
            return await self.db.tx(write)
        except IntegrityError:
            return None

    async def finish(self, run_id: int, result: RunResult) -> None:
        await self.db.tx(lambda c: c.execute(update(m.task_runs).where(m.task_runs.c.id == run_id).values(
            status=result.status, detail=result.detail[:2000], inbox_id=result.inbox_id, finished_at=utcnow())))

    # -- kinds ----------------------------------------------------------------

    async def execute(self, task: m.Task, run_key: str) -> RunResult:
        if task.kind == "reminder":
            await self.notify_owner(task.instruction, meta={"task_id": task.id, "kind": "reminder"})
            return RunResult("ok", "delivered")
        if task.kind == "goal":
            return await self.goal_iteration(task, run_key)
        if task.kind == "watcher":
            return await self.watcher_action(task, run_key, None)
        handler = self.handlers.get(task.kind)
        if handler is not None:
            return RunResult("ok", await handler.run_task(task.info()))
        if task.kind == "camera":
            return RunResult("failed", f"nothing runs {task.kind} tasks here (is the skill configured?)")
        if task.actions:
            return await self.run_actions(task)
        return await self.llm_turn(task, run_key, routine_text(task))

    def _ctx(self, task: m.Task) -> ToolContext:
        channel, address = self.owner
        return ToolContext(f"{channel}:{address}", address, channel, True, "scheduler",
                           may_open=bool(task.spec.get("allow_opening")))

    async def run_actions(self, task: m.Task, announce: str | None = None) -> RunResult:
        """Run compiled tool calls directly (zero tokens). Quiet unless something fails."""
        lines, failed = [], []
        for action in task.actions or []:
            name = action["tool"]
            tool = self.toolbox.tools.get(name)
            ctx = self._ctx(task)
            try:
                if tool is None:
                    raise ToolError(f"the tool {name!r} is not available now (is its skill enabled?)")
                args = tool.validate(action.get("args") or {})
                if tool.is_sensitive(args, ctx):
                    raise ToolError("it needs the owner's confirmation, so it is not run unattended")
                result = await asyncio.wait_for(tool.invoke(args, ctx), TOOL_TIMEOUT)
                text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)
                lines.append(f"{name}: {text[:300]}")
            except ToolError as exc:
                failed.append(f"{name}: {exc}")
            except TimeoutError:
                failed.append(f"{name}: did not finish within {TOOL_TIMEOUT:.0f} s")
            except Exception as exc:  # a skill bug must not stop the scheduler
                log.exception("tasks.action_crashed", task_id=task.id, tool=name)
                failed.append(f"{name}: {type(exc).__name__}: {exc}")
        if announce:
            await self.notify_owner(announce, meta={"task_id": task.id, "kind": task.kind})
        if failed:
            await self.notify_owner(
                f"Task #{task.id} ({task.title}) could not do everything: " + "; ".join(failed),
                meta={"task_id": task.id, "kind": task.kind},
            )
            return RunResult("failed", "; ".join(failed + lines))
        return RunResult("ok", "; ".join(lines))

    async def llm_turn(self, task: m.Task, run_key: str, text: str, extra: dict[str, Any] | None = None) -> RunResult:
        channel, address = self.owner
        cap = self.cap(task)
        payload = {"task_id": task.id, "owner": True, "task_kind": task.kind,
                   "may_open": bool(task.spec.get("allow_opening")), "budget": cap.as_json() if cap else None,
                   **(extra or {})}
        accepted = await self.inbox.enqueue(channel=channel, external_id=f"task:{task.id}:{run_key}",
                                                    peer=address, sender=address, text=text, payload=payload,
                                                    origin="scheduler")
        return RunResult("queued", "LLM turn queued" if accepted.created else "already queued", accepted.inbox_id)

    # -- watchers -------------------------------------------------------------

    async def watcher_action(self, task: m.Task, run_key: str, value: Any) -> RunResult:
        cond = conditions.from_json(task.spec["when"])
        message = task.instruction
        for key, val in (("{value}", value), ("{state}", value), ("{entity}", cond.entity_id)):
            message = message.replace(key, "" if val is None else str(val))
        if task.spec.get("needs_llm") and not task.actions:
            text = (f"Watcher #{task.id}: {cond.describe()} holds now (value {value}). {task.instruction}\n"
                    f"Reply only with what the owner should hear.")
            return await self.llm_turn(task, run_key, text)
        if task.actions:
            return await self.run_actions(task, announce=message)
        await self.notify_owner(message, meta={"task_id": task.id, "kind": "watcher"})
        return RunResult("ok", "notified")

    # -- goals ---------------------------------------------------------------

    async def goal_iteration(self, task: m.Task, run_key: str) -> RunResult:
        iteration = int(task.state.get("iterations", 0)) + 1
        used = await self.db.tx(lambda c: budget.task_tokens(c, task.id))
        journal = await self.db.tx(lambda c: m.journal_entries(c, task.id))
        text = goal_text(task, iteration, used, self.measurements(task), journal, self.tz,
                         datetime.now(UTC))
        await self.db.tx(lambda c: m.set_runtime(c, task.id, state={**task.state, "iterations": iteration}))
        return await self.llm_turn(task, run_key, text, {"goal_iteration": iteration})
