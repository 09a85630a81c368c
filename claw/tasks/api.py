"""HTTP routes for tasks: the web page's list, and create / show / run / pause / resume / delete.

Same bearer token as the rest of ``/api/*``; errors are JSON with a readable message. ``claw tasks``
uses these while the daemon runs, so every change reschedules at once.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from claw.config import field_errors
from claw.tasks.service import TaskService, cost_line, summary
from claw.tasks.spec import TaskRequest, TaskSpecError
from claw.web.schema import Operation

AUTH = {401: "missing or wrong token"}
MAX_ID = 2**63 - 1
ONE = {**AUTH, 404: "no such task"}


class CreatedBy(BaseModel):
    by: Literal["api", "cli"] = "api"


def operations(service: TaskService, authorized: Callable[[Request], bool]) -> list[tuple[Operation, Any]]:
    def task_id(request: Request) -> int:
        value = int(request.path_params["task_id"])
        if value > MAX_ID:  # beyond what the database can hold: no such task (not a 500)
            raise TaskSpecError(f"there is no task #{value}")
        return value

    async def guarded(request: Request, fn: Callable[[], Awaitable[Response]]) -> Response:
        if not authorized(request):
            return JSONResponse({"error": "missing or wrong token"}, status_code=401)
        try:
            return await fn()
        except TaskSpecError as exc:
            status = 404 if str(exc).startswith("there is no task") else 422
            return JSONResponse({"error": str(exc)}, status_code=status)

    async def list_tasks(request: Request) -> Response:
        async def go() -> Response:
            tasks = await service.all()
            return JSONResponse({"tasks": [service.view(t) for t in tasks if t.status in ("active", "paused")]
                                 + [service.view(t) for t in tasks if t.status not in ("active", "paused")]})
        return await guarded(request, go)

    async def create(request: Request) -> Response:
        async def go() -> Response:
            try:
                by = CreatedBy.model_validate(dict(request.query_params)).by
                data = json.loads(await request.body())
                req = TaskRequest.model_validate(data)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return JSONResponse({"error": "body is not valid JSON"}, status_code=400)
            except ValidationError as exc:
                return JSONResponse({"error": field_errors(exc)}, status_code=422)
            created = await service.create(req, created_by=by)
            return JSONResponse({"task": service.view(created.task, detail=True),
                                 "summary": summary(created, service.tz), "cost": cost_line(created),
                                 "notes": created.notes}, status_code=201)
        return await guarded(request, go)

    async def show(request: Request) -> Response:
        async def go() -> Response:
            task = await service.get(task_id(request))
            journal, runs = await service.history(task.id)
            return JSONResponse({"task": service.view(task, detail=True), "journal": journal, "runs": runs})
        return await guarded(request, go)

    async def run(request: Request) -> Response:
        async def go() -> Response:
            result = await service.run_now(task_id(request))
            return JSONResponse({"status": result.status, "detail": result.detail, "inbox_id": result.inbox_id})
        return await guarded(request, go)

    async def pause(request: Request) -> Response:
        return await guarded(request, lambda: _status(service, task_id(request), "paused"))

    async def resume(request: Request) -> Response:
        return await guarded(request, lambda: _status(service, task_id(request), "active"))

    async def delete(request: Request) -> Response:
        async def go() -> Response:
            task = await service.delete(task_id(request))
            return JSONResponse({"deleted": task.id})
        return await guarded(request, go)

    one = "/api/tasks/{task_id:int}"
    return [
        (Operation("GET", "/api/tasks", "Standing tasks, live ones first", {200: "the tasks", **AUTH}), list_tasks),
        (Operation("POST", "/api/tasks", "Create a task", {201: "the task and what was understood", 400: "not JSON",
                                                           422: "invalid or impossible task", **AUTH},
                   body=TaskRequest, query=CreatedBy), create),
        (Operation("GET", one, "One task, its recent runs and journal", {200: "the task", **ONE}), show),
        (Operation("DELETE", one, "Delete a task", {200: "deleted", **ONE}), delete),
        (Operation("POST", one + "/run", "Run a task once now", {200: "what the run did", **ONE}), run),
        (Operation("POST", one + "/pause", "Pause a task", {200: "the task", **ONE}), pause),
        (Operation("POST", one + "/resume", "Resume a paused task", {200: "the task", **ONE}), resume),
    ]


async def _status(service: TaskService, task_id: int, status: str) -> Response:
    reason = "paused by the owner" if status == "paused" else None
    task = await service.set_status(task_id, status, reason)
    return JSONResponse({"task": service.view(task)})
