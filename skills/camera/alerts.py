"""Telling the owner: the message with the description and picture link, and the memory episode.

Kept apart from the watch loop so "what happened" (a verdict on a frame) and
"who hears about it and how" stay separate decisions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from claw.skill import Memory
from skills.camera.media import MediaStore
from skills.camera.vision import Verdict

log = structlog.get_logger("skills.camera.alerts")


class Alerter:
    def __init__(self, notify: Callable[..., Awaitable[Any]], media: MediaStore, memory: Memory | None,
                 public_url: Callable[[], str | None], tz: ZoneInfo):
        self.notify = notify
        self.media = media
        self.memory = memory
        self.public_url = public_url
        self.tz = tz

    async def alert(self, watch_id: int, camera: str, label: str, question: str, jpeg: bytes, verdict: Verdict) -> str:
        """Save the snapshot, message the owner (with the picture when a public URL exists), remember it."""
        media_id = await asyncio.to_thread(self.media.save, camera, jpeg)
        at = datetime.now(self.tz)
        text = f"📷 {label}, {at:%H:%M}: {verdict.description or 'match for: ' + question}"
        base = self.public_url()
        media = [self.media.url(base, media_id)] if base else None
        # the description is the vision model's reading of the picture: the owner's next turns see it as untrusted
        await self.notify(text, media=media, meta={"kind": "alert", "camera": camera, "watch_id": watch_id, "media_id": media_id,
                                                   "untrusted": f"camera:{camera}"})
        log.info("camera.alert", camera=camera, watch_id=watch_id, media_id=media_id, with_picture=bool(media),
                 confidence=verdict.confidence)
        await self.remember(camera, label, question, verdict, at, media_id, watch_id)
        return text

    async def tell(self, text: str, **meta: Any) -> None:
        await self.notify(text, meta=meta)

    async def remember(self, camera: str, label: str, question: str, verdict: Verdict, at: datetime,
                       media_id: str, watch_id: int) -> None:
        if self.memory is None:
            return  # no memory in this daemon
        text = f"{label} camera at {at:%Y-%m-%d %H:%M}: {verdict.description} (watching for: {question})"
        try:
            await self.memory.add_episode(text, conversation=f"camera:{camera}", speaker="camera", at=at,
                                          meta={"camera": camera, "watch_id": watch_id, "media_id": media_id,
                                                "confidence": verdict.confidence})
        except Exception as exc:  # noqa: BLE001 - memory is a nicety here; the alert already went out
            log.warning("camera.memory_failed", error=str(exc))
