"""The tasks service: creating and editing tasks, scheduling them from the tasks table, deciding run /
missed / over budget, and closing the loop on task turns.

Every edit goes through here (the ``tasks`` tool, the HTTP API, and ``claw tasks``,
which calls the API while the daemon runs) and reschedules at once; the CLI
writes the table itself only while the daemon is down, and the next start
schedules from it. Nothing here calls the LLM except compiling a routine once
at creation and the turns of tasks that need judgement.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from claw.agent.turn import Toolbox
from claw.config import TasksSection
from claw.core.events import TurnInput, TurnOutcome
from claw.core.inbox import Inbox
from claw.providers import budget
from claw.providers import usage as usage_log
from claw.providers.llm import LLM
from claw.skill import Memory, Shared, TaskInfo, TaskKind, ToolContext, ToolError
from claw.store.db import Database
from claw.tasks import conditions
from claw.tasks import models as m
from claw.tasks.compile import check_actions, compile_instruction
from claw.tasks.runner import Runner, RunResult
from claw.tasks.scheduler import TaskScheduler
from claw.tasks.spec import (
    TaskRequest,
    TaskSpecError,
    describe_camera,
    describe_spec,
    parse_moment,
    prepare,
)
from claw.tasks.triggers import describe, first_run, fmt_local, next_runs
from claw.tasks.turns import GOAL_DONE, QUIET, TaskAwareAgent, TurnRunner, waits_for_owner
from claw.tasks.watchers import WatchEngine

log = structlog.get_logger("claw.tasks")

#: The wall clock moving this much more (or less) than the monotonic clock between two looks is a clock jump.
CLOCK_JUMP_SECONDS = 1.0
CLOCK_LOOK_SECONDS = 2.0
ALREADY_RAN = "this run already happened"

Notify = Callable[..., Awaitable[Any]]


@dataclass
class Created:
    task: m.Task
    next_runs: list[datetime]
    notes: list[str] = field(default_factory=list)
    #: Tokens a model call for a task has cost lately (None: none measured yet), for the cost line.
    tokens_per_call: int | None = None


NO_MODEL = ("cannot run: it needs the language model each time and none is configured (set ANTHROPIC_API_KEY or "
            "OPENAI_API_KEY, or [llm] in the config). A reminder, a device command the fast path knows (\"set the "
            "heat to 21\"), or a task given its tool calls (actions) runs without one")


def needs_llm(task: m.Task) -> bool:
    return needs_model(task.kind, task.spec)


def needs_model(kind: str, spec: dict[str, Any]) -> bool:
    if kind in ("goal", "camera"):  # a camera check asks the vision model
        return True
    if kind == "reminder":
        return False
    return not spec.get("actions") and (kind == "routine" or bool(spec.get("needs_llm")))


class TaskService:
    def __init__(self, db: Database, settings: TasksSection, tz: ZoneInfo, *, inbox: Inbox, notify: Notify,
                 owner: tuple[str, str], toolbox: Toolbox, llm: LLM | None, shared: Shared,
                 memory: Memory | None = None, budgets: budget.Budgets | None = None):
        self.db = db
        self.settings = settings
        #: the day's budget for unattended work: the config's, or what the owner set in chat since
        self.budgets = budgets or budget.Budgets(db, tz, unattended_daily=settings.daily_token_budget)
        self.tz = tz
        self.inbox = inbox
        self.notify_owner = notify
        self.owner = owner  # (channel, address) where task turns and reports go
        self.toolbox = toolbox
        self.llm = llm
        self.shared = shared
        self.memory = memory
        #: Task kinds a skill runs (e.g. "camera"): the handler's ``refresh()`` follows every change,
        #: ``run_task(task)`` serves `claw tasks run`. This service owns their definition, status and budgets.
        self.handlers: dict[str, TaskKind] = {}
        self.runner = Runner(db, inbox, notify, owner, toolbox, tz, self.handlers, self.measurements,
                             settings.task_tokens_per_day)
        self.watch = WatchEngine(db, shared, settings.watch_poll_seconds, self.fire_watcher)
        self.scheduler = TaskScheduler(tz, self._due)
        self._clock: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._runs: set[asyncio.Task[Any]] = set()
        self.started = False
        #: Wall time this process started scheduling: a run due before it was missed while the daemon was down.
        self.up_since = datetime.now(UTC)

    # -- lifecycle ----------------------------------------------------------

    def wrap(self, agent: TurnRunner) -> TaskAwareAgent:
        return TaskAwareAgent(agent, self.after_turn)

    @property
    def home(self) -> Any:
        return self.shared.home

    async def start(self) -> None:
        """Schedule every active task from the table; honour `claw tasks run` requests made while down."""
        self.up_since = datetime.now(UTC)
        self.scheduler.start()
        self.watch.start()
        self.started = True
        await self.sync()
        self._clock = asyncio.create_task(self._watch_clock(), name="tasks-clock")
        log.info("tasks.started", grace_s=self.settings.grace_seconds, daily_budget=self.budgets.unattended_daily)

    async def stop(self) -> None:
        self.started = False
        if self._clock:
            self._clock.cancel()
            await asyncio.gather(self._clock, return_exceptions=True)
        await self.watch.stop()
        await self.scheduler.shutdown()
        for t in list(self._runs):
            t.cancel()
        await asyncio.gather(*self._runs, return_exceptions=True)

    def health(self) -> dict[str, Any]:
        return {"ok": True, "running": self.started, "watchers": len(self.watch.watchers),
                "home": self.home is not None}

    async def _watch_clock(self) -> None:
        clocks = time.time(), time.monotonic()
        while True:
            await asyncio.sleep(CLOCK_LOOK_SECONDS)
            clocks = self._check_clock(*clocks)

    async def sync(self) -> None:
        """Bring the schedule, the watchers and skill-run kinds in line with the table (at start, after an edit)."""
        if not self.started:
            return
        async with self._lock:
            tasks = await self.db.tx(m.list_tasks)
            known = set()
            for task in tasks:
                known.add(task.id)
                if task.spec.get("compile") == "pending":
                    task = await self._compile_later(task)
                if task.status == "active" and task.trigger and task.kind != "watcher":
                    if self.scheduler.revisions.get(task.id) != task.rev:
                        nxt = self.scheduler.schedule(task.id, task.trigger, task.rev, task.next_run_at)
                        await self.db.tx(partial(m.set_runtime, task_id=task.id, next_run_at=nxt))
                elif task.id in self.scheduler.revisions:
                    self.scheduler.unschedule(task.id)
                if task.run_requests > 0:
                    await self.db.tx(partial(m.set_runtime, task_id=task.id, run_requests=0))
                    for _ in range(task.run_requests):
                        self._spawn(self.run_now(task.id))
            for task_id in set(self.scheduler.revisions) - known:
                self.scheduler.unschedule(task_id)
            self.watch.load(tasks)
        for kind, handler in self.handlers.items():
            try:
                await handler.refresh()
            except Exception:
                log.exception("tasks.handler_refresh_failed", kind=kind)

    def _check_clock(self, wall: float, mono: float) -> tuple[float, float]:
        """Notice a wall-clock jump (NTP step, manual change): APScheduler sleeps on the monotonic clock for a
        wait computed from the old wall time, so wake it to run what the jump made due (once, coalesced) or to
        wait longer after a jump back."""
        now_wall, now_mono = time.time(), time.monotonic()
        jump = (now_wall - wall) - (now_mono - mono)
        if abs(jump) >= CLOCK_JUMP_SECONDS:
            log.warning("tasks.clock_jump", seconds=round(jump, 1))
            if jump < 0:
                self.up_since += timedelta(seconds=jump)  # times after this in the new frame were lived through
            self.scheduler.wakeup()
        return now_wall, now_mono

    def register_kind(self, kind: str, handler: TaskKind) -> None:
        self.handlers[kind] = handler

    async def may_run(self, task_id: int) -> str | None:
        """Why a skill-run task must not run now (gone, paused, expired, over budget), or None."""
        task = await self.db.tx(lambda c: m.get_task(c, task_id))
        if task is None:
            return "deleted"
        if task.status != "active":
            return task.status
        return await self._limits(task)

    def _spawn(self, coro: Any) -> None:
        t = asyncio.ensure_future(coro)
        self._runs.add(t)
        t.add_done_callback(self._runs.discard)

    # -- creating and editing ------------------------------------------------

    def _unattended(self, spec: dict[str, Any]) -> ToolContext:
        """The context a task's calls run in, to check them as they will run: nobody there to say yes."""
        channel, address = self.owner
        return ToolContext(f"{channel}:{address}", address, channel, True, "scheduler",
                           may_open=bool(spec.get("allow_opening")))

    async def create(self, req: TaskRequest, *, created_by: str = "chat", ctx: ToolContext | None = None) -> Created:
        now = datetime.now(UTC)
        prepared = prepare(req, tz=self.tz, now=now, settings=self.settings, created_by=created_by,
                           home=self.home, tool_names=set(self.toolbox.tools),
                           llm_available=self.llm is not None)
        values = prepared.values
        spec = values["spec"]
        notes: list[str] = []
        response = None
        if spec.get("actions"):
            try:
                spec["actions"] = check_actions(spec["actions"], self.toolbox, self._unattended(spec))
            except ToolError as exc:
                raise TaskSpecError(str(exc)) from None
        if spec.get("compile") == "pending":
            compiled = await compile_instruction(values["instruction"], self.llm, self.toolbox, self._unattended(spec))
            response = compiled.response
            spec.pop("compile")
            if compiled.actions:
                spec["actions"] = compiled.actions
            elif self.llm is not None:
                spec["needs_llm"] = True
                notes.append(f"runs as an LLM turn: {compiled.reason}")
        if self.llm is None and needs_model(values["kind"], spec):
            raise TaskSpecError(NO_MODEL)  # refused, not stored: each run would do nothing
        values["next_run_at"] = first_run(values["trigger"], self.tz, now)

        def write(conn: Any) -> m.Task:
            task_id = m.insert_task(conn, values)
            if response is not None:
                usage_log.record(conn, response, conversation_id=None, inbox_id=None, purpose="task_compile",
                                 task_id=task_id)
            return m.get_task(conn, task_id)  # type: ignore[return-value]

        task = await self.db.tx(write)
        log.info("tasks.created", task_id=task.id, kind=task.kind, by=created_by, trigger=task.trigger)
        await self.sync()
        per_call = await self.db.tx(budget.recent_call_tokens) if needs_llm(task) else None
        return Created(task, next_runs(task.trigger, self.tz, now, 3), notes, per_call)

    async def add_kind(self, kind: str, title: str, instruction: str, spec: dict[str, Any],
                       state: dict[str, Any]) -> TaskInfo:
        """A task of a kind a skill runs itself (no trigger: the skill decides when)."""

        def write(conn: Any) -> m.Task | None:
            task_id = m.insert_task(conn, {"kind": kind, "title": title[:120], "instruction": instruction,
                                           "trigger": None, "spec": spec, "state": state, "created_by": "chat"})
            return m.get_task(conn, task_id)

        task = await self.db.tx(write)
        assert task is not None
        log.info("tasks.created", task_id=task.id, kind=kind, by="skill")
        return task.info()

    async def save_state(self, task_id: int, state: dict[str, Any]) -> None:
        """Bookkeeping of a skill-run task (a camera watcher's episode): no reschedule."""
        await self.db.tx(lambda c: m.set_runtime(c, task_id, state=state))

    async def history(self, task_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """A task's goal journal and its recent runs."""
        return await self.db.tx(lambda c: (m.journal_entries(c, task_id), m.recent_runs(c, task_id)))

    async def get(self, task_id: int) -> m.Task:
        task = await self.db.tx(lambda c: m.get_task(c, task_id))
        if task is None:
            raise TaskSpecError(f"there is no task #{task_id}")
        return task

    async def all(self) -> list[m.Task]:
        return await self.db.tx(m.list_tasks)

    async def set_status(self, task_id: int, status: str, reason: str | None = None) -> m.Task:
        await self.get(task_id)
        extra: dict[str, Any] = {"next_run_at": None} if status == "paused" else {}
        if status == "active":
            extra["next_run_at"] = None  # resume from now: runs missed while paused are not made up
        await self.db.tx(lambda c: m.edit_task(c, task_id, status=status, status_reason=reason, **extra))
        await self.sync()
        return await self.get(task_id)

    async def update(self, task_id: int, req: TaskRequest, ctx: ToolContext | None = None) -> m.Task:
        """Change the text, title, schedule or limits of a task (fields left out stay as they are)."""
        task = await self.get(task_id)
        if task.kind == "camera" and (req.text or req.has_schedule() or req.actions is not None):
            raise TaskSpecError("a camera watcher's question and checks are set with the camera_watch tool "
                                "(delete it and create a new one); here only its title and limits change")
        now = datetime.now(UTC)
        changes: dict[str, Any] = {}
        allow = bool(task.spec.get("allow_opening") if req.allow_opening is None else req.allow_opening)
        if req.text:
            changes["instruction"] = req.text.strip()
        if req.title:
            changes["title"] = req.title.strip()
        if req.has_schedule():
            probe = TaskRequest(kind=task.kind if task.kind != "watcher" else "routine", text="x", at=req.at,
                                delay=req.delay, cron=req.cron, every=req.every)
            values = prepare(probe, tz=self.tz, now=now, settings=self.settings, created_by="chat").values
            changes["trigger"] = values["trigger"]
            changes["next_run_at"] = first_run(values["trigger"], self.tz, now)
        if req.max_runs is not None:
            changes["max_runs"] = req.max_runs
        if req.tokens_per_day is not None:
            changes["tokens_per_day"] = req.tokens_per_day
        if req.expires:
            changes["expires_at"] = parse_moment(req.expires, self.tz, now)
        if req.actions is not None:
            try:
                actions = check_actions([a.model_dump() for a in req.actions], self.toolbox,
                                        self._unattended({**task.spec, "allow_opening": allow}))
            except ToolError as exc:
                raise TaskSpecError(str(exc)) from None
            changes["spec"] = {**task.spec, "actions": actions}
        if req.allow_opening is not None and req.allow_opening != bool(task.spec.get("allow_opening")):
            changes["spec"] = {**changes.get("spec", task.spec), "allow_opening": req.allow_opening}
        if not changes:
            raise TaskSpecError("nothing to change: give text, title, a schedule, actions or limits")
        await self.db.tx(lambda c: m.edit_task(c, task_id, **changes))
        await self.sync()
        return await self.get(task_id)

    async def delete(self, task_id: int) -> m.Task:
        task = await self.get(task_id)
        await self.db.tx(lambda c: m.delete_task(c, task_id))
        await self.sync()
        return task

    async def _compile_later(self, task: m.Task) -> m.Task:
        """A routine added by the CLI is compiled once, the first time the daemon sees it."""
        spec = dict(task.spec)
        spec.pop("compile", None)
        compiled = await compile_instruction(task.instruction, self.llm, self.toolbox, self._unattended(spec))
        response = compiled.response
        if compiled.actions:
            spec["actions"] = compiled.actions
        else:
            spec["needs_llm"] = True  # with no model its first run pauses it and says why
        spec["compile_note"] = compiled.reason

        def write(conn: Any) -> None:
            m.set_runtime(conn, task.id, spec=spec)
            if response is not None:
                usage_log.record(conn, response, conversation_id=None, inbox_id=None, purpose="task_compile",
                                 task_id=task.id)

        await self.db.tx(write)
        task.spec = spec
        if self.llm is None and not compiled.actions:  # each run would do nothing: stop here and say why
            await self._pause(task, "no language model", f"I paused task #{task.id} ({task.title}): {NO_MODEL}.",
                              kind="setup")
            task.status = "paused"
        return task

    # -- running ------------------------------------------------------------

    async def _due(self, task_id: int, scheduled: datetime) -> None:
        """APScheduler says a run is due (possibly late, after downtime): run it, or record it as missed."""
        task = await self.db.tx(lambda c: m.get_task(c, task_id))
        if task is None or task.status != "active":
            return
        # The table is the record of the schedule: it learns the next run now, whatever becomes of this one.
        await self.db.tx(partial(m.set_runtime, task_id=task.id, next_run_at=self.scheduler.next_run(task.id)))
        scheduled = scheduled.astimezone(UTC)
        run_key = scheduled.isoformat()
        late = (datetime.now(UTC) - scheduled).total_seconds()
        # Only a run that came due while the daemon was down can be missed; one made late by a clock jump
        # forward (or a stalled loop) while running still runs, once.
        if late > self.settings.grace_seconds and scheduled < self.up_since:
            await self._missed(task, run_key, scheduled)
            return
        result = await self._run(task, run_key, scheduled, manual=False)
        if result.status == "skipped" and (task.trigger or {}).get("type") == "at":  # a one-shot has no later time
            if result.detail == ALREADY_RAN:
                await self._finish_status(task, "done", "ran")  # before a restart that came before its bookkeeping
            else:
                await self._finish_status(task, "missed", f"not run at its time: {result.detail}")

    async def _missed(self, task: m.Task, run_key: str, scheduled: datetime) -> None:
        run_id = await self.runner.claim(task.id, run_key, scheduled, status="missed")
        if run_id is None:
            return
        nxt = self.scheduler.next_run(task.id)
        one_shot = (task.trigger or {}).get("type") == "at"
        detail = "the daemon was not running at that time"
        await self.runner.finish(run_id, RunResult("missed", detail))
        await self.db.tx(lambda c: m.set_runtime(
            c, task.id, next_run_at=nxt, **({"status": "missed", "status_reason": detail} if one_shot else {})))
        later = f" Next run: {fmt_local(nxt, self.tz)}." if nxt else ""
        await self.notify_owner(
            f"I missed task #{task.id} ({task.title}), due {fmt_local(scheduled, self.tz)}, because I was not "
            f"running then, and it is too late to run it now.{later}",
            meta={"task_id": task.id, "kind": "missed"},
        )
        log.info("tasks.missed", task_id=task.id, scheduled=run_key)

    async def run_now(self, task_id: int) -> RunResult:
        """Run a task once now, on the owner's request (CLI, API or tool)."""
        task = await self.get(task_id)
        return await self._run(task, f"manual:{uuid.uuid4().hex[:12]}", None, manual=True)

    async def _run(self, task: m.Task, run_key: str, scheduled: datetime | None, manual: bool) -> RunResult:
        blocked = await self._limits(task)
        if blocked:
            return RunResult("skipped", blocked)
        if task.kind == "goal" and await self.db.tx(lambda c: m.turn_pending(c, task.id)):
            return RunResult("skipped", "its previous iteration is still running")  # it must see that one's note
        run_id = await self.runner.claim(task.id, run_key, scheduled)
        if run_id is None:
            return RunResult("skipped", ALREADY_RAN)
        try:
            result = await self.runner.execute(task, run_key)
        except Exception as exc:
            log.exception("tasks.run_crashed", task_id=task.id)
            result = RunResult("failed", f"{type(exc).__name__}: {exc}")
        await self.runner.finish(run_id, result)
        await self._after_run(task, manual)
        log.info("tasks.ran", task_id=task.id, kind=task.kind, status=result.status, manual=manual)
        return result

    async def _after_run(self, task: m.Task, manual: bool) -> None:
        nxt = self.scheduler.next_run(task.id)
        count = task.run_count + 1
        values: dict[str, Any] = {"run_count": count, "last_run_at": datetime.now(UTC), "next_run_at": nxt}
        one_shot = (task.trigger or {}).get("type") == "at"
        if task.kind != "goal" and (one_shot or (task.max_runs and count >= task.max_runs)):
            values.update(status="done", status_reason="ran" if one_shot else f"ran {count} times (its limit)",
                          next_run_at=None)
        await self.db.tx(lambda c: m.set_runtime(c, task.id, **values))
        if values.get("status") == "done":
            self.scheduler.unschedule(task.id)

    async def fire_watcher(self, task: m.Task, run_key: str, value: Any) -> None:
        blocked = await self._limits(task)
        if blocked:
            return
        run_id = await self.runner.claim(task.id, run_key, None)
        if run_id is None:
            return
        try:
            result = await self.runner.watcher_action(task, run_key, value)
        except Exception as exc:
            log.exception("tasks.watch_action_failed", task_id=task.id)
            result = RunResult("failed", f"{type(exc).__name__}: {exc}")
        await self.runner.finish(run_id, result)
        await self._after_run(task, manual=False)
        log.info("tasks.watch_fired", task_id=task.id, value=value, status=result.status)

    # -- limits and budgets ---------------------------------------------------

    async def _pause(self, task: m.Task, reason: str, message: str, kind: str = "budget") -> None:
        def write(conn: Any) -> bool:
            res = conn.execute(update(m.tasks).where(m.tasks.c.id == task.id, m.tasks.c.status == "active")
                               .values(status="paused", status_reason=reason, next_run_at=None, rev=m.tasks.c.rev + 1))
            return res.rowcount == 1

        if await self.db.tx(write):  # only the first to pause it tells the owner
            self.scheduler.unschedule(task.id)
            await self.notify_owner(message, meta={"task_id": task.id, "kind": kind})
            log.info("tasks.paused", task_id=task.id, reason=reason)

    async def _finish_status(self, task: m.Task, status: str, reason: str) -> bool:
        def write(conn: Any) -> bool:
            res = conn.execute(update(m.tasks).where(m.tasks.c.id == task.id, m.tasks.c.status == "active")
                               .values(status=status, status_reason=reason, next_run_at=None, rev=m.tasks.c.rev + 1))
            return res.rowcount == 1

        done = await self.db.tx(write)
        if done:
            self.scheduler.unschedule(task.id)
        return done

    async def _limits(self, task: m.Task) -> str | None:
        """Why this task must not run now (and act on it: expire, pause, stop the goal), or None."""
        now = datetime.now(UTC)
        if task.expires_at and task.expires_at <= now:
            if await self._finish_status(task, "expired", "past its expiry"):
                await self.notify_owner(f"Task #{task.id} ({task.title}) has expired and will not run again.",
                                           meta={"task_id": task.id, "kind": "expired"})
            return "expired"
        if task.max_runs and task.run_count >= task.max_runs:
            await self._finish_status(task, "done", f"ran {task.run_count} times (its limit)")
            return "max runs reached"
        if task.kind == "goal":
            stop = await self._goal_stop_reason(task, before=True)
            if stop:
                await self.stop_goal(task, stop)
                return stop
        if not needs_llm(task):
            return None
        since = budget.local_midnight(now, self.tz)
        limit = task.tokens_per_day if task.tokens_per_day is not None else self.settings.task_tokens_per_day
        if limit and task.kind != "goal":
            used = await self.db.tx(lambda c: budget.task_tokens(c, task.id, since))
            if used >= limit:
                await self._pause(task, "token budget for today used",
                                  f"I paused task #{task.id} ({task.title}): it used {used} of its {limit} tokens "
                                  f"for today. Resume it with `claw tasks resume {task.id}` or ask me.")
                return "task token budget"
        daily = self.budgets.unattended_daily
        if daily:
            used = await self.db.tx(lambda c: budget.unattended_tokens(c, since))
            if used >= daily:
                day = now.astimezone(self.tz).date().isoformat()

                def mark(conn: Any) -> bool:
                    if m.note(conn, "global_budget_told") == day:
                        return False
                    m.set_note(conn, "global_budget_told", day)
                    return True

                if await self.db.tx(mark):
                    await self.notify_owner(
                        f"Unattended tasks have used today's budget of {daily} tokens ({used}). Tasks that need "
                        f"the LLM are held until tomorrow; reminders, compiled routines and watchers go on.",
                        meta={"kind": "budget"})
                return "global daily token budget"
        return None

    # -- goals ----------------------------------------------------------------

    def measurements(self, task: m.Task) -> list[str]:
        home = self.home
        out = []
        wanted = list(task.spec.get("measure") or [])
        if task.spec.get("stop_when"):
            wanted.append(task.spec["stop_when"]["entity_id"])
        for entity_id in dict.fromkeys(wanted):
            entity = home.get(entity_id) if home is not None else None
            if entity is None:
                out.append(f"{entity_id}: unavailable")
                continue
            attrs = ", ".join(f"{k}={v}" for k, v in entity.attributes.items() if not isinstance(v, (list, dict)))
            out.append(f"{entity_id}: {entity.state}" + (f" ({attrs})" if attrs else ""))
        return out

    async def _goal_stop_reason(self, task: m.Task, before: bool, reply: str = "") -> str | None:
        spec = task.spec
        iterations = int(task.state.get("iterations", 0))
        if reply.strip().upper().startswith(GOAL_DONE):
            return "it reports the goal is reached"
        if spec.get("stop_when"):
            cond = conditions.from_json(spec["stop_when"])
            home = self.home
            entity = home.get(cond.entity_id) if home is not None else None
            if entity is not None and cond.holds(entity.state, entity.attributes):
                return f"its stop condition holds ({cond.describe()})"
        if iterations >= spec["max_iterations"]:
            return f"it reached its limit of {spec['max_iterations']} iterations"
        used = await self.db.tx(lambda c: budget.task_tokens(c, task.id))
        if used >= spec["token_budget"]:
            return f"it used its token budget ({used} of {spec['token_budget']})"
        if spec.get("deadline") and datetime.fromisoformat(spec["deadline"]) <= datetime.now(UTC):
            return "its deadline passed"
        return None

    async def stop_goal(self, task: m.Task, reason: str) -> None:
        if not await self._finish_status(task, "done", reason):
            return
        journal = await self.db.tx(lambda c: m.journal_entries(c, task.id))
        used = await self.db.tx(lambda c: budget.task_tokens(c, task.id))
        last = f" Last note: {journal[-1]['text']}" if journal else ""
        await self.notify_owner(
            f"Goal #{task.id} ({task.title}) stopped: {reason}, after {len(journal)} iteration(s) and {used} tokens.{last}",
            meta={"task_id": task.id, "kind": "goal_report"},
        )
        log.info("tasks.goal_stopped", task_id=task.id, reason=reason, iterations=len(journal))

    # -- task turns -------------------------------------------------------------

    async def after_turn(self, item: TurnInput, outcome: TurnOutcome) -> TurnOutcome:
        """A task's LLM turn ended: journal a goal iteration, keep quiet replies quiet."""
        task_id = int(item.payload["task_id"])
        task = await self.db.tx(lambda c: m.get_task(c, task_id))
        waiting = waits_for_owner(outcome)
        await self.db.tx(lambda c: c.execute(
            update(m.task_runs).where(m.task_runs.c.inbox_id == item.inbox_id, m.task_runs.c.status == "queued")
            .values(status="ok" if outcome.handled_by not in ("error", "budget", "setup") else "failed",
                    detail=outcome.reply[:2000], finished_at=datetime.now(UTC))))
        if task is None:
            return outcome
        if outcome.handled_by == "setup":  # no model any more: every run would do nothing
            await self._pause(task, "no language model", f"I paused task #{task.id} ({task.title}): it needs the "
                              "language model and none is configured. Resume it once one is "
                              f"(`claw tasks resume {task.id}`).", kind="setup")
            return TurnOutcome("", outcome.handled_by, outcome.actions, outcome.services)
        if outcome.handled_by == "budget":  # the model was not asked: stop here, and say why once
            why = outcome.reply.split(": ", 1)[-1].rstrip(".")
            if task.kind == "goal":
                await self.stop_goal(task, f"its token budget would be exceeded ({why})")
            else:
                await self._pause(task, "token budget", f"I paused task #{task.id} ({task.title}) to stay within "
                                  f"budget: {why}. Resume it with `claw tasks resume {task.id}` or ask me.")
            return TurnOutcome("", outcome.handled_by, outcome.actions, outcome.services)
        if item.payload.get("goal_iteration"):
            iteration = int(item.payload["goal_iteration"])
            await self._journal(task, iteration, item.inbox_id, outcome)
            task = await self.get(task_id)
            if task.status == "active":
                reason = await self._goal_stop_reason(task, before=False, reply=outcome.reply)
                if reason:
                    await self.stop_goal(task, reason)
            if not waiting:
                return TurnOutcome("", outcome.handled_by, outcome.actions, outcome.services)
        elif not waiting and outcome.reply.strip().upper().startswith(QUIET):
            return TurnOutcome("", outcome.handled_by, outcome.actions, outcome.services)
        # what a task says arrives unasked: it names the task it comes from
        return replace(outcome, reply=f"Task #{task.id} ({task.title}): {outcome.reply}") if outcome.reply else outcome

    async def _journal(self, task: m.Task, iteration: int, inbox_id: int, outcome: TurnOutcome) -> None:
        text = outcome.reply.strip() or "(no note)"
        data = {"actions": [{"tool": a["tool"], "ok": a.get("ok")} for a in outcome.actions]}

        def write(conn: Any) -> None:
            conn.execute(m.task_journal.insert().values(task_id=task.id, iteration=iteration, inbox_id=inbox_id,
                                                        text=text, data=data, at=datetime.now(UTC)))

        try:
            await self.db.tx(write)
        except IntegrityError:
            return  # a resumed turn: this iteration is already in the journal
        if self.memory is not None:
            try:
                await self.memory.add_episode(f"Goal #{task.id} iteration {iteration}: {text}",
                                              conversation=f"task:{task.id}", speaker="claw",
                                              meta={"task_id": task.id, "iteration": iteration})
            except Exception as exc:
                log.warning("tasks.memory_failed", error=str(exc))

    # -- views ------------------------------------------------------------------

    def view(self, task: m.Task, detail: bool = False) -> dict[str, Any]:
        return task_view(task, self.tz, detail)


def task_view(task: m.Task, tz: Any, detail: bool = False) -> dict[str, Any]:
    """A task as the API, the tool and ``claw tasks list --json`` show it."""
    now = datetime.now(UTC)
    upcoming = []
    if task.status == "active" and task.trigger:
        after = task.next_run_at if task.next_run_at else None
        upcoming = next_runs(task.trigger, tz, now, 3, after=after)
    out: dict[str, Any] = {
        "id": task.id,
        "kind": task.kind,
        "title": task.title,
        "status": task.status,
        "schedule": describe_camera(task.spec) if task.kind == "camera" else describe(task.trigger, tz),
        "next_run_local": fmt_local(upcoming[0], tz) if upcoming else (
            "on change" if task.kind in ("watcher", "camera") and task.status == "active" else None),
        "next_runs_local": [fmt_local(d, tz) for d in upcoming],
        "runs": task.run_count,
        "does": describe_spec(task.kind, task.spec),
    }
    if task.status_reason:
        out["status_reason"] = task.status_reason
    if detail:
        out.update(instruction=task.instruction, trigger=task.trigger, spec=task.spec, state=task.state,
                   max_runs=task.max_runs, tokens_per_day=task.tokens_per_day,
                   expires_local=fmt_local(task.expires_at, tz) if task.expires_at else None,
                   created_by=task.created_by)
    return out


def summary(created: Created, tz: Any) -> str:
    """What was understood, for the owner: kind, schedule, action, and the next three runs in local time."""
    task = created.task
    view = task_view(task, tz)
    lines = [f"Created task #{task.id} ({task.kind}): {task.title}", f"When: {view['schedule']}",
             f"Does: {view['does']}"]
    if created.next_runs:
        lines.append(f"Next runs ({tz.key}): " + "; ".join(fmt_local(d, tz) for d in created.next_runs))
    limits = [f"max {task.max_runs} runs"] if task.max_runs else []
    if task.expires_at:
        limits.append(f"expires {fmt_local(task.expires_at, tz)}")
    if limits:
        lines.append("Limits: " + ", ".join(limits))
    lines.append("Cost: " + cost_line(created))
    lines.extend(created.notes)
    return "\n".join(lines)


def cost_line(created: Created) -> str:
    """What each run costs in tokens, from what model calls have cost lately (never a made-up figure)."""
    if not needs_llm(created.task):
        return "no tokens per run (no language model needed)"
    if created.tokens_per_call is None:
        return "the language model runs each time (no call measured yet; `claw usage --by task` will show it)"
    return (f"the language model runs each time: about {created.tokens_per_call} tokens per model call lately, "
            "more if a run takes several steps")
