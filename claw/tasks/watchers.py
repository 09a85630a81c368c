"""Watchers: conditions on home state evaluated locally, on every state change and by a slow poll.

An *episode* starts when the condition becomes true and ends when it becomes
false. A watcher fires at most once per episode, only after the condition has
held for ``hold_for``, and never twice within its cooldown. The episode state is
stored on the task, so a restart in the middle of an episode does not fire
again. None of this calls the LLM.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from claw.skill import Shared
from claw.store.db import Database
from claw.tasks import conditions
from claw.tasks import models as m

log = structlog.get_logger("claw.tasks.watchers")


Fire = Callable[[m.Task, str, Any], Awaitable[None]]


class WatchEngine:
    def __init__(self, db: Database, shared: Shared, poll_seconds: float, fire: Fire):
        self.db = db
        self.shared = shared  # the home is found there once the home skill has published it
        self.poll_seconds = poll_seconds
        self.fire = fire  # the service decides about budgets, claims the run and acts
        self.watchers: dict[int, m.Task] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._jobs: set[asyncio.Task[Any]] = set()
        self._unsubscribe: Any = None
        self._poll: asyncio.Task[None] | None = None

    @property
    def home(self) -> Any:
        return self.shared.home

    def start(self) -> None:
        home = self.home
        if home is not None and hasattr(home, "subscribe"):
            self._unsubscribe = home.subscribe(self._on_state)
        self._poll = asyncio.create_task(self._poll_forever(), name="tasks-watch-poll")

    async def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        for handle in self._timers.values():
            handle.cancel()
        tasks = [t for t in [self._poll, *self._jobs] if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def load(self, tasks: list[m.Task]) -> None:
        """Replace the set of live watchers; new or edited ones are evaluated at once."""
        live = {t.id: t for t in tasks if t.kind == "watcher" and t.status == "active"}
        for task_id in set(self.watchers) - set(live):
            handle = self._timers.pop(task_id, None)
            if handle:
                handle.cancel()
        changed = [tid for tid, t in live.items() if tid not in self.watchers or self.watchers[tid].rev != t.rev]
        for tid in live:
            if tid not in changed:
                # Same definition: keep the live object, whose episode state is newer than a copy
                # read from the table while an evaluation was saving (that copy would fire again).
                live[tid] = self.watchers[tid]
        self.watchers = live
        for task_id in changed:
            self._spawn(task_id)

    def _spawn(self, task_id: int, state: str | None = None, attributes: Any = None) -> None:
        job = asyncio.ensure_future(self.evaluate(task_id, state, attributes))
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    def _on_state(self, entity: Any, old: Any, new: Any) -> None:
        for task_id, task in list(self.watchers.items()):
            if task.spec["when"]["entity_id"] == entity.entity_id:
                if new is None:
                    self._spawn(task_id, "unavailable", {})
                else:
                    self._spawn(task_id, new.state, dict(new.attributes))

    async def _poll_forever(self) -> None:
        every = self.poll_seconds
        while True:
            await asyncio.sleep(every)
            for task_id in list(self.watchers):
                try:
                    await self.evaluate(task_id)
                except Exception:
                    log.exception("tasks.watch_failed", task_id=task_id)

    async def evaluate(self, task_id: int, state: str | None = None, attributes: Any = None) -> None:
        lock = self._locks.setdefault(task_id, asyncio.Lock())
        async with lock:
            task = self.watchers.get(task_id)
            if task is None:
                return
            cond = conditions.from_json(task.spec["when"])
            if state is None:
                home = self.home
                entity = home.get(cond.entity_id) if home is not None else None
                if entity is None:
                    return  # unknown now (home not loaded, or the device went away): keep the episode as is
                state, attributes = entity.state, dict(entity.attributes)
            now = datetime.now(UTC)
            st = dict(task.state)
            if not cond.holds(state, attributes):
                if st.get("since"):
                    st.update(since=None, fired=False)
                    await self._save(task, st)
                    handle = self._timers.pop(task_id, None)
                    if handle:
                        handle.cancel()
                return
            if not st.get("since"):
                st.update(since=now.isoformat(), fired=False)
                await self._save(task, st)
            if st.get("fired"):
                return
            since = datetime.fromisoformat(st["since"])
            remaining = float(task.spec.get("hold_for", 0)) - (now - since).total_seconds()
            if remaining > 0:
                self._arm(task_id, remaining)
                return
            st["fired"] = True
            last = st.get("last_fired")
            cooldown = float(task.spec.get("cooldown", 0))
            if last and (now - datetime.fromisoformat(last)).total_seconds() < cooldown:
                await self._save(task, st)
                log.info("tasks.watch_cooldown", task_id=task_id)
                return
            st["last_fired"] = now.isoformat()
            await self._save(task, st)
        await self.fire(task, f"watch:{st['since']}", cond.current(state, attributes))

    def _arm(self, task_id: int, delay: float) -> None:
        if task_id in self._timers:
            return
        loop = asyncio.get_running_loop()

        def due() -> None:
            self._timers.pop(task_id, None)
            self._spawn(task_id)

        self._timers[task_id] = loop.call_later(delay + 0.01, due)

    async def _save(self, task: m.Task, state: dict[str, Any]) -> None:
        task.state = state
        await self.db.tx(lambda c: m.set_runtime(c, task.id, state=state))
