"""End to end through ``claw serve``: change gate, vision check, WhatsApp alert with a signed picture link,
cooldown, camera failures, cloud-vision refusal. Short poll intervals; no timing assertions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx

from skills.camera.media import sign
from tests.camera.conftest import (
    OWNER,
    PUBLIC_URL,
    TWILIO_ENV,
    camera_config,
    camera_health,
    is_vision,
    owner_notes,
    vision_requests,
    wait_until,
    whatsapp_table,
)
from tests.fakes.camera import FakeCamera, Huge, NotJpeg, driveway, noisy, truck
from tests.fakes.llm import FakeLLM, Reply, ToolUse
from tests.fakes.twilio import FakeTwilio
from tests.harness import Daemon

QUESTION = "Is a delivery truck in the driveway?"


def episodes_of(d: Daemon, conversation: str) -> list[str]:
    with sqlite3.connect(d.home / "claw.db") as conn:
        return [r[0] for r in conn.execute("SELECT text FROM memory_episodes WHERE conversation = ?", (conversation,))]


def create_watch(d: Daemon, fake: FakeLLM, *calls: dict[str, object]) -> list[str]:
    """Have the (fake) model create watchers from chat; returns the tool results the model saw."""
    fake.script(Reply(tool_calls=[ToolUse("camera_watch", {"action": "create", **c}) for c in calls]),
                Reply(text="I'm watching."))
    before = len(fake.requests)
    d.say("tell me when a delivery truck arrives")
    return [r.content for r in fake.requests[before + 1].tool_results()]


def test_static_scene_costs_nothing_truck_alerts_once_with_signed_picture(
        vision_llm: FakeLLM, camera: FakeCamera, twilio: FakeTwilio, daemon_factory: Callable[..., Daemon]) -> None:
    d = daemon_factory(camera_config(vision_llm, {"driveway": {"url": camera.url}}, extra=whatsapp_table(twilio)),
                       env=TWILIO_ENV)
    [result] = create_watch(d, vision_llm, {"camera": "driveway", "question": QUESTION, "interval_seconds": 0.2})
    assert "Camera watcher #1 created" in result and "with the picture" in result and "no model calls" in result

    # A static scene with sensor noise and flicker for many polls: no vision request at all.
    camera.script(*[noisy(i, brightness=(-8, 0, 8)[i % 3]) if i % 2 else driveway() for i in range(12)])
    hits = camera.hits
    assert camera.wait_hits(hits + 14), d.logs()
    assert vision_requests(vision_llm) == []

    # The truck arrives: one vision request with the image, one WhatsApp message with a media URL.
    camera.show(truck())
    [sent] = twilio.wait_for(1, to=OWNER, timeout=20)
    assert "delivery truck" in sent.body and "driveway" in sent.body
    checks = vision_requests(vision_llm)
    assert len(checks) == 1 and len(checks[0].images()) == 1 and checks[0].images()[0]["type"] == "image"
    [create] = [c for c in twilio.creates() if c.form.get("To") == f"whatsapp:{OWNER}"]
    media_url = create.form["MediaUrl"]
    assert media_url.startswith(f"{PUBLIC_URL}/media/driveway-")

    # The picture is served with the signed token, and refused with a bad, expired or borrowed one.
    parts = urlsplit(media_url)
    local = f"{d.url}{parts.path}"
    token = parse_qs(parts.query)["token"][0]
    ok = httpx.get(local, params={"token": token}, timeout=5)
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/jpeg" and ok.content == truck()
    key = bytes.fromhex((d.home / "data" / "camera" / "media-key").read_text().strip())
    media_id = parts.path.rsplit("/", 1)[1]
    expired = sign(key, media_id, int(time.time()) - 5)
    other = parts.path[:-4] + ("0000" if not parts.path.endswith("0000") else "1111")
    for url, tok in [(local, "1" + token), (local, expired), (local, ""), (f"{d.url}{other}", token)]:
        assert httpx.get(url, params={"token": tok}, timeout=5).status_code == 403, (url, tok)

    # The truck stays and shuffles about: the gate sees changes, the model says yes again, no second alert.
    for shift in [0.06, -0.05, 0.03]:
        camera.show(truck(dx=shift))
        n = len(vision_requests(vision_llm))
        wait_until(lambda n=n: len(vision_requests(vision_llm)) > n, what="another vision check", d=d)
    hits = camera.hits
    assert camera.wait_hits(hits + 5)
    assert len([m for m in twilio.sent() if m.to == f"whatsapp:{OWNER}"]) == 1
    health = camera_health(d)
    assert health["ok"] and health["watchers"] == 1
    with sqlite3.connect(d.home / "claw.db") as conn:
        vision_rows = conn.execute("SELECT count(*) FROM usage WHERE purpose = 'vision'").fetchone()[0]
    assert vision_rows == len(vision_requests(vision_llm))  # `claw usage` sees what the cameras cost



def test_camera_failures_are_told_once_and_the_watcher_keeps_running(
        vision_llm: FakeLLM, daemon_factory: Callable[..., Daemon]) -> None:
    with FakeCamera() as html, FakeCamera() as huge:
        html.show(NotJpeg())
        huge.show(Huge())
        cams = {"gate": {"url": "http://127.0.0.1:9/snapshot.jpg", "timeout": 1},
                "porch": {"url": html.url}, "yard": {"url": huge.url}}
        d = daemon_factory(camera_config(vision_llm, {**cams, "front_door": {"url": huge.url, "label": "front door"}}))
        # no WhatsApp here: alerts and problems go to the owner's web transcript
        results = create_watch(d, vision_llm, *({"camera": c, "question": QUESTION, "interval_seconds": 0.2}
                                                for c in cams))
        assert all("created" in r and "as text (no public_url" in r for r in results), results
        assert html.wait_hits(html.hits + 6) and huge.wait_hits(huge.hits + 4)

        def problems() -> list[str]:
            return [t for t in owner_notes(d) if "has a problem" in t]

        wait_until(lambda: len(problems()) >= 3, what="three problem reports", d=d)
        assert html.wait_hits(html.hits + 4) and huge.wait_hits(huge.hits + 3)
        notes = problems()
        assert len(notes) == 3, notes
        assert any("'gate' is unreachable" in t for t in notes)
        assert any("'porch' did not send a JPEG (got text/html" in t for t in notes)
        assert any("'yard' sent more than 8 MB" in t for t in notes)
        assert vision_requests(vision_llm) == []

        # Still running: the porch camera comes back, and the truck is reported as text (no public URL).
        html.show(driveway())
        assert html.wait_hits(html.hits + 3)
        html.show(truck())
        wait_until(lambda: any("delivery truck" in t for t in owner_notes(d)), what="text alert", d=d)
        # The alert is an episode in memory, so "when did the parcel come?" can be answered later.
        episodes = wait_until(lambda: episodes_of(d, "camera:porch"), what="memory episode", d=d)
        assert "porch camera at" in episodes[0] and "delivery truck" in episodes[0]
        assert len([t for t in owner_notes(d) if "has a problem" in t]) == 3

        # "What's at the front door?" from chat: a snapshot, one vision request, the answer back to the model.
        huge.show(truck())
        n = len(vision_requests(vision_llm))
        vision_llm.script(Reply(tool_calls=[ToolUse("camera_snapshot", {"camera": "front door",
                                                                        "question": "What's at the front door?"})]))
        d.say("what's at the front door?")
        check = vision_requests(vision_llm)[n:]
        check = [c for c in check if "What's at the front door?" in c.last_user_text()]
        assert len(check) == 1 and len(check[0].images()) == 1
        answer = [r for r in vision_llm.requests if r.tool_results() and not is_vision(r)][-1].tool_results()[-1]
        assert not answer.is_error and "front door: A purple delivery truck" in answer.content


def test_cloud_vision_refused_when_not_allowed(fake_llm: FakeLLM, camera: FakeCamera,
                                               daemon_factory: Callable[..., Daemon]) -> None:
    extra = '[vision]\nprovider = "openai"\napi_key = "sk-test-cloud-vision-key"\nallow_cloud_vision = false\n'
    d = daemon_factory(camera_config(fake_llm, {"driveway": {"url": camera.url}}, extra=extra))
    health = camera_health(d)
    assert not health["ok"] and "allow_cloud_vision = false" in health["detail"]
    fake_llm.script(Reply(tool_calls=[ToolUse("camera_snapshot", {"camera": "driveway", "question": "what's there?"})]),
                    Reply(tool_calls=[ToolUse("camera_watch", {"action": "create", "camera": "driveway",
                                                               "question": QUESTION})]),
                    Reply(text="Sorry."))
    d.say("what's at the driveway? and tell me when a truck comes")
    results = fake_llm.requests[2].tool_results()
    assert len(results) == 2 and all(r.is_error for r in results)
    assert all("not sent to openai at api.openai.com" in r.content and "allow_cloud_vision" in r.content
               for r in results), results
    assert all(not r.images() for r in fake_llm.requests)
    assert len(fake_llm.requests) == 3  # the chat turn only, nothing went to a cloud vision model
