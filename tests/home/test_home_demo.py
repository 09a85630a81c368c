"""The simulated home: its file format (errors naming the line) and plausible devices."""

from __future__ import annotations

import pytest

from skills.home.demo import DemoProvider, HomeFileError, parse_home
from skills.home.provider import HomeError
from skills.home.registry import HomeRegistry

GOOD = """\
areas:
  - {id: kitchen, name: Kitchen, floor: ground, aliases: [cooking area]}
  - {id: hall, name: Hall, floor: ground}
entities:
  - {id: light.kitchen, name: Kitchen Light, area: kitchen, state: "off", attributes: {brightness: 0}}
  - {id: climate.hall, name: Thermostat, area: hall, state: heat, attributes: {temperature: 20, current_temperature: 19.5, hvac_modes: [off, heat, cool, auto]}}
  - {id: switch.kettle, name: Kettle, area: kitchen, state: off}
"""


def test_issue_format_parses_with_off_as_text():
    home = parse_home(GOOD, "home.yaml")
    assert [a.id for a in home.areas] == ["kitchen", "hall"]
    thermostat = home.entities[1]
    assert thermostat.attributes["hvac_modes"] == ["off", "heat", "cool", "auto"]
    assert home.entities[2].state == "off"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GOOD.replace("name: Kitchen Light", "nmae: Kitchen Light"), 5, "unknown key 'nmae'"),
        (GOOD.replace("id: light.kitchen", "id: Light Kitchen"), 5, "bad entity id"),
        (GOOD.replace("id: switch.kettle", "id: kettle"), 7, "bad entity id"),
        (GOOD.replace("area: hall, state: heat", "area: hallway, state: heat"), 6, "unknown area 'hallway'"),
        (GOOD.replace("areas:", "rooms:"), 1, "unknown key 'rooms'"),
        (GOOD + "  - {id: light.kitchen, name: Again}\n", 8, "defined twice"),
        (GOOD.replace("{id: hall, name: Hall, floor: ground}", "{id: hall, name: [Hall"), 4, ""),
    ],
)
def test_errors_name_the_line(text, line, words):
    with pytest.raises(HomeFileError) as err:
        parse_home(text, "home.yaml")
    assert f"home.yaml line {line}" in str(err.value)
    assert words in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(HomeFileError, match="cannot read home file"):
        DemoProvider(tmp_path / "nope.yaml")


async def test_custom_home_file_loads(tmp_path):
    path = tmp_path / "home.yaml"
    path.write_text(GOOD)
    registry = HomeRegistry()
    provider = DemoProvider(path, tick_seconds=None)
    registry.add_provider(provider)
    await provider.start(registry)
    assert [e.entity_id for e in registry.resolve("kettle")] == ["switch.kettle"]
    await registry.call_service("switch.turn_on", ["switch.kettle"])
    assert registry.get("switch.kettle").state == "on"


async def test_built_in_house_has_what_the_issue_lists(demo):
    registry, _ = demo
    areas = {a.id for a in registry.areas()}
    assert {"kitchen", "living_room", "bedroom", "office", "garage", "front_door"} <= areas
    for eid in ("media_player.kitchen", "media_player.living_room", "cover.garage_door", "lock.front_door",
                "camera.front_door", "switch.pool_pump", "switch.spa_heater", "sensor.spa_temperature",
                "climate.thermostat"):
        assert registry.get(eid) is not None, eid
    assert {f.id for f in registry.floors()} == {"ground", "first"}


async def test_lights_dim_colour_and_remember_brightness(demo):
    registry, _ = demo
    await registry.call_service("light.turn_on", ["light.bedroom"], {"brightness_pct": 40, "color_name": "red"})
    light = registry.get("light.bedroom")
    assert (light.state, light.attributes["brightness"], light.attributes["rgb_color"]) == ("on", 102, [255, 0, 0])
    await registry.call_service("light.turn_off", ["light.bedroom"])
    assert registry.get("light.bedroom").attributes["brightness"] is None
    await registry.call_service("light.turn_on", ["light.bedroom"])
    assert registry.get("light.bedroom").attributes["brightness"] == 102
    await registry.call_service("light.turn_on", ["light.bedroom"], {"brightness_pct": 0})
    assert registry.get("light.bedroom").state == "off"


async def test_thermostat_drifts_toward_target_lazily(demo, clock):
    registry, _ = demo
    await registry.call_service("climate.set_temperature", ["climate.thermostat"], {"temperature": 22})
    start = registry.get("climate.thermostat").attributes["current_temperature"]
    clock.advance(600)
    mid = registry.get("climate.thermostat").attributes["current_temperature"]
    clock.advance(6 * 3600)
    end = registry.get("climate.thermostat").attributes["current_temperature"]
    assert start < mid < end <= 22
    assert end == pytest.approx(22, abs=0.1)
    await registry.call_service("climate.set_hvac_mode", ["climate.thermostat"], {"hvac_mode": "off"})
    clock.advance(6 * 3600)
    assert registry.get("climate.thermostat").attributes["current_temperature"] < 17


async def test_drift_reaches_subscribers(demo, clock):
    registry, _ = demo
    seen = []
    registry.subscribe(lambda e, old, new: seen.append((e.entity_id, new.state)))
    await registry.call_service("switch.turn_off", ["switch.spa_heater"])
    clock.advance(3600)
    registry.refresh()
    temps = [float(s) for eid, s in seen if eid == "sensor.spa_temperature"]
    assert temps and temps[-1] < 37


async def test_speakers_play_favorites_skip_group_and_set_volume(demo):
    registry, _ = demo
    kitchen = "media_player.kitchen"
    with pytest.raises(HomeError, match="nothing is queued"):
        await registry.call_service("media_player.media_play", [kitchen])
    await registry.call_service("media_player.select_source", [kitchen], {"source": "Jazz FM"})
    speaker = registry.get(kitchen)
    assert (speaker.state, speaker.attributes["media_title"]) == ("playing", "Jazz FM")
    assert "Morning Jazz" in speaker.attributes["source_list"]
    await registry.call_service("media_player.media_next_track", [kitchen])
    assert registry.get(kitchen).attributes["media_title"] == "BBC Radio 4"
    await registry.call_service("media_player.volume_set", [kitchen], {"volume_level": 0.6})
    assert registry.get(kitchen).attributes["volume_level"] == 0.6
    await registry.call_service("media_player.join", [kitchen], {"group_members": ["media_player.living_room"]})
    living = registry.get("media_player.living_room")
    assert living.attributes["group_members"] == [kitchen, "media_player.living_room"]
    assert (living.state, living.attributes["media_title"]) == ("playing", "BBC Radio 4")
    await registry.call_service("media_player.media_pause", [kitchen])
    assert registry.get("media_player.living_room").state == "paused"
    await registry.call_service("media_player.unjoin", ["media_player.living_room"])
    assert registry.get(kitchen).attributes["group_members"] == [kitchen]
    await registry.call_service("media_player.play_media", [kitchen], {"media_content_id": "x-rincon-mp3radio://demo.claw/classicfm"})
    assert registry.get(kitchen).attributes["media_title"] == "Classic FM"


async def test_cover_lock_and_switches(demo):
    registry, _ = demo
    await registry.call_service("cover.open_cover", ["cover.garage_door"])
    await registry.call_service("lock.unlock", ["lock.front_door"])
    await registry.call_service("switch.turn_on", ["switch.pool_pump"])
    await registry.call_service("fan.turn_on", ["fan.bedroom"])
    states = {eid: registry.get(eid).state for eid in ("cover.garage_door", "lock.front_door", "switch.pool_pump", "fan.bedroom")}
    assert states == {"cover.garage_door": "open", "lock.front_door": "unlocked", "switch.pool_pump": "on", "fan.bedroom": "on"}
