"""Fixtures for the camera tests: fake camera, fake Frigate, a real mosquitto broker, a vision-aware fake LLM."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import anthropic_config
from tests.fakes.camera import FakeCamera
from tests.fakes.frigate import FakeFrigate
from tests.fakes.llm import FakeLLM, RecordedRequest, Reply
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.harness import Daemon, free_port, wait_until  # noqa: F401 - re-exported to the tests here

PUBLIC_URL = "https://claw.example.net"
FROM = "+14155238886"
OWNER = "+15551234567"
TWILIO_ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


def is_vision(req: RecordedRequest) -> bool:
    return "security camera" in req.system_text()


def vision_requests(fake: FakeLLM) -> list[RecordedRequest]:
    return [r for r in fake.requests if is_vision(r)]


def sees_truck(req: RecordedRequest) -> bool:
    """The fake vision model really looks: the truck's purple cargo box fills the middle of the frame."""
    block = req.images()[0]
    data = block["source"]["data"] if block.get("type") == "image" else block["image_url"]["url"].split(",", 1)[1]
    img = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    w, h = img.size
    purple = 0
    for fx in (0.4, 0.45, 0.5):
        r, g, b = img.getpixel((int(w * fx), int(h * 0.6)))
        purple += b > 110 and g < 80 and r < 130
    return purple >= 2


def vision_responder(req: RecordedRequest) -> Reply:
    """Answer vision prompts from the picture; anything else gets a short chat reply."""
    if not is_vision(req):
        return Reply(text="OK.")
    if sees_truck(req):
        answer = {"match": True, "confidence": 0.93, "description": "A purple delivery truck is in the driveway."}
    else:
        answer = {"match": False, "confidence": 0.9, "description": "The driveway is empty."}
    return Reply(text=json.dumps(answer))


@pytest.fixture
def vision_llm(fake_llm: FakeLLM) -> FakeLLM:
    fake_llm.responder = vision_responder
    return fake_llm


@pytest.fixture
def camera() -> Iterator[FakeCamera]:
    with FakeCamera() as cam:
        yield cam


@pytest.fixture
def frigate() -> Iterator[FakeFrigate]:
    with FakeFrigate() as f:
        yield f


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[int]:
    """A real MQTT broker on 127.0.0.1 with a free port; yields the port."""
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (Debian package 'mosquitto'; .ci/run installs it)")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"mosquitto exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.05)
    yield port
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


def publish(port: int, topic: str, payload: str | bytes) -> None:
    import paho.mqtt.publish as mqtt_publish

    mqtt_publish.single(topic, payload, hostname="127.0.0.1", port=port, qos=1)


def whatsapp_table(tw: FakeTwilio) -> str:
    return (f'[whatsapp]\nfrom_number = "{FROM}"\npublic_url = "{PUBLIC_URL}"\napi_base = "{tw.url}"\n'
            f'allowed = ["{OWNER}"]\nstatus_check_seconds = 0\n')


def camera_config(llm: FakeLLM, cameras: dict[str, dict[str, Any]], camera: str = "", extra: str = "") -> str:
    tables = []
    for name, opts in cameras.items():
        body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in opts.items())
        tables.append(f"[camera.{name}]\n{body}\n")
    return anthropic_config(llm, extra=f"{extra}\n[camera]\n{camera}\n" + "\n".join(tables))




def camera_health(d: Daemon) -> dict[str, Any]:
    return httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=5).json()["components"]["skills"]["camera"]


def owner_notes(d: Daemon) -> list[str]:
    return [m["text"] for m in d.messages("owner") if m["role"] == "assistant"]
