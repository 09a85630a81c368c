"""Camera watchers: a question about a camera, checked when the scene changes or Frigate sees something.

A camera watcher is a standing task of kind ``camera`` (``ctx.tasks``):
the daemon's tasks service owns its definition and lifecycle, so ``claw tasks list``,
``pause``, ``resume`` and ``rm`` and the ``tasks`` tool see and manage it, and
its vision tokens count against the task's budgets (``claw usage --by task``).
This module runs it: one asyncio loop per active watcher (capture, change gate,
vision, alert), following the table through ``refresh`` on every task sync and
asking the service ``may_run`` before each vision request, so a pause or a
delete from the CLI holds at once. Nothing here calls the model unless the
change gate (or a Frigate event) says there is something new to look at.

"Once per arrival": a match opens an episode and alerts (unless the cooldown
since the last alert is still running); further matches while the episode is
open stay quiet; a clear "no" closes it. A failing camera is reported to the
owner once until it works again; the loop keeps going either way.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

import structlog

from claw.skill import TaskInfo, Tasks
from skills.camera.alerts import Alerter
from skills.camera.config import CameraSource
from skills.camera.gate import ChangeGate, FrameError
from skills.camera.sources import FrigateEvent, FrigateSource, Source, SourceError
from skills.camera.vision import VisionChecker, VisionError

log = structlog.get_logger("skills.camera.watch")

SPEC_KEYS = ("camera", "question", "trigger", "interval", "labels", "min_confidence", "cooldown")


def _title(camera: str, question: str) -> str:
    return f"{camera}: {question}"[:120]


@dataclass
class Camera:
    name: str
    cfg: CameraSource
    source: Source

    @property
    def label(self) -> str:
        return self.cfg.label or self.name.replace("_", " ")


@dataclass
class WatchState:
    in_episode: bool = False
    last_alert: float = 0.0
    alerts: int = 0
    checks: int = 0
    error: str | None = None  # the failure the owner was told about, until the camera works again
    last_event_at: float = 0.0  # frigate polling: newest event start seen
    throttled: bool = False  # over max_checks_per_hour; the owner was told once


@dataclass
class Watcher:
    id: int
    camera: str
    question: str
    trigger: str
    interval: float
    labels: list[str]
    min_confidence: float
    cooldown: float
    state: WatchState = field(default_factory=WatchState)
    seen_events: deque[str] = field(default_factory=lambda: deque(maxlen=256))
    recent_checks: deque[float] = field(default_factory=deque)

    @classmethod
    def from_task(cls, task: TaskInfo) -> Watcher:
        sp = task.spec
        known = {k: v for k, v in task.state.items() if k in WatchState.__dataclass_fields__}
        return cls(task.id, sp["camera"], sp["question"], sp["trigger"], float(sp["interval"]), list(sp.get("labels") or []),
                   float(sp["min_confidence"]), float(sp["cooldown"]), WatchState(**known))

    def describe(self) -> dict[str, Any]:
        how = (f"on Frigate events{' for ' + ', '.join(self.labels) if self.labels else ''}"
               if self.trigger == "frigate" else f"every {self.interval:g} s when the picture changes")
        return {"id": self.id, "task_id": self.id, "camera": self.camera, "question": self.question, "checks": how,
                "min_confidence": self.min_confidence, "cooldown_minutes": round(self.cooldown / 60, 2),
                "alerts_sent": self.state.alerts, "vision_checks": self.state.checks,
                **({"problem": self.state.error} if self.state.error else {})}


class WatchEngine:
    def __init__(self, tasks: Tasks, cameras: dict[str, Camera], vision: VisionChecker, alerter: Alerter,
                 frigate_polling: bool, max_checks_per_hour: int = 0):
        self.max_checks_per_hour = max_checks_per_hour  # a busy street must not become a big bill; 0 = no cap
        self.cameras = cameras
        self.vision = vision
        self.alerter = alerter
        self.frigate_polling = frigate_polling  # no MQTT broker: poll Frigate's /api/events instead
        self.tasks = tasks  # the daemon's tasks: definitions, status, budgets
        self.watchers: dict[int, Watcher] = {}  # the active ones, by task id
        self._loops: dict[int, asyncio.Task[None]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._table_lock = asyncio.Lock()  # create and refresh must not interleave

    # -- storage: the tasks table ------------------------------------------------

    async def load(self) -> None:
        await self.refresh()
        log.info("camera.watchers_loaded", count=len(self.watchers))

    async def refresh(self) -> None:
        """Follow the tasks table: start active camera tasks, stop paused, finished or deleted ones."""
        async with self._table_lock:
            live = {t.id: t for t in await self.tasks.of_kind("camera") if t.status == "active"}
            for wid in set(self.watchers) - set(live):
                self._stop_one(wid)
                log.info("camera.watch_stopped", watch_id=wid)
            for tid, task in live.items():
                if tid not in self.watchers:
                    self.watchers[tid] = Watcher.from_task(task)
                    self._start(self.watchers[tid])

    async def describe_all(self) -> list[dict[str, Any]]:
        """Every camera task (paused ones too) for the camera_watch tool's list."""
        out = []
        for task in await self.tasks.of_kind("camera"):
            w = self.watchers.get(task.id) or Watcher.from_task(task)
            out.append({**w.describe(), "status": task.status})
        return out

    async def create(self, camera: str, question: str, trigger: str, interval: float, labels: list[str],
                     min_confidence: float, cooldown: float) -> Watcher:
        spec = {"camera": camera, "question": question, "trigger": trigger, "interval": interval, "labels": labels,
                "min_confidence": min_confidence, "cooldown": cooldown}

        async with self._table_lock:
            w = Watcher.from_task(await self.tasks.add("camera", _title(camera, question), question, spec,
                                                       asdict(WatchState())))
            self.watchers[w.id] = w
            self._start(w)
        log.info("camera.watch_created", watch_id=w.id, camera=camera, trigger=trigger, interval=interval)
        return w

    async def delete(self, watch_id: int) -> bool:
        self._stop_one(watch_id)
        return await self.tasks.remove(watch_id, "camera")

    async def _save(self, w: Watcher) -> None:
        await self.tasks.save_state(w.id, asdict(w.state))

    async def run_task(self, task: TaskInfo) -> str:
        """`claw tasks run ID`: look now, without waiting for a change."""
        w, cam = self.watchers.get(task.id), self.cameras.get(task.spec.get("camera", ""))
        if w is None or cam is None:
            return "not watching (paused, or its camera is not configured)"
        try:
            jpeg = await cam.source.snapshot()
        except SourceError as exc:
            return str(exc)
        await self.judge(w, cam, jpeg)
        return f"checked {cam.label}: {w.state.checks} check(s), {w.state.alerts} alert(s) so far"

    # -- loops -----------------------------------------------------------------

    def _start(self, w: Watcher) -> None:
        cam = self.cameras.get(w.camera)
        if cam is None:
            log.warning("camera.watch_unknown_camera", watch_id=w.id, camera=w.camera)
            return
        if w.trigger == "frigate" and not self.frigate_polling:
            return  # the MQTT listener calls on_frigate_event
        runner = self._frigate_poll if w.trigger == "frigate" else self._poll
        self._loops[w.id] = asyncio.create_task(runner(w, cam), name=f"camera-watch-{w.id}")

    def _stop_one(self, watch_id: int) -> None:
        self.watchers.pop(watch_id, None)
        loop = self._loops.pop(watch_id, None)
        if loop:
            loop.cancel()

    async def stop(self) -> None:
        loops = list(self._loops.values())
        for t in loops:
            t.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        self._loops.clear()

    async def _poll(self, w: Watcher, cam: Camera) -> None:
        gate = ChangeGate(cam.cfg.pixel_threshold, cam.cfg.min_changed, cam.cfg.zone)
        while True:
            try:
                await self.poll_once(w, cam, gate)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in one check must not end the watcher
                log.exception("camera.watch_crashed", watch_id=w.id, error=str(exc))
            await asyncio.sleep(w.interval)

    async def poll_once(self, w: Watcher, cam: Camera, gate: ChangeGate) -> None:
        try:
            jpeg = await cam.source.snapshot()
            result = await asyncio.to_thread(gate.check, jpeg)
        except (SourceError, FrameError) as exc:
            await self._failed(w, f"{exc}" if isinstance(exc, SourceError) else f"camera {cam.name!r}: {exc}")
            return
        await self._recovered(w)
        if not result.changed:
            log.debug("camera.gate_quiet", watch_id=w.id, score=round(result.score, 4), first=result.first)
            return
        log.info("camera.gate_changed", watch_id=w.id, camera=cam.name, score=round(result.score, 4))
        await self.judge(w, cam, jpeg)

    async def _frigate_poll(self, w: Watcher, cam: Camera) -> None:
        """Without MQTT: ask Frigate's /api/events for new events on this camera each interval."""
        assert isinstance(cam.source, FrigateSource)
        if not w.state.last_event_at:
            w.state.last_event_at = time.time()
        while True:
            try:
                events = await cam.source.events(after=w.state.last_event_at, labels=w.labels or None)
                await self._recovered(w)
                for event in events:
                    await self.on_frigate_event(event, only=w)
                    w.state.last_event_at = max(w.state.last_event_at, event.start)
            except SourceError as exc:
                await self._failed(w, str(exc))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("camera.watch_crashed", watch_id=w.id, error=str(exc))
            await asyncio.sleep(w.interval)

    async def on_frigate_event(self, event: FrigateEvent, only: Watcher | None = None,
                               also: tuple[str, ...] = ()) -> int:
        """One check per Frigate event id (Frigate sends new/update/end for the same object); returns checks made."""
        checked = 0
        for w in [only] if only else list(self.watchers.values()):
            cam = self.cameras.get(w.camera)
            if w.trigger != "frigate" or cam is None or not isinstance(cam.source, FrigateSource):
                continue
            if cam.source.camera != event.camera or (w.labels and event.label not in w.labels):
                continue
            ids = (event.id, *also)
            if any(i in w.seen_events for i in ids):
                continue
            w.seen_events.extend(ids)
            async with self._locks.setdefault(w.id, asyncio.Lock()):
                try:
                    jpeg = await cam.source.event_snapshot(event.id)
                except SourceError:
                    try:
                        jpeg = await cam.source.snapshot()
                    except SourceError as exc:
                        await self._failed(w, str(exc))
                        continue
                await self._recovered(w)
                log.info("camera.frigate_event", watch_id=w.id, event_id=event.id, label=event.label)
                await self.judge(w, cam, jpeg)
                checked += 1
        return checked

    # -- deciding ----------------------------------------------------------------

    async def judge(self, w: Watcher, cam: Camera, jpeg: bytes) -> None:
        held = await self.tasks.may_run(w.id)  # paused, deleted or over its token budget: no model call
        if held:
            log.info("camera.check_held", watch_id=w.id, reason=held)
            return
        if not await self._within_budget(w):
            return
        try:
            verdict = await self.vision.ask(jpeg, w.question, cam.label, task_id=w.id)
        except VisionError as exc:
            await self._failed(w, str(exc))
            return
        w.state.checks += 1
        now = time.time()
        if verdict.match and verdict.confidence >= w.min_confidence:
            if w.state.in_episode:
                log.info("camera.still_there", watch_id=w.id)
            elif now - w.state.last_alert < w.cooldown:
                w.state.in_episode = True
                log.info("camera.cooldown", watch_id=w.id, remaining=round(w.cooldown - (now - w.state.last_alert)))
            else:
                w.state.in_episode = True
                w.state.last_alert = now
                w.state.alerts += 1
                await self.alerter.alert(w.id, cam.name, cam.label, w.question, jpeg, verdict)
        elif not verdict.match:
            w.state.in_episode = False
        await self._save(w)

    async def _within_budget(self, w: Watcher) -> bool:
        if not self.max_checks_per_hour:
            return True
        now = time.time()
        while w.recent_checks and w.recent_checks[0] < now - 3600:
            w.recent_checks.popleft()
        if len(w.recent_checks) >= self.max_checks_per_hour:
            log.warning("camera.check_budget", watch_id=w.id, limit=self.max_checks_per_hour)
            if not w.state.throttled:
                w.state.throttled = True
                await self._save(w)
                await self.alerter.tell(f"Camera watcher #{w.id} ({w.camera}) saw more than {self.max_checks_per_hour} "
                                        "changes in an hour; it skips model checks until the hour has passed "
                                        "([camera] max_checks_per_hour).", camera=w.camera, watch_id=w.id)
            return False
        w.state.throttled = False
        w.recent_checks.append(now)
        return True

    async def _failed(self, w: Watcher, error: str) -> None:
        log.warning("camera.watch_error", watch_id=w.id, camera=w.camera, error=error)
        if w.state.error is None:
            w.state.error = error
            await self._save(w)
            await self.alerter.tell(f"Camera watcher #{w.id} ({w.camera}) has a problem: {error}. "
                                    "It keeps trying and will not repeat this message.", camera=w.camera, watch_id=w.id)

    async def _recovered(self, w: Watcher) -> None:
        if w.state.error is not None:
            log.info("camera.watch_recovered", watch_id=w.id, camera=w.camera)
            w.state.error = None
            await self._save(w)
