"""Frigate: MQTT events from a real mosquitto broker trigger one check per detected object; junk is ignored;
without MQTT, Frigate's /api/events is polled instead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from claw.config import TasksSection
from claw.core.dispatcher import Pending
from claw.core.gate import SenderGate
from claw.core.inbox import Inbox
from claw.core.outbox import Outbox
from claw.providers.base import ProviderSettings
from claw.providers.models import SkillModels
from claw.skill import Shared
from claw.skillset import SkillSet
from claw.store.db import Database
from claw.store.migrations import migrate
from claw.tasks.facade import TasksFacade
from claw.tasks.service import TaskService
from skills.camera.alerts import Alerter
from skills.camera.config import CameraSource
from skills.camera.media import MediaStore
from skills.camera.sources import FrigateSource
from skills.camera.vision import VisionChecker
from skills.camera.watch import Camera, WatchEngine
from tests.camera.conftest import (
    camera_config,
    camera_health,
    owner_notes,
    publish,
    vision_requests,
    wait_until,
)
from tests.fakes.camera import driveway, truck
from tests.fakes.frigate import FakeFrigate, event_message, review_message
from tests.fakes.llm import FakeLLM, Reply, ToolUse
from tests.harness import Daemon

QUESTION = "Is a delivery truck in the driveway?"


def make_watch(d: Daemon, fake: FakeLLM, **args: object) -> str:
    fake.script(Reply(tool_calls=[ToolUse("camera_watch", {"action": "create", "camera": "drive", "question": QUESTION,
                                                           **args})]), Reply(text="Watching."))
    before = len(fake.requests)
    d.say("tell me when a delivery truck arrives")
    return fake.requests[before + 1].tool_results()[0].content


def test_frigate_mqtt_event_triggers_one_check_and_junk_is_ignored(
        vision_llm: FakeLLM, frigate: FakeFrigate, mosquitto: int, daemon_factory: Callable[..., Daemon]) -> None:
    d = daemon_factory(camera_config(vision_llm, {"drive": {"type": "frigate", "url": frigate.url,
                                                            "frigate_camera": "driveway"}},
                                     camera=f'mqtt_host = "127.0.0.1"\nmqtt_port = {mosquitto}\n'))
    result = make_watch(d, vision_llm, labels=["car", "truck"])
    assert "Whenever Frigate detects car, truck on drive" in result, result
    wait_until(lambda: camera_health(d).get("mqtt", {}).get("connected"), what="MQTT subscription", d=d)

    # One object: Frigate publishes new, update, update, end, and a review naming it. One check, one alert.
    frigate.add_event("1732700000.1-abc", "driveway", "truck", truck())
    for kind in ("new", "update", "update", "end"):
        publish(mosquitto, "frigate/events", event_message("1732700000.1-abc", "driveway", "truck", kind))
    publish(mosquitto, "frigate/reviews", review_message("rev-1", "driveway", ["1732700000.1-abc"], ["truck"]))
    wait_until(lambda: any("delivery truck" in t for t in owner_notes(d)), what="the alert", d=d)

    # Junk on the topics is logged and ignored; other cameras and labels are not checked.
    for junk in [b"not json", b"[1, 2]", b'{"type": "new"}', b'{"type": "explode", "after": {"id": "x"}}',
                 b"\xff\xfe\x00", b'{"type": "new", "after": {"id": 5, "camera": "driveway", "label": "car"}}']:
        publish(mosquitto, "frigate/events", junk)
    publish(mosquitto, "frigate/reviews", b'{"type": "new", "after": {"id": "r", "camera": "driveway"}}')
    publish(mosquitto, "frigate/events", event_message("ev-person", "driveway", "person"))
    publish(mosquitto, "frigate/events", event_message("ev-elsewhere", "backyard", "car"))
    wait_until(lambda: camera_health(d)["mqtt"]["malformed"] >= 7, what="malformed payloads counted", d=d)

    # The listener is still alive: a new car event (an empty driveway picture) is checked, and stays quiet.
    frigate.add_event("1732700100.2-def", "driveway", "car", driveway())
    publish(mosquitto, "frigate/events", event_message("1732700100.2-def", "driveway", "car"))
    wait_until(lambda: len(vision_requests(vision_llm)) >= 2, what="second check", d=d)
    checks = vision_requests(vision_llm)
    assert len(checks) == 2 and all(len(c.images()) == 1 for c in checks)
    assert frigate.snapshot_fetches() == ["/api/events/1732700000.1-abc/snapshot.jpg",
                                          "/api/events/1732700100.2-def/snapshot.jpg"]
    assert len([t for t in owner_notes(d) if "delivery truck" in t]) == 1
    assert d.logs().count("camera.mqtt_malformed") == 7
    assert camera_health(d)["mqtt"]["connected"]


async def test_frigate_without_mqtt_polls_its_events_api(vision_llm: FakeLLM, frigate: FakeFrigate,
                                                          tmp_path: Path) -> None:
    """In process (no daemon needed): the engine polls /api/events, checks each new event once, and its
    state survives a reload from the table."""
    notes: list[tuple[str, list[str] | None]] = []

    async def notify(text: str, media: list[str] | None = None, meta: dict[str, Any] | None = None) -> None:
        notes.append((text, media))

    db = Database(f"sqlite:///{tmp_path / 'claw.db'}")
    migrate(db.engine)
    service = TaskService(db, TasksSection(), ZoneInfo("UTC"), inbox=Inbox(db, SenderGate({}), Pending().mark, Outbox(db, {})),
                          notify=notify, owner=("web", "owner"), toolbox=SkillSet(), llm=None, shared=Shared())
    tasks = TasksFacade(service)
    cfg = CameraSource(type="frigate", url=frigate.url, frigate_camera="driveway")
    cam = Camera("drive", cfg, FrigateSource("drive", cfg, 8_000_000))
    models = SkillModels(db, None, ProviderSettings(provider="anthropic", api_key="sk-ant-test", base_url=vision_llm.url),
                         allow_cloud_vision=False)  # the fake is on 127.0.0.1: local, so allowed
    vision = VisionChecker(models)
    alerter = Alerter(notify, MediaStore(tmp_path / "snaps", b"k" * 32, 60, 1), None, lambda: None, ZoneInfo("UTC"))
    engine = WatchEngine(tasks, {"drive": cam}, vision, alerter, frigate_polling=True)
    await engine.load()
    w = await engine.create("drive", QUESTION, "frigate", 0.05, ["truck"], 0.6, 600)
    frigate.add_event("ev-poll-1", "driveway", "truck", truck(), start=time.time() + 1)
    frigate.add_event("ev-poll-2", "driveway", "person", driveway(), start=time.time() + 1)
    await asyncio.to_thread(wait_until, lambda: bool(notes), "an alert")  # polled off the loop, which runs on
    n = len(frigate.requests)
    await asyncio.to_thread(wait_until, lambda: len(frigate.requests) >= n + 4, "four more polls")
    await engine.stop()
    assert [t for t, _ in notes] and "delivery truck" in notes[0][0] and notes[0][1] is None  # no public URL: text
    assert len(vision_requests(vision_llm)) == 1
    assert frigate.snapshot_fetches() == ["/api/events/ev-poll-1/snapshot.jpg"]

    again = WatchEngine(tasks, {"drive": cam}, vision, alerter, frigate_polling=False)
    await again.load()
    assert again.watchers[w.id].state.alerts == 1 and again.watchers[w.id].labels == ["truck"]
    await again.stop()
    await cam.source.close()
    await models.close()
    db.close()
