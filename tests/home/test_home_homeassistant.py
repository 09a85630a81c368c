"""The Home Assistant provider against the fake Home Assistant, over real HTTP and WebSocket."""

from __future__ import annotations

import httpx
import pytest
import structlog

from skills.home.homeassistant import HomeAssistantProvider
from skills.home.provider import HomeError
from skills.home.registry import HomeRegistry
from tests.fakes.homeassistant import FakeHomeAssistant
from tests.home.support import eventually


async def connect(ha: FakeHomeAssistant, token: str | None = None):
    registry = HomeRegistry(structlog.get_logger())
    provider = HomeAssistantProvider(ha.url, token or ha.token, log=structlog.get_logger(), timeout=5, backoff=(0.05, 0.2))
    registry.add_provider(provider)
    await provider.start(registry)
    return registry, provider


async def test_sync_states_areas_floors_and_registry(fake_ha):
    registry, provider = await connect(fake_ha)
    try:
        assert provider.health()["ok"], provider.health()
        assert provider.health()["version"] == "2025.1.0"
        kitchen = registry.get("light.kitchen")
        assert kitchen.name == "Kitchen Light"
        assert kitchen.area == "kitchen"  # from its device's area
        assert registry.get("switch.coffee_machine").area == "kitchen"  # from the entity's own area
        assert registry.get("sensor.hue_bulb_signal") is None  # diagnostic entities are left out
        assert {a.id: a.floor for a in registry.areas()}["bedroom"] == "upstairs"
        assert [e.entity_id for e in registry.resolve("lights downstairs")] == [
            "light.kitchen", "light.kitchen_spots", "light.living_room"
        ]
        assert [e.entity_id for e in registry.resolve("lounge lamp")] == ["light.living_room"]
        commands = [c["type"] for c in fake_ha.ws_commands]
        assert "subscribe_events" in commands and commands.index("subscribe_events") < commands.index("get_states")
    finally:
        await provider.stop()


async def test_service_call_reaches_home_assistant_with_entity_and_data(fake_ha):
    registry, provider = await connect(fake_ha)
    try:
        await registry.call_service("light.turn_on", ["light.kitchen"], {"brightness_pct": 30})
        call = fake_ha.calls[-1]
        assert (call.domain, call.service) == ("light", "turn_on")
        assert call.service_data == {"entity_id": ["light.kitchen"], "brightness_pct": 30}
        # the REST answer's changed states are applied at once
        assert registry.get("light.kitchen").state == "on"
        assert registry.get("light.kitchen").attributes["brightness"] == 76
    finally:
        await provider.stop()


async def test_state_changed_events_update_the_registry(fake_ha):
    registry, provider = await connect(fake_ha)
    seen = []
    registry.subscribe(lambda e, old, new: seen.append((e.entity_id, old and old.state, new and new.state)))
    try:
        fake_ha.set_state("cover.garage_door", "open")
        await eventually(lambda: registry.get("cover.garage_door").state == "open", "garage door event")
        assert ("cover.garage_door", "closed", "open") in seen
        fake_ha.set_state("light.new_lamp", "on", {"friendly_name": "New Lamp"})
        await eventually(lambda: registry.get("light.new_lamp") is not None, "new entity")
        version = registry.version
        fake_ha.set_state("light.new_lamp", "on", {"friendly_name": "Reading Lamp"})
        await eventually(lambda: registry.get("light.new_lamp").name == "Reading Lamp", "rename")
        assert registry.version > version
        fake_ha.remove_state("light.new_lamp")
        await eventually(lambda: registry.get("light.new_lamp") is None, "removal")
        fake_ha.rename_area("garage", "Workshop")
        await eventually(lambda: registry.area("garage").name == "Workshop", "area rename")
    finally:
        await provider.stop()


async def test_bad_token_is_reported_not_raised(fake_ha):
    registry, provider = await connect(fake_ha, token="wrong")
    try:
        health = registry.health()
        assert not health["ok"]
        assert "rejected the access token" in health["providers"]["homeassistant"]["detail"]
        assert fake_ha.auth_failures >= 1
    finally:
        await provider.stop()
    # a REST call with a bad token gets 401 and a clear error
    bad = HomeAssistantProvider(fake_ha.url, "wrong", timeout=5)
    registry2 = HomeRegistry()
    await bad.start(registry2)
    try:
        with pytest.raises(HomeError, match="401"):
            await bad.call_service("light", "turn_on", ["light.kitchen"], {})
    finally:
        await bad.stop()


async def test_restart_reconnects_and_recovers(fake_ha):
    registry, provider = await connect(fake_ha)
    try:
        assert provider.connections == 1
        await fake_ha.stop()
        await eventually(lambda: not provider.health()["ok"], "health to show the outage")
        with pytest.raises(HomeError, match="not reachable"):
            await registry.call_service("light.turn_on", ["light.bedroom"])
        assert registry.get("light.bedroom") is not None  # last known state is kept meanwhile
        fake_ha.states["light.bedroom"]["state"] = "on"  # changed while we were away
        await fake_ha.start()
        await eventually(lambda: provider.connections == 2 and provider.health()["ok"], "reconnection")
        assert registry.get("light.bedroom").state == "on"
        await registry.call_service("light.turn_off", ["light.bedroom"])
        assert fake_ha.calls[-1].service_data == {"entity_id": ["light.bedroom"]}
    finally:
        await provider.stop()


async def test_unreachable_at_start_is_health_not_crash():
    ha = FakeHomeAssistant()
    await ha.start()
    url = ha.url
    await ha.stop()
    registry = HomeRegistry()
    provider = HomeAssistantProvider(url, ha.token, timeout=2, backoff=(0.05, 0.2))
    await provider.start(registry)
    try:
        assert not provider.health()["ok"]
        assert "not reachable" in provider.health()["detail"]
        await ha.start()  # comes up later: picked up without a restart of ours
        await eventually(lambda: provider.health()["ok"], "late connection")
        assert registry.get("light.kitchen") is not None
    finally:
        await provider.stop()
        await ha.stop()


async def test_older_home_assistant_without_floors():
    ha = FakeHomeAssistant(supports_floors=False)
    await ha.start()
    registry, provider = await connect(ha)
    try:
        assert provider.health()["ok"]
        assert registry.area("kitchen").floor == "ground_floor"
    finally:
        await provider.stop()
        await ha.stop()


async def test_fake_serves_camera_snapshots(fake_ha):
    async with httpx.AsyncClient(base_url=fake_ha.url) as client:
        ok = await client.get("/api/camera_proxy/camera.front_door", headers={"Authorization": f"Bearer {fake_ha.token}"})
        denied = await client.get("/api/camera_proxy/camera.front_door")
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/jpeg"
    assert ok.content[:2] == b"\xff\xd8" and ok.content[-2:] == b"\xff\xd9"
    assert denied.status_code == 401


async def test_set_the_heat_reaches_the_only_thermostat_locally_and_through_the_tool(fake_ha, tmp_path):
    """The README's "set the heat to 21": Home Assistant's one climate entity is named "Thermostat"."""
    from zoneinfo import ZoneInfo

    from claw.skill import IncomingMessage, Shared, SkillContext
    from skills.home import Home, HomeConfig
    from skills.intents.skill import IntentsConfig, LocalIntents
    from tests.home.support import noop, tool_ctx

    ctx = SkillContext("home", ZoneInfo("UTC"), tmp_path, structlog.get_logger(), noop, Shared())
    home = Home(HomeConfig(homeassistant={"url": fake_ha.url, "token": fake_ha.token}), ctx)
    await home.setup()
    try:
        control = next(t for t in home.tools() if t.name == "home_control")
        for target in ("heat", "the heating", "thermostat"):
            fake_ha.calls.clear()
            await control.invoke(control.validate({"target": target, "action": "set", "temperature": 21}), tool_ctx())
            assert [(c.domain, c.service, c.entity_ids) for c in fake_ha.calls] == \
                [("climate", "set_temperature", ["climate.hall"])], target
        intents = LocalIntents(IntentsConfig(), SkillContext("intents", ZoneInfo("UTC"), tmp_path, structlog.get_logger(),
                                                             noop, ctx.shared))
        await intents.setup()
        for llm in (True, False):
            fake_ha.calls.clear()
            reply = await intents.intercept(IncomingMessage("set the heat to 22", "c1", "owner", "web", True, llm))
            assert reply is not None and [s.entity_ids for s in reply.services] == [["climate.hall"]]
            assert fake_ha.calls[-1].service_data["temperature"] == 22
    finally:
        await home.close()
