"""In-process checks of the parts: gate, media tokens, MQTT parsing, verdict parsing, sources against fakes."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from claw.providers.base import ProviderSettings
from claw.providers.models import cloud_refusal, is_local_url
from claw.skill import Shared
from skills.camera.config import CameraConfig, CameraSource
from skills.camera.gate import ChangeGate
from skills.camera.media import MediaStore, sign, verify
from skills.camera.mqtt import parse
from skills.camera.sources import (
    FrigateSource,
    HomeAssistantSource,
    HttpSource,
    RtspSource,
    SourceError,
)
from skills.camera.vision import Verdict, VisionError, parse_verdict
from skills.camera.watch import Camera, WatchEngine, Watcher
from tests.fakes.camera import FakeCamera, Huge, NotJpeg, Status, driveway, noisy, truck
from tests.fakes.frigate import FakeFrigate, event_message, review_message
from tests.fakes.homeassistant import FakeHomeAssistant


def test_gate_ignores_static_scene_and_noise_but_sees_a_truck() -> None:
    gate = ChangeGate()
    assert gate.check(driveway()).first
    quiet = [gate.check(f) for f in [driveway(), noisy(1), noisy(2, brightness=-10), noisy(3, brightness=15), driveway()]]
    assert not any(r.changed for r in quiet), quiet
    arrived = gate.check(truck())
    assert arrived.changed and arrived.score > 0.05
    assert not gate.check(truck()).changed  # a parked truck is not news


def test_gate_zone_mask_ignores_changes_outside_the_zone() -> None:
    gate = ChangeGate(zone=[[(0.0, 0.0), (0.25, 0.0), (0.25, 0.3), (0.0, 0.3)]])  # top-left corner only
    gate.check(driveway())
    assert not gate.check(truck()).changed


def test_camera_config_collects_camera_tables() -> None:
    cfg = CameraConfig(keep_days=2, drive={"url": "http://cam/snap.jpg"}, door={"type": "homeassistant",
                                                                                           "entity": "camera.front_door"})
    assert set(cfg.cameras) == {"drive", "door"}
    with pytest.raises(ValueError):
        CameraConfig(bad={"type": "http"})


def test_media_tokens_sign_verify_expire(tmp_path: Path) -> None:
    key = b"k" * 32
    assert verify(key, "drive-" + "a" * 32, sign(key, "drive-" + "a" * 32, int(time.time()) + 60))
    assert not verify(key, "drive-" + "a" * 32, sign(key, "drive-" + "a" * 32, int(time.time()) - 1))
    assert not verify(key, "drive-" + "b" * 32, sign(key, "drive-" + "a" * 32, int(time.time()) + 60))
    assert not verify(b"x" * 32, "drive-" + "a" * 32, sign(key, "drive-" + "a" * 32, int(time.time()) + 60))
    assert not verify(key, "drive-" + "a" * 32, "garbage")
    store = MediaStore(tmp_path, key, 60, keep_days=1)
    old, new = store.save("drive", b"\xff\xd8\xffold"), store.save("drive", b"\xff\xd8\xffnew")
    past = time.time() - 2 * 86400
    os.utime(tmp_path / f"{old}.jpg", (past, past))
    assert store.prune() == 1
    assert store.path(old) is None and store.path(new) is not None
    assert store.path("../../etc/passwd") is None


def test_mqtt_parse_accepts_frigate_payloads_and_rejects_junk() -> None:
    event, also = parse("frigate/events", event_message("ev1", "drive", "car").encode(), "frigate")  # type: ignore[misc]
    assert (event.id, event.camera, event.label, also) == ("ev1", "drive", "car", ())
    event, also = parse("frigate/reviews", review_message("r1", "drive", ["ev1", "ev2"], ["car"]), "frigate")  # type: ignore[misc]
    assert (event.id, also) == ("ev1", ("r1", "ev2"))
    for junk in [b"not json", b"[]", b'{"type": "new"}', b'{"type": "boom", "after": {}}', b"\xff\xfe",
                 b'{"type": "new", "after": {"id": 3}}']:
        with pytest.raises((ValueError, UnicodeDecodeError)):
            parse("frigate/events", junk, "frigate")
    assert parse("frigate/stats", b"{}", "frigate") is None


def test_parse_verdict_tolerates_fences_and_rejects_prose() -> None:
    v = parse_verdict('```json\n{"match": true, "confidence": 0.8, "description": "A van."}\n```')
    assert v.match and v.confidence == 0.8 and v.description == "A van."
    assert parse_verdict('{"match": "no", "confidence": 7}').confidence == 1.0
    with pytest.raises(VisionError):
        parse_verdict("I think there is a truck")


def test_cloud_vision_refusal() -> None:
    assert is_local_url("http://127.0.0.1:11434/v1") and is_local_url("http://ollama.lan:11434/v1")
    assert is_local_url("http://192.168.1.20:8080") and is_local_url("http://gpu-box:11434/v1")
    assert not is_local_url("https://api.openai.com/v1") and not is_local_url(None)
    cloud = ProviderSettings(provider="anthropic", api_key="sk-ant-x")
    reason = cloud_refusal(cloud, allow_cloud=False)
    assert reason and "allow_cloud_vision = false" in reason and "api.anthropic.com" in reason
    assert cloud_refusal(cloud, allow_cloud=True) is None
    local = ProviderSettings(provider="openai", base_url="http://127.0.0.1:11434/v1", model="llava")
    assert cloud_refusal(local, allow_cloud=False) is None


async def test_http_source_auth_and_failures() -> None:
    with FakeCamera(username="admin", password="pw") as cam:
        ok = HttpSource("drive", CameraSource(url=cam.url, username="admin", password="pw"), 8_000_000)
        bad = HttpSource("drive", CameraSource(url=cam.url, username="admin", password="nope"), 8_000_000)
        try:
            assert (await ok.snapshot()).startswith(b"\xff\xd8")
            with pytest.raises(SourceError, match="refused the credentials"):
                await bad.snapshot()
            cam.show(NotJpeg())
            with pytest.raises(SourceError, match="did not send a JPEG .*text/html"):
                await ok.snapshot()
            for huge in (Huge(), Huge(declare_length=True)):
                cam.show(huge)
                with pytest.raises(SourceError, match="more than a snapshot"):
                    await ok.snapshot()
            cam.show(Status(503))
            with pytest.raises(SourceError, match="HTTP 503"):
                await ok.snapshot()
        finally:
            await ok.close()
            await bad.close()
    with FakeCamera(username="admin", password="pw", auth="digest") as cam:
        digest = HttpSource("drive", CameraSource(url=cam.url, username="admin", password="pw", auth="digest"), 8_000_000)
        basic = HttpSource("drive", CameraSource(url=cam.url, username="admin", password="pw"), 8_000_000)
        try:
            assert (await digest.snapshot()).startswith(b"\xff\xd8")
            with pytest.raises(SourceError, match="refused the credentials"):
                await basic.snapshot()
        finally:
            await digest.close()
            await basic.close()
    gone = HttpSource("drive", CameraSource(url="http://127.0.0.1:9/snap.jpg", timeout=2), 8_000_000)
    with pytest.raises(SourceError, match="unreachable"):
        await gone.snapshot()
    await gone.close()


async def test_home_assistant_source_uses_the_home_providers_url_and_token() -> None:
    ha = FakeHomeAssistant()
    await ha.start()
    try:
        home = SimpleNamespace(providers={"homeassistant": SimpleNamespace(url=ha.url, token=ha.token)})
        src = HomeAssistantSource("door", CameraSource(type="homeassistant", entity="camera.front_door"), 8_000_000,
                                  Shared(home=home))
        assert (await src.snapshot()).startswith(b"\xff\xd8")
        missing = HomeAssistantSource("x", CameraSource(type="homeassistant", entity="camera.front_door"), 8_000_000,
                                      Shared())
        with pytest.raises(SourceError, match="needs Home Assistant"):
            await missing.snapshot()
        await src.close()
        await missing.close()
    finally:
        await ha.stop()


async def test_frigate_source_latest_events_and_event_snapshot() -> None:
    with FakeFrigate() as fr:
        fr.add_event("e1", "drive", "car", truck(), start=100.0)
        fr.add_event("e2", "drive", "person", driveway(), start=200.0)
        fr.add_event("e3", "other", "car", driveway(), start=300.0)
        src = FrigateSource("drive", CameraSource(type="frigate", url=fr.url), 8_000_000)
        assert (await src.snapshot()).startswith(b"\xff\xd8")
        assert [e.id for e in await src.events(after=0)] == ["e1", "e2"]
        assert [e.id for e in await src.events(after=0, labels=["car"])] == ["e1"]
        assert await src.event_snapshot("e1") == truck()
        await src.close()


async def test_rtsp_without_ffmpeg_says_so() -> None:
    if shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is installed here; the missing-ffmpeg message cannot be shown")
    src = RtspSource("gate", CameraSource(type="rtsp", url="rtsp://127.0.0.1:8554/cam"), 8_000_000)
    with pytest.raises(SourceError, match="needs ffmpeg, which is not installed"):
        await src.snapshot()


class _NoTasks:
    """Only what judging a frame asks of the daemon's tasks: may it run, and keep its state."""

    async def may_run(self, task_id: int) -> None:
        return None

    async def save_state(self, task_id: int, state: object) -> None:
        return None


class _ScriptedVision:
    label = "scripted"

    def __init__(self, *answers: bool):
        self.answers = list(answers)

    async def ask(self, jpeg: bytes, question: str, camera: str, task_id: int | None = None) -> Verdict:
        yes = self.answers.pop(0)
        return Verdict(yes, 0.9, "a truck" if yes else "empty")


class _Alerts:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def alert(self, watch_id: int, camera: str, label: str, question: str, jpeg: bytes, verdict: Verdict) -> str:
        self.sent.append(verdict.description)
        return verdict.description


async def test_once_per_arrival_and_cooldown() -> None:
    """yes -> alert; yes again (same arrival) -> quiet; no -> the arrival is over; yes within the cooldown -> quiet."""
    cam = Camera("drive", CameraSource(url="http://x/s.jpg"), SimpleNamespace())  # type: ignore[arg-type]
    for cooldown, expected in [(600.0, 1), (0.0, 2)]:
        alerts = _Alerts()
        engine = WatchEngine(_NoTasks(), {"drive": cam}, _ScriptedVision(True, True, False, True, True),  # type: ignore[arg-type]
                             alerts, frigate_polling=False)  # type: ignore[arg-type]
        w = Watcher(1, "drive", "truck?", "poll", 1.0, [], 0.6, cooldown)
        for _ in range(5):
            await engine.judge(w, cam, b"")
        assert len(alerts.sent) == expected and w.state.checks == 5


async def test_checks_per_hour_cap_tells_the_owner_once() -> None:
    cam = Camera("drive", CameraSource(url="http://x/s.jpg"), SimpleNamespace())  # type: ignore[arg-type]
    alerts = _Alerts()
    told: list[str] = []

    async def tell(text: str, **meta: object) -> None:
        told.append(text)

    alerts.tell = tell  # type: ignore[attr-defined]
    engine = WatchEngine(_NoTasks(), {"drive": cam}, _ScriptedVision(*[False] * 3), alerts,  # type: ignore[arg-type]
                         frigate_polling=False, max_checks_per_hour=3)
    w = Watcher(1, "drive", "truck?", "poll", 1.0, [], 0.6, 0)
    for _ in range(6):
        await engine.judge(w, cam, b"")
    assert w.state.checks == 3 and len(told) == 1 and "max_checks_per_hour" in told[0]
