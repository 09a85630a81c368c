"""Frigate: MQTT events from a real mosquitto broker trigger one check per detected object; junk is ignored;
without MQTT, Frigate's /api/events is polled instead."""

from __future__ import annotations

from collections.abc import Callable

from tests.camera.conftest import camera_config, camera_health, owner_notes, publish, vision_requests, wait_until
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


def test_frigate_without_mqtt_polls_its_events_api(vision_llm: FakeLLM, frigate: FakeFrigate,
                                                    daemon_factory: Callable[..., Daemon]) -> None:
    d = daemon_factory(camera_config(vision_llm, {"drive": {"type": "frigate", "url": frigate.url,
                                                            "frigate_camera": "driveway"}}))
    make_watch(d, vision_llm, interval_seconds=0.2)
    wait_until(lambda: "/api/events" in frigate.requests, what="events poll", d=d)
    import time

    frigate.add_event("ev-poll-1", "driveway", "truck", truck(), start=time.time() + 1)
    wait_until(lambda: any("delivery truck" in t for t in owner_notes(d)), what="the alert", d=d)
    n = len(frigate.requests)
    wait_until(lambda: len(frigate.requests) > n + 3, what="more polls", d=d)
    assert len(vision_requests(vision_llm)) == 1
