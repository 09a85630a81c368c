"""Frigate's MQTT events (``frigate/events``, ``frigate/reviews``) turned into checks, through aiomqtt.

Frigate already runs object detection; reacting to its events means no polling
at all. Payloads come from the network, so anything malformed is logged and
ignored, and a lost broker is retried with backoff while the daemon runs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from skills.camera.sources import FrigateEvent

log = structlog.get_logger("skills.camera.mqtt")

Handler = Callable[..., Coroutine[Any, Any, int]]


def parse(topic: str, payload: bytes | bytearray | str, prefix: str) -> tuple[FrigateEvent, tuple[str, ...]] | None:
    """The event a message announces, plus ids that mean the same object; None for messages to skip.

    Raises ValueError for a payload that is not what Frigate sends.
    """
    if topic not in (f"{prefix}/events", f"{prefix}/reviews"):
        return None
    raw = payload.decode("utf-8") if isinstance(payload, (bytes, bytearray)) else payload
    data = json.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("after"), dict):
        raise ValueError("expected an object with an 'after' object")  # noqa: TRY004 - callers catch ValueError
    kind = data.get("type")
    after = data["after"]
    if topic == f"{prefix}/events":
        if kind not in ("new", "update", "end"):
            raise ValueError(f"unknown event type {kind!r}")
        if after.get("false_positive") is True:
            return None
        event_id, camera, label = after.get("id"), after.get("camera"), after.get("label")
        if not all(isinstance(v, str) and v for v in (event_id, camera, label)):
            raise ValueError("event without id, camera or label")
        return FrigateEvent(event_id, camera, label, after.get("top_score") or after.get("score")), ()
    if topic == f"{prefix}/reviews":
        if kind not in ("new", "update", "end"):
            raise ValueError(f"unknown review type {kind!r}")
        review_id, camera = after.get("id"), after.get("camera")
        details = after.get("data") if isinstance(after.get("data"), dict) else {}
        objects = [o for o in details.get("objects", []) if isinstance(o, str)]
        detections = [d for d in details.get("detections", []) if isinstance(d, str)]
        if not (isinstance(review_id, str) and isinstance(camera, str) and detections):
            raise ValueError("review without id, camera or detections")
        label = objects[0].split("-")[0] if objects else ""
        return FrigateEvent(detections[0], camera, label), (review_id, *detections[1:])
    return None


class FrigateListener:
    def __init__(self, host: str, port: int, username: str | None, password: str | None, prefix: str,
                 handler: Handler):
        self.host, self.port, self.username, self.password = host, port, username, password
        self.prefix = prefix.rstrip("/")
        self.handler = handler
        self.connected = False
        self.malformed = 0
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._jobs: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="camera-frigate-mqtt")

    async def stop(self) -> None:
        tasks = [t for t in [self._task, *self._jobs] if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def health(self) -> dict[str, Any]:
        return {"connected": self.connected, "broker": f"{self.host}:{self.port}", "malformed": self.malformed,
                **({"error": self.last_error} if self.last_error and not self.connected else {})}

    async def _run(self) -> None:
        import aiomqtt

        delay = 1.0
        while True:
            try:
                async with aiomqtt.Client(self.host, self.port, username=self.username, password=self.password,
                                          keepalive=30) as client:
                    await client.subscribe(f"{self.prefix}/events")
                    await client.subscribe(f"{self.prefix}/reviews")
                    self.connected, self.last_error, delay = True, None, 1.0
                    log.info("camera.mqtt_connected", broker=f"{self.host}:{self.port}", prefix=self.prefix)
                    async for message in client.messages:
                        self.handle(str(message.topic), message.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - aiomqtt.MqttError and friends: the broker is away
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("camera.mqtt_down", broker=f"{self.host}:{self.port}", error=self.last_error, retry_in=delay)
            self.connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    def handle(self, topic: str, payload: Any) -> None:
        try:
            parsed = parse(topic, payload if isinstance(payload, (bytes, bytearray, str)) else b"", self.prefix)
        except (ValueError, UnicodeDecodeError) as exc:
            self.malformed += 1
            log.warning("camera.mqtt_malformed", topic=topic, error=str(exc)[:200])
            return
        if parsed is None:
            return
        event, also = parsed
        job = asyncio.create_task(self.handler(event, also=also))
        self._jobs.add(job)
        job.add_done_callback(self._done)

    def _done(self, job: asyncio.Task[Any]) -> None:
        self._jobs.discard(job)
        if not job.cancelled() and job.exception() is not None:
            exc = job.exception()
            log.error("camera.frigate_check_failed", error=f"{type(exc).__name__}: {exc}")
