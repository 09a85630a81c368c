"""The ``tasks`` skill: one tool for the model to create and manage standing tasks.

The daemon's tasks service (``ctx.tasks``) does the work; this module turns
the model's structured arguments into requests and answers with what was
understood, including the next three runs in local time, so the owner can catch
a misunderstanding. A turn started by a task may not create or change tasks
without the owner's yes (no runaway loops): those calls are sensitive.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from claw.skill import Skill, ToolContext, ToolError, tool
from claw.skill import Tasks as TasksAPI


class Action(BaseModel):
    tool: str
    args: dict[str, Any] = {}


def _unattended(args: Any, ctx: ToolContext | None) -> bool:
    """Only listing is free for a scheduler-origin turn; everything else waits for the owner."""
    return ctx is not None and ctx.origin == "scheduler" and args.action != "list"


def _summary(args: Any) -> str:
    """The call as the owner reads it when asked to confirm."""
    if args.action == "create":
        what = f"a {args.kind}" if args.kind else "a standing task"
        when = next((f" ({label} {value})" for label, value in (("at", args.at), ("in", args.delay), ("cron", args.cron),
                                                               ("every", args.every), ("when", args.when)) if value), "")
        opening = ", allowed to open doors and gates on its own" if args.allow_opening else ""
        return f'Create {what}{when}{opening}: "{args.text[:200]}"'
    verb = {"update": "Change", "pause": "Pause", "resume": "Resume", "delete": "Delete", "run": "Run"}[args.action]
    return f"{verb} task #{args.id}"


class Tasks(Skill):
    """Reminders, routines, watchers and goals that run unattended."""

    name = "tasks"

    def _tasks(self) -> TasksAPI:
        if self.ctx.tasks is None:
            raise ToolError("standing tasks are switched off ([tasks] enabled = false)")
        return self.ctx.tasks

    @tool(sensitive=_unattended, effect=lambda args: "read" if args.action == "list" else "change",
          untrusted=False, summary=lambda skill, args: _summary(args))
    async def tasks(
        self,
        action: Literal["create", "list", "update", "pause", "resume", "delete", "run"],
        ctx: ToolContext,
        id: int = 0,
        kind: Literal["reminder", "routine", "watcher", "goal", ""] = "",
        text: str = "",
        at: str = "",
        delay: str = "",
        cron: str = "",
        every: str = "",
        actions: list[Action] | None = None,
        needs_llm: bool = False,
        when: str = "",
        hold_for: str = "",
        cooldown: str = "",
        measure: list[str] | None = None,
        stop_when: str = "",
        max_iterations: int = 0,
        token_budget: int = 0,
        deadline: str = "",
        max_runs: int = 0,
        expires: str = "",
        allow_opening: bool = False,
    ) -> str:
        """Standing tasks. reminder: text sent verbatim. routine: instruction on a schedule. watcher: when a
        condition holds, send text and/or run actions. goal: LLM iterations until stop_when or limits.

        Args:
            text: message, or instruction.
            at: once, local "YYYY-MM-DD HH:MM".
            delay: once after e.g. "20m".
            cron: 5 fields, local time.
            every: e.g. "10m".
            actions: exact tool calls to run each time without the LLM.
            needs_llm: needs judgement each run.
            when: e.g. "cover.garage_door == open", "sensor.x.attr < 36".
            hold_for: e.g. "10m".
            measure: entity ids a goal reads.
            deadline: local time or duration.
            allow_opening: the owner said it may open garage doors/gates unattended.
        """
        tasks = self._tasks()
        fields = dict(kind=kind, text=text, at=at, delay=delay, cron=cron, every=every,
                      actions=[a.model_dump() for a in actions] if actions is not None else None,
                      needs_llm=needs_llm, when=when, hold_for=hold_for, cooldown=cooldown, measure=measure,
                      stop_when=stop_when, max_iterations=max_iterations, token_budget=token_budget,
                      deadline=deadline, max_runs=max_runs, expires=expires, allow_opening=allow_opening)
        if action == "list":
            return await tasks.listing()
        if action == "create":
            return await tasks.create({k: v for k, v in fields.items() if v}, ctx)
        if not id:
            raise ToolError(f"{action} needs the task id (see action=list)")
        if action == "update":
            return await tasks.update(id, {k: v for k, v in fields.items() if v or k == "actions" and v is not None}, ctx)
        if action == "pause":
            return await tasks.set_status(id, "paused", "paused by the owner")
        if action == "resume":
            return await tasks.set_status(id, "active")
        if action == "delete":
            return await tasks.delete(id)
        return await tasks.run_now(id)
