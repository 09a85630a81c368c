"""End to end: ``claw serve`` in a subprocess, the fake LLM calling the home tools, real protocol fakes.

Home Assistant is the aiohttp fake run on its own event loop in a thread (the
tests talk to the daemon with blocking HTTP); Sonos speakers answer SOAP on
127.0.0.2/3:1400; discovery only ever looks at 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from skills.home import HomeConfig
from tests.conftest import anthropic_config
from tests.fakes.homeassistant import FakeHomeAssistant
from tests.fakes.llm import Reply, ToolUse
from tests.fakes.mdns import FakeMdnsService
from tests.fakes.sonos import FakeSonos, FakeSonosSystem
from tests.harness import Daemon

# Fake speakers listen on fixed loopback addresses (127.0.0.2:1400 ...): one such test at a time.
pytestmark = pytest.mark.usefixtures("fixed_loopback_ports")

HA_TOKEN = "ha-e2e-secret-token-7f3a9c1d"
KITCHEN, LIVING = "127.0.0.2", "127.0.0.3"
REPO = Path(__file__).resolve().parents[2]
# These tests are about the model calling the home tools: the local fast path (skills/intents) would
# answer some of the same sentences without the model, depending on when its matcher finished loading.
LLM_ONLY = "[agent]\nlocal_intents = false"


class ThreadedHA:
    """A FakeHomeAssistant on its own event loop, so blocking test code can drive the daemon meanwhile."""

    def __init__(self, token: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-ha", daemon=True)
        self.thread.start()
        self.ha = FakeHomeAssistant(token=token)

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def start(self) -> None:
        self._run(self.ha.start())

    def stop(self) -> None:
        self._run(self.ha.stop())

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def ha() -> Iterator[ThreadedHA]:
    fake = ThreadedHA(HA_TOKEN)
    fake.start()
    yield fake
    fake.close()


def home_health(d: Daemon) -> dict[str, Any]:
    return httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=5).json()["components"]["skills"]["home"]


def wait_until(condition: Any, what: str, limit: float = 20.0) -> None:
    """A deadline against hangs, not a timing assertion."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def api_home(d: Daemon) -> dict[str, Any]:
    r = httpx.get(f"{d.url}/api/home", headers=d.auth(), timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def entity(snapshot: dict[str, Any], entity_id: str) -> dict[str, Any]:
    return next(e for e in snapshot["entities"] if e["entity_id"] == entity_id)


def test_home_assistant_conversation(fake_llm, daemon_factory, ha):
    """Dim, ambiguity, unlock with confirmation, HA going away and coming back; the token never leaks."""
    fake = ha.ha
    config = anthropic_config(fake_llm, extra=f"""
[claw]
log_level = "debug"

{LLM_ONLY}

[home.homeassistant]
url = "{fake.url}"
token = "{HA_TOKEN}"
timeout = 3
""")
    fake_llm.script(
        Reply(tool_calls=[ToolUse("home_control", {"target": "kitchen light", "action": "set", "brightness": 30})]),
        Reply(text="The kitchen is at 30%."),
    )
    d = daemon_factory(config)
    replies: list[str] = []
    assert home_health(d)["ok"] is True

    # "dim the kitchen to 30%" reaches Home Assistant as light.turn_on with the entity and brightness
    out = d.say("dim the kitchen to 30%")
    replies.append(out["reply"])
    assert out["reply"] == "The kitchen is at 30%." and out["handled_by"] == "llm"
    assert out["services"] == [
        {"service": "light.turn_on", "entity_ids": ["light.kitchen"], "data": {"brightness_pct": 30}, "ok": True}
    ]
    assert [(a["tool"], a["ok"]) for a in out["actions"]] == [("home_control", True)]
    assert out["actions"][0]["args"] == {"target": "kitchen light", "action": "set", "brightness": 30}
    [call] = fake.calls
    assert (call.domain, call.service) == ("light", "turn_on")
    assert call.service_data == {"entity_id": ["light.kitchen"], "brightness_pct": 30}
    assert "Kitchen Light" in fake_llm.requests[1].tool_results()[0].content
    assert entity(api_home(d), "light.kitchen")["state"] == "on"

    # "set the heat to 21" (a README example): the model says "heat", the home's only thermostat is "Thermostat"
    fake_llm.script(
        Reply(tool_calls=[ToolUse("home_control", {"target": "heat", "action": "set", "temperature": 21})]),
        Reply(text="The heating is set to 21."),
    )
    out = d.say("set the heat to 21")
    assert out["services"] == [{"service": "climate.set_temperature", "entity_ids": ["climate.hall"],
                                "data": {"temperature": 21.0}, "ok": True}], out
    assert [c.entity_ids for c in fake.calls_to("climate", "set_temperature")] == [["climate.hall"]]
    fake.calls.clear()

    # an ambiguous name goes back to the model as a question listing the candidates; nothing is switched
    fake_llm.script(
        Reply(tool_calls=[ToolUse("home_control", {"target": "lamp", "action": "on"})]),
        Reply(text="Which lamp: Kitchen Light, Kitchen Spots, Living Room Lamp or Bedroom Light?"),
    )
    before = len(fake.calls)
    out = d.say("turn on the lamp")
    replies.append(out["reply"])
    result = fake_llm.requests[-1].tool_results()[0]
    assert result.is_error
    for name in ("Kitchen Light", "Kitchen Spots", "Living Room Lamp", "Bedroom Light"):
        assert name in result.content
    assert "which one" in result.content
    assert len(fake.calls) == before and out["services"] == []
    assert out["actions"][0]["ok"] is False

    # unlocking waits for the owner's yes, which then reaches Home Assistant as lock.unlock
    fake_llm.script(Reply(text="I'll unlock it.", tool_calls=[ToolUse("home_control", {"target": "front door", "action": "unlock"})]))
    requests_before = len(fake_llm.requests)
    out = d.say("unlock the front door")
    replies.append(out["reply"])
    assert "Reply yes to confirm" in out["reply"]
    assert out["actions"][0].get("pending_confirmation") is True
    assert not fake.calls_to("lock", "unlock") and out["services"] == []
    out = d.say("yes")
    replies.append(out["reply"])
    assert out["handled_by"] == "confirm" and out["reply"] == "Unlocked the Front Door."
    assert [c.entity_ids for c in fake.calls_to("lock", "unlock")] == [["lock.front_door"]]
    assert out["services"] == [{"service": "lock.unlock", "entity_ids": ["lock.front_door"], "data": {}, "ok": True}]
    assert len(fake_llm.requests) == requests_before + 1  # the yes costs no LLM call

    # Home Assistant goes away mid-conversation: the tool says so, the reply is honest, nothing crashes
    ha.stop()
    wait_until(lambda: home_health(d)["ok"] is False, "health to show Home Assistant down")
    fake_llm.script(
        Reply(tool_calls=[ToolUse("home_control", {"target": "kitchen light", "action": "off"})]),
        Reply(text="I can't reach Home Assistant right now, so the kitchen light is unchanged."),
    )
    out = d.say("turn off the kitchen light")
    replies.append(out["reply"])
    result = fake_llm.requests[-1].tool_results()[0]
    assert result.is_error and "Home Assistant is not reachable" in result.content
    assert out["reply"].startswith("I can't reach Home Assistant")
    assert out["services"] == [{"service": "light.turn_off", "entity_ids": ["light.kitchen"], "data": {}, "ok": False,
                                "error": out["services"][0]["error"]}]
    assert "not reachable" in out["services"][0]["error"]

    # ... and recovery when it returns: the provider reconnects and the next command works
    ha.start()
    wait_until(lambda: home_health(d)["ok"] is True, "the Home Assistant provider to reconnect")
    fake_llm.script(
        Reply(tool_calls=[ToolUse("home_control", {"target": "kitchen light", "action": "off"})]),
        Reply(text="Kitchen light off."),
    )
    out = d.say("try again")
    replies.append(out["reply"])
    assert out["services"] == [{"service": "light.turn_off", "entity_ids": ["light.kitchen"], "data": {}, "ok": True}]
    assert [c.entity_ids for c in fake.calls_to("light", "turn_off")] == [["light.kitchen"]]
    assert entity(api_home(d), "light.kitchen")["state"] == "off"

    # the Home Assistant token never shows: not in logs, replies, the transcript, the model's input, the API
    assert fake.auth_failures == 0
    exposed = [json.dumps(d.messages()), json.dumps(api_home(d)), httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=5).text]
    d.stop()
    logs = d.logs()
    assert "home.homeassistant_down" in logs  # the logs did cover the outage
    assert HA_TOKEN not in logs
    assert all(HA_TOKEN not in text for text in replies + exposed)
    assert all(HA_TOKEN not in json.dumps(req.body) for req in fake_llm.requests)


def test_demo_home_snapshot_and_live_state(fake_llm, daemon_factory):
    """With no [home] table the demo house is loaded; GET /api/home has the issue's shape and follows commands."""
    d = daemon_factory(anthropic_config(fake_llm, extra=LLM_ONLY))
    snap = api_home(d)
    assert set(snap) == {"areas", "entities"}
    assert all(set(a) == {"id", "name", "floor"} for a in snap["areas"])
    area_ids = {a["id"] for a in snap["areas"]}
    assert {"kitchen", "living_room", "bedroom", "office", "garage", "front_door"} <= area_ids
    assert all(set(e) == {"entity_id", "name", "area", "state", "summary", "attributes", "simulated"}
               for e in snap["entities"])
    assert all(e["simulated"] is True for e in snap["entities"])  # the demo house never passes for a real one
    assert all(e["area"] is None or e["area"] in area_ids for e in snap["entities"])
    assert all(isinstance(e["attributes"], dict) for e in snap["entities"])
    domains = {e["entity_id"].split(".")[0] for e in snap["entities"]}
    assert {"light", "climate", "media_player", "cover", "lock", "camera", "switch"} <= domains
    assert entity(snap, "light.kitchen")["attributes"].get("brightness") != round(255 * 40 / 100)
    r = httpx.get(f"{d.url}/api/home", timeout=5)
    assert r.status_code == 401

    fake_llm.script(
        Reply(tool_calls=[ToolUse("home_control", {"target": "kitchen light", "action": "on", "brightness": 40})]),
        Reply(text="Kitchen light on at 40%."),
    )
    out = d.say("kitchen light on, 40 percent")
    assert out["services"] == [
        {"service": "light.turn_on", "entity_ids": ["light.kitchen"], "data": {"brightness_pct": 40}, "ok": True}
    ]
    light = entity(api_home(d), "light.kitchen")
    assert light["state"] == "on" and light["attributes"]["brightness"] == round(255 * 40 / 100)


@pytest.fixture
def speakers() -> Iterator[FakeSonosSystem]:
    system = FakeSonosSystem([FakeSonos(KITCHEN, "Kitchen"), FakeSonos(LIVING, "Living Room")])
    system.start()
    yield system
    system.stop()


def test_sonos_music_and_discover_tool(fake_llm, daemon_factory, speakers):
    """ "play Jazz FM in the living room" reaches that speaker only; "find my Sonos" finds them on loopback."""
    config = anthropic_config(fake_llm, extra=f"""
{LLM_ONLY}

[home.sonos]
hosts = ["{KITCHEN}", "{LIVING}"]
discover = false
scan_network = false
timeout = 2

[home.discovery]
timeout = 1.5
subnets = ["127.0.0.0/29"]
interfaces = ["127.0.0.1"]
""")
    fake_llm.script(
        Reply(tool_calls=[ToolUse("music", {"action": "play", "room": "living room", "query": "Jazz FM"})]),
        Reply(text="Jazz FM is playing in the living room."),
    )
    d = daemon_factory(config)
    out = d.say("play Jazz FM in the living room")
    assert out["reply"] == "Jazz FM is playing in the living room."
    [service] = out["services"]
    assert service["service"] == "media_player.play_media" and service["ok"] is True
    assert service["data"]["media_content_id"] == "Jazz FM"
    [speaker_id] = service["entity_ids"]
    living_uris = [a.args.get("CurrentURI", "") for a in speakers[LIVING].actions_named("SetAVTransportURI")]
    assert any("s8007" in uri for uri in living_uris), living_uris  # Jazz FM's stream
    assert speakers[LIVING].actions_named("Play")
    assert not speakers[KITCHEN].actions_named("SetAVTransportURI") and not speakers[KITCHEN].actions_named("Play")
    snap = api_home(d)
    assert entity(snap, speaker_id)["name"] == "Living Room"
    assert sorted(e["name"] for e in snap["entities"]) == ["Kitchen", "Living Room"]  # no demo house with Sonos

    fake_llm.script(Reply(tool_calls=[ToolUse("discover", {})]), Reply(text="I found your two Sonos speakers."))
    out = d.say("find my Sonos")
    assert out["actions"][0]["tool"] == "discover" and out["actions"][0]["ok"] is True
    found = fake_llm.requests[-1].tool_results()[0].content
    assert "Sonos speaker: Kitchen at 127.0.0.2:1400" in found
    assert "Sonos speaker: Living Room at 127.0.0.3:1400" in found
    assert "(in use)" in found and "Nothing new to adopt" in found


def run_claw(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAW_", "ANTHROPIC_", "OPENAI_"))}
    env["CLAW_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "claw", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=60)


def test_claw_discover_finds_the_mdns_service_on_loopback(tmp_path):
    service = FakeMdnsService("_sonos._tcp.local.", "Kitchen", KITCHEN, 1400).start()
    (tmp_path / "config.toml").write_text("[home.discovery]\nmdns = true  # given subnets turn multicast off unless set\n")
    try:
        r = run_claw("discover", "--timeout", "4", "--subnet", "127.0.0.1/32", "--interface", "127.0.0.1",
                     home=tmp_path)
    finally:
        service.stop()
    assert r.returncode == 0, r.stderr
    assert "Sonos speaker: Kitchen at 127.0.0.2:1400 (via mdns" in r.stdout
    assert '[home.sonos]\nhosts = ["127.0.0.2"]' in r.stdout

    bad = run_claw("discover", "--subnet", "not-a-network", home=tmp_path)
    assert bad.returncode != 0 and "not a network" in bad.stderr


def test_config_example_home_section_is_valid():
    """Every commented [home] option in config.example.toml, switched on, is accepted by the home skill."""
    lines = []
    for line in (REPO / "config.example.toml").read_text().splitlines():
        stripped = line.lstrip()
        if stripped.startswith("# ") and (stripped[2:].startswith("[") or "=" in stripped.split("#")[1]):
            candidate = stripped[2:]
            if candidate.startswith("[") or candidate.split("=")[0].strip().replace("_", "").isalnum():
                line = candidate
        lines.append(line)
    table = tomllib.loads("\n".join(lines))["home"]
    config = HomeConfig(**table)
    assert config.homeassistant is not None and config.sonos is not None
    assert set(table) == set(HomeConfig.model_fields)
    assert set(table["homeassistant"]) == set(type(config.homeassistant).model_fields)
    assert set(table["sonos"]) == set(type(config.sonos).model_fields)
    assert set(table["discovery"]) == set(type(config.discovery).model_fields)
