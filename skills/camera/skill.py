"""The ``camera`` skill: snapshot questions and camera watchers from chat, over the configured cameras.

The two tools appear only when at least one ``[camera.NAME]`` is configured,
so a house without cameras pays no prompt tokens for them, and Pillow, numpy
and the rest are imported only then (start-up time and idle RSS).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

from starlette.routing import BaseRoute

from claw.skill import Skill, Tool, ToolContext, ToolError, tool
from skills.camera.config import CameraConfig

if TYPE_CHECKING:
    from skills.camera.media import MediaStore
    from skills.camera.mqtt import FrigateListener
    from skills.camera.vision import VisionChecker
    from skills.camera.watch import Camera, WatchEngine

PRUNE_EVERY = 3600.0


def _create_needs_yes(args: Any, ctx: ToolContext | None) -> bool:
    """A scheduled task may not start watchers on its own: that waits for the owner."""
    return args.action == "create" and ctx is not None and ctx.origin != "user"


def _watch_summary(args: Any) -> str:
    if args.action == "delete":
        return f"Delete camera watcher #{args.watch_id}"
    return f'Watch the {args.camera} camera for "{args.question[:200]}"'


class CameraSkill(Skill):
    """Looks at cameras: answers questions about a snapshot and watches for things to arrive."""

    name = "camera"
    section = "camera"
    Config = CameraConfig

    config: CameraConfig

    async def setup(self) -> None:
        cfg = self.config
        self.cameras: dict[str, Camera] = {}
        self.engine: WatchEngine | None = None
        self.vision: VisionChecker | None = None
        self.listener: FrigateListener | None = None
        self.media: MediaStore | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        if not cfg.cameras:
            return  # nothing to look at: no tools, no routes, no imports
        from skills.camera.alerts import Alerter
        from skills.camera.media import MediaStore, load_key
        from skills.camera.mqtt import FrigateListener
        from skills.camera.sources import build_source
        from skills.camera.vision import VisionChecker
        from skills.camera.watch import Camera, WatchEngine

        self.cameras = {name: Camera(name, cam, build_source(name, cam, cfg.max_bytes, self.ctx.shared))
                        for name, cam in cfg.cameras.items()}
        self.vision = VisionChecker(self.ctx.models)
        if self.vision.refusal and self.cameras:
            self.ctx.log.error("camera.vision_refused", reason=self.vision.refusal)
        self.media = MediaStore(self.ctx.data_dir / "snapshots", load_key(self.ctx.data_dir), cfg.media_ttl_hours * 3600,
                                cfg.keep_days)
        self.alerter = Alerter(self.ctx.notify_owner, self.media, self.ctx.memory, self.public_url, self.ctx.timezone)
        if self.ctx.tasks is None:
            return  # watchers are standing tasks: without them (outside the daemon, [tasks] off) only snapshots
        has_frigate = any(c.cfg.type == "frigate" for c in self.cameras.values())
        self.engine = WatchEngine(self.ctx.tasks, self.cameras, self.vision, self.alerter,
                                  frigate_polling=not (has_frigate and cfg.mqtt_host),
                                  max_checks_per_hour=cfg.max_checks_per_hour)
        await self.engine.load()
        self.ctx.tasks.register_kind("camera", self.engine)  # the tasks service follows and budgets them
        if has_frigate and cfg.mqtt_host:
            self.listener = FrigateListener(cfg.mqtt_host, cfg.mqtt_port, cfg.mqtt_username, cfg.mqtt_password,
                                            cfg.mqtt_topic_prefix, self.engine.on_frigate_event)
            self.listener.start()
        self._tasks.append(asyncio.create_task(self._prune_forever(), name="camera-prune"))

    def routes(self) -> list[BaseRoute]:
        return self.media.routes() if self.media is not None else []

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.listener:
            await self.listener.stop()
        if self.engine:
            await self.engine.stop()
        for cam in self.cameras.values():
            await cam.source.close()

    def tools(self) -> list[Tool]:
        return super().tools() if self.config.cameras else []

    def health(self) -> dict[str, Any]:
        if self.vision is None:
            return {"ok": True, "cameras": [], "detail": "no [camera.NAME] configured"}
        out: dict[str, Any] = {"ok": not (self.vision.refusal and self.cameras), "cameras": sorted(self.cameras),
                               "watchers": len(self.engine.watchers) if self.engine else 0, "vision": self.vision.label,
                               "vision_requests": self.vision.requests}
        if self.vision.refusal:
            out["detail"] = self.vision.refusal
        if self.listener:
            out["mqtt"] = self.listener.health()
        return out

    def tool_notes(self) -> dict[str, str]:
        """The cameras by name (and what each looks at), so "what's outside?" picks one without a failed call."""
        if not self.cameras:
            return dict.fromkeys(("camera_snapshot", "camera_watch"), "No cameras are configured.")
        names = "; ".join(c.name + (f" ({c.label})" if c.label != c.name else "")
                          + (f", looks at {c.cfg.area}" if c.cfg.area else "") for c in self.cameras.values())
        return dict.fromkeys(("camera_snapshot", "camera_watch"), f"Cameras: {names}.")

    def public_url(self) -> str | None:
        """Where the owner's channel can fetch pictures: [camera] public_url, else the daemon's (a channel's),
        else none (text only)."""
        url = self.config.public_url or self.ctx.public_url
        return url.rstrip("/") if url else None

    async def _prune_forever(self) -> None:
        assert self.media is not None
        while True:
            await asyncio.to_thread(self.media.prune)
            await asyncio.sleep(PRUNE_EVERY)

    def _camera(self, name: str) -> Camera:
        if not self.cameras:
            raise ToolError("no cameras are configured (add a [camera.NAME] table to the config)")
        key = name.strip().lower().replace(" ", "_")
        for cam in self.cameras.values():
            if key in (cam.name.lower(), cam.label.lower().replace(" ", "_")):
                return cam
        if len(self.cameras) == 1 and not name.strip():
            return next(iter(self.cameras.values()))
        raise ToolError(f"no camera called {name!r}; cameras: {', '.join(sorted(self.cameras))}")

    @tool(effect="read")
    async def camera_snapshot(self, camera: str, ctx: ToolContext, question: str = "What is in view?") -> str:
        """Take a snapshot from a camera and answer a question about it ("what's at the front door?").

        Args:
            camera: camera name as configured.
            question: what to find out from the picture.
        """
        from skills.camera.gate import FrameError, small_grey
        from skills.camera.sources import SourceError
        from skills.camera.vision import VisionError

        cam = self._camera(camera)
        assert self.vision is not None and self.media is not None  # both set up whenever a camera is configured
        try:
            jpeg = await cam.source.snapshot()
            await asyncio.to_thread(small_grey, jpeg)  # proves it decodes before a model sees it
            verdict = await self.vision.ask(jpeg, question, cam.label)
        except (SourceError, FrameError, VisionError) as exc:
            raise ToolError(str(exc)) from None
        await asyncio.to_thread(self.media.save, cam.name, jpeg)
        ctx.outside = f"the {cam.label} camera's picture"  # anyone can hold a sign up to a camera
        return f"{cam.label}: {verdict.description or ('yes' if verdict.match else 'nothing notable')}"

    @tool(sensitive=_create_needs_yes, effect=lambda args: "read" if args.action == "list" else "change",
          untrusted=False, summary=lambda skill, args: _watch_summary(args))
    async def camera_watch(
        self,
        action: Literal["create", "list", "delete"],
        camera: str = "",
        question: str = "",
        trigger: Literal["auto", "change", "frigate"] = "auto",
        interval_seconds: float | None = None,
        labels: list[str] | None = None,
        min_confidence: float | None = None,
        cooldown_minutes: float | None = None,
        watch_id: int | None = None,
    ) -> dict[str, Any] | str:
        """Watch a camera and message the owner with the picture when something arrives ("tell me when a FedEx truck arrives"); or list/delete watchers.

        Args:
            action: create, list or delete.
            camera: camera name (create).
            question: yes/no question checked on each new scene, e.g. "Is a FedEx truck in the driveway?" (create).
            trigger: change = poll and check when the picture changes; frigate = on Frigate detections; auto picks.
            interval_seconds: seconds between polls (change trigger).
            labels: Frigate object labels to react to, e.g. ["car", "truck"].
            min_confidence: 0..1 confidence needed to alert.
            cooldown_minutes: minimum time between two alerts.
            watch_id: watcher to delete.
        """
        if self.engine is None or self.vision is None:
            raise ToolError("camera watchers are standing tasks: enable [tasks] (and configure a camera)")
        if action == "list":
            return {"watchers": await self.engine.describe_all(),
                    "note": "camera watchers are tasks too: the tasks tool and `claw tasks` pause/resume/delete them"}
        if action == "delete":
            if watch_id is None or not await self.engine.delete(watch_id):
                raise ToolError(f"no camera watcher #{watch_id}; use action=list to see them")
            return f"Camera watcher #{watch_id} deleted."
        cam = self._camera(camera)
        if not question.strip():
            raise ToolError("a watcher needs a question, e.g. 'Is a delivery truck in the driveway?'")
        if self.vision.refusal:
            raise ToolError(self.vision.refusal)
        cfg = self.config
        kind = trigger if trigger != "auto" else ("frigate" if cam.cfg.type == "frigate" else "change")
        if kind == "frigate" and cam.cfg.type != "frigate":
            raise ToolError(f"camera {cam.name!r} is not a Frigate camera; use trigger=change")
        interval = interval_seconds if interval_seconds is not None else cfg.default_interval
        if interval < cfg.min_interval:
            raise ToolError(f"interval_seconds must be at least {cfg.min_interval:g}")
        confidence = min_confidence if min_confidence is not None else cfg.default_confidence
        if not 0 <= confidence <= 1:
            raise ToolError("min_confidence is between 0 and 1")
        cooldown = (cooldown_minutes if cooldown_minutes is not None else cfg.default_cooldown_minutes) * 60
        w = await self.engine.create(cam.name, question.strip(), "frigate" if kind == "frigate" else "poll", interval,
                                     [x.strip().lower() for x in labels or [] if x.strip()], confidence, max(0.0, cooldown))
        if w.trigger == "frigate":
            how = (f"Whenever Frigate detects {', '.join(w.labels) or 'an object'} on {cam.label}, "
                   f"I ask {self.vision.label} once per detection: {w.question!r}")
        else:
            how = (f"Every {interval:g} s I compare {cam.label}'s picture with the last one on this box; only when "
                   f"it changes does {self.vision.label} see it and answer: {w.question!r}")
        picture = "with the picture" if self.public_url() else "as text (no public_url, so no picture)"
        return (f"Camera watcher #{w.id} created. {how}. If it says yes with confidence >= {confidence:g}, "
                f"you get one message {picture} per arrival, at most one every {cooldown / 60:g} min. "
                f"A quiet scene costs no model calls.")
