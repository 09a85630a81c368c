"""APScheduler (AsyncIO scheduler, SQLAlchemy job store in claw's own database) driving task runs.

APScheduler keeps each job's next run time durably, so a restart resumes the
schedule where it was; after downtime it hands over the missed run once
(coalesced). Our executor passes the *scheduled* run time to the service, which
decides between "run now" (within grace) and "missed", and uses that time as
the run's unique key so a run is never doubled. APScheduler's own misfire
handling is switched off (``misfire_grace_time=None``) for the same reason.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine

from claw.tasks.triggers import aps_trigger

log = structlog.get_logger("claw.tasks.scheduler")

Fire = Callable[[int, datetime], Awaitable[None]]
JOB_TABLE = "task_jobs"


async def fire_job(task_id: int, rev: int = 0) -> None:
    """The job's stored callable; never called directly: ``TaskExecutor`` routes runs to the service."""


def job_id(task_id: int) -> str:
    return f"task:{task_id}"


class TaskExecutor(AsyncIOExecutor):
    """Runs a due job by calling the service with the task id and the run time it was scheduled for."""

    def __init__(self, fire: Fire):
        super().__init__()
        self._fire = fire

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        async def run() -> list[JobExecutionEvent]:
            scheduled = run_times[-1]  # coalesced: one run for however many were due
            await self._fire(int(job.args[0]), scheduled)
            return [JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, scheduled)]

        def done(f: Any) -> None:
            self._pending_futures.discard(f)
            try:
                events = f.result()
            except BaseException:
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)

        f = self._eventloop.create_task(run(), name=f"task-run-{job.args[0]}")
        f.add_done_callback(done)
        self._pending_futures.add(f)


class TaskScheduler:
    def __init__(self, engine: Engine, tz: ZoneInfo, fire: Fire):
        self.tz = tz
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
            executors={"default": TaskExecutor(fire)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 3},
            timezone=tz,
        )

    def start(self) -> None:
        self.scheduler.start()

    def wakeup(self) -> None:
        """Look at the wall clock again now (it jumped): run what is due, recompute the next wake-up."""
        if self.scheduler.running:
            self.scheduler.wakeup()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def jobs(self) -> dict[int, Any]:
        """Scheduled jobs by task id, with the task revision each was built from in ``kwargs['rev']``."""
        out = {}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("task:"):
                out[int(job.id.split(":", 1)[1])] = job
        return out

    def schedule(self, task_id: int, trigger: dict[str, Any], rev: int, first_run: datetime | None) -> datetime | None:
        """(Re)create the job; ``first_run`` keeps a run time computed earlier (e.g. by the CLI)."""
        kwargs: dict[str, Any] = {}
        if first_run is not None:
            kwargs["next_run_time"] = first_run
        job = self.scheduler.add_job(
            fire_job, aps_trigger(trigger, self.tz), args=[task_id], kwargs={"rev": rev}, id=job_id(task_id),
            name=f"task {task_id}", replace_existing=True, **kwargs,
        )
        return self.next_run(task_id) if self.scheduler.running else getattr(job, "next_run_time", None)

    def unschedule(self, task_id: int) -> None:
        try:
            self.scheduler.remove_job(job_id(task_id))
        except JobLookupError:
            pass

    def next_run(self, task_id: int) -> datetime | None:
        job = self.scheduler.get_job(job_id(task_id))
        return job.next_run_time if job is not None else None
