"""HTTP routes for tasks: the web page's list, and create / show / run / pause / resume / delete.

Same bearer token as the rest of ``/api/*``; errors are JSON with a readable message.
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from claw.tasks import models as m
from claw.tasks.service import summary
from claw.tasks.spec import TaskRequest, TaskSpecError

if TYPE_CHECKING:
    from claw.tasks.service import TaskService


def routes(service: TaskService) -> list[Route]:
    rt = service.rt

    def denied(request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        supplied = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if supplied and hmac.compare_digest(supplied.encode(), rt.web_token.encode()):
            return None
        return JSONResponse({"error": "missing or wrong token"}, status_code=401)

    def task_id(request: Request) -> int:
        return int(request.path_params["task_id"])

    async def guarded(request: Request, fn: Any) -> Response:
        if (resp := denied(request)) is not None:
            return resp
        try:
            return await fn()
        except TaskSpecError as exc:
            status = 404 if str(exc).startswith("there is no task") else 422
            return JSONResponse({"error": str(exc)}, status_code=status)

    async def list_tasks(request: Request) -> Response:
        async def go() -> Response:
            tasks = await service.list()
            return JSONResponse({"tasks": [service.view(t) for t in tasks if t.status in ("active", "paused")]
                                 + [service.view(t) for t in tasks if t.status not in ("active", "paused")]})
        return await guarded(request, go)

    async def create(request: Request) -> Response:
        async def go() -> Response:
            try:
                data = json.loads(await request.body())
                req = TaskRequest.model_validate(data)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return JSONResponse({"error": "body is not valid JSON"}, status_code=400)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
                return JSONResponse({"error": problems}, status_code=422)
            created = await service.create(req, created_by="api")
            return JSONResponse({"task": service.view(created.task, detail=True),
                                 "summary": summary(created, service.tz)}, status_code=201)
        return await guarded(request, go)

    async def show(request: Request) -> Response:
        async def go() -> Response:
            task = await service.get(task_id(request))
            journal = await rt.db.tx(lambda c: m.journal_entries(c, task.id))
            runs = await rt.db.tx(lambda c: m.recent_runs(c, task.id))
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

    return [
        Route("/api/tasks", list_tasks, methods=["GET"]),
        Route("/api/tasks", create, methods=["POST"]),
        Route("/api/tasks/{task_id:int}", show, methods=["GET"]),
        Route("/api/tasks/{task_id:int}", delete, methods=["DELETE"]),
        Route("/api/tasks/{task_id:int}/run", run, methods=["POST"]),
        Route("/api/tasks/{task_id:int}/pause", pause, methods=["POST"]),
        Route("/api/tasks/{task_id:int}/resume", resume, methods=["POST"]),
    ]


async def _status(service: TaskService, task_id: int, status: str) -> Response:
    task = await service.set_status(task_id, status)
    return JSONResponse({"task": service.view(task)})
