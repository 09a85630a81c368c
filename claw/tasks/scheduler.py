"""APScheduler 3 (asyncio, jobs in memory) as the clock of standing tasks; the tasks table is the record.

The tasks table holds each task's definition and next run time; at start every
active task is scheduled from it, and every edit made through the service
reschedules that task at once, so nothing polls to keep two stores in line.
After downtime a due run is handed over once (coalesced). The service is told
the run's *scheduled* time (``EVENT_JOB_SUBMITTED`` carries it), decides between
"run now" (within grace) and "missed", and uses that time as the run's unique
key so a run is never doubled. APScheduler's own misfire handling is off
(``misfire_grace_time=None``) for the same reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from claw.tasks.triggers import aps_trigger

log = structlog.get_logger("claw.tasks.scheduler")

Fire = Callable[[int, datetime], Coroutine[Any, Any, None]]


async def _due() -> None:
    """The job's callable does nothing: the submission event carries what the service needs."""


def job_id(task_id: int) -> str:
    return f"task:{task_id}"


class TaskScheduler:
    def __init__(self, tz: ZoneInfo, fire: Fire):
        self.tz = tz
        self.fire = fire
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 3}, timezone=tz)
        self.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        #: task id -> the revision its job was built from
        self.revisions: dict[int, int] = {}
        self._runs: set[asyncio.Task[None]] = set()

    def _submitted(self, event: JobSubmissionEvent) -> None:
        task_id = int(str(event.job_id).split(":", 1)[1])
        run = asyncio.get_running_loop().create_task(self.fire(task_id, event.scheduled_run_times[-1]),
                                                     name=f"task-run-{task_id}")
        self._runs.add(run)
        run.add_done_callback(self._runs.discard)

    def start(self) -> None:
        self.scheduler.start()

    def wakeup(self) -> None:
        """Look at the wall clock again now (it jumped): run what is due, recompute the next wake-up."""
        if self.scheduler.running:
            self.scheduler.wakeup()

    async def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for run in list(self._runs):
            run.cancel()
        await asyncio.gather(*self._runs, return_exceptions=True)

    def schedule(self, task_id: int, trigger: dict[str, Any], rev: int, first_run: datetime | None) -> datetime | None:
        """(Re)create the job; ``first_run`` keeps a run time recorded earlier (before a restart, by the CLI)."""
        kwargs: dict[str, Any] = {}
        if first_run is not None:
            kwargs["next_run_time"] = first_run
        self.scheduler.add_job(_due, aps_trigger(trigger, self.tz), id=job_id(task_id), name=f"task {task_id}",
                               replace_existing=True, **kwargs)
        self.revisions[task_id] = rev
        return self.next_run(task_id)

    def unschedule(self, task_id: int) -> None:
        self.revisions.pop(task_id, None)
        try:
            self.scheduler.remove_job(job_id(task_id))
        except JobLookupError:
            pass

    def next_run(self, task_id: int) -> datetime | None:
        job = self.scheduler.get_job(job_id(task_id))
        when: datetime | None = getattr(job, "next_run_time", None) if job is not None else None
        return when
