"""Standing tasks as skills see them (``claw.skill.Tasks``): the tool's requests in, text for the model out."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from claw.config import field_errors
from claw.skill import TaskInfo, TaskKind, ToolContext, ToolError
from claw.tasks.service import TaskService, summary
from claw.tasks.spec import TaskRequest, TaskSpecError


def _line(view: dict[str, Any]) -> str:
    nxt = view["next_run_local"] or view["status"]
    return f"#{view['id']} {view['kind']} [{view['status']}] {view['title']} — {view['schedule']}; next: {nxt}"


def _request(fields: dict[str, Any]) -> TaskRequest:
    try:
        return TaskRequest.model_validate(fields)
    except ValidationError as exc:
        raise ToolError(field_errors(exc)) from None


class TasksFacade:
    def __init__(self, service: TaskService):
        self.service = service

    async def _do(self, coro: Any) -> Any:
        try:
            return await coro
        except TaskSpecError as exc:
            raise ToolError(str(exc)) from None

    async def create(self, fields: dict[str, Any], ctx: ToolContext) -> str:
        created = await self._do(self.service.create(_request(fields), created_by="chat", ctx=ctx))
        return summary(created, self.service.tz)

    async def listing(self) -> str:
        live = [t for t in await self.service.all() if t.status in ("active", "paused")]
        return "\n".join(_line(self.service.view(t)) for t in live) if live else "No standing tasks."

    async def update(self, task_id: int, fields: dict[str, Any], ctx: ToolContext) -> str:
        task = await self._do(self.service.update(task_id, _request(fields), ctx))
        return "Updated: " + _line(self.service.view(task))

    async def set_status(self, task_id: int, status: str, reason: str | None = None) -> str:
        task = await self._do(self.service.set_status(task_id, status, reason))
        return ("Paused: " if status == "paused" else "Resumed: ") + _line(self.service.view(task))

    async def delete(self, task_id: int) -> str:
        task = await self._do(self.service.delete(task_id))
        return f"Deleted task #{task.id} ({task.title})."

    async def run_now(self, task_id: int) -> str:
        result = await self._do(self.service.run_now(task_id))
        return f"Ran task #{task_id}: {result.status}" + (f" ({result.detail})" if result.detail else "")

    # -- a skill's own kind of task ----------------------------------------------------

    def register_kind(self, kind: str, handler: TaskKind) -> None:
        self.service.register_kind(kind, handler)

    async def add(self, kind: str, title: str, instruction: str, spec: dict[str, Any],
                  state: dict[str, Any]) -> TaskInfo:
        return await self.service.add_kind(kind, title, instruction, spec, state)

    async def of_kind(self, kind: str) -> list[TaskInfo]:
        return [t.info() for t in await self.service.all() if t.kind == kind]

    async def save_state(self, task_id: int, state: dict[str, Any]) -> None:
        await self.service.save_state(task_id, state)

    async def remove(self, task_id: int, kind: str) -> bool:
        try:
            task = await self.service.get(task_id)
        except TaskSpecError:
            return False
        if task.kind != kind:
            return False
        await self.service.delete(task_id)
        return True

    async def may_run(self, task_id: int) -> str | None:
        return await self.service.may_run(task_id)
