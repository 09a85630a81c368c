"""Invalid service calls are refused with a clear message before any device is touched."""

from __future__ import annotations

import pytest

from skills.home import services as svc
from skills.home.provider import Entity, InvalidService

LIGHT = Entity("light.kitchen", "Kitchen Light", state="off")
THERMO = Entity("climate.hall", "Thermostat", state="heat", attributes={"min_temp": 10, "max_temp": 28, "hvac_modes": ["off", "heat"]})
SPEAKER = Entity("media_player.kitchen", "Kitchen Speaker")


@pytest.mark.parametrize(
    ("service", "entity", "data", "message"),
    [
        ("light.turn_on", LIGHT, {"brightness_pct": 300}, "brightness_pct 300% is out of range (0-100%)"),
        ("light.turn_on", LIGHT, {"brightness_pct": "bright"}, "must be a number"),
        ("light.turn_on", LIGHT, {"color_name": "blurple"}, "unknown colour"),
        ("light.turn_on", LIGHT, {"rgb_color": [0, 300, 0]}, "out of range"),
        ("light.turn_on", LIGHT, {"color_temp_kelvin": 100}, "out of range"),
        ("light.turn_on", LIGHT, {"color_name": "red", "rgb_color": [1, 2, 3]}, "one colour"),
        ("light.turn_on", LIGHT, {"volume_level": 0.5}, "does not take volume_level"),
        ("light.dance", LIGHT, {}, "no service 'dance'"),
        ("climate.set_temperature", THERMO, {"temperature": 90}, "temperature 90 °C is out of range (10-28 °C)"),
        ("climate.set_temperature", THERMO, {}, "needs temperature"),
        ("climate.set_hvac_mode", THERMO, {"hvac_mode": "cool"}, "not supported"),
        ("media_player.volume_set", SPEAKER, {"volume_level": 1.5}, "out of range (0-1)"),
        ("media_player.join", SPEAKER, {"group_members": ["light.kitchen"]}, "media_player"),
        ("switch.turn_on", LIGHT, {}, "not a switch"),
        ("toaster.toast", LIGHT, {}, "no services"),
    ],
)
def test_refusals(service, entity, data, message):
    with pytest.raises(InvalidService) as err:
        svc.validate(service, [entity], data)
    assert message in str(err.value)


def test_default_climate_range_is_7_to_35():
    bare = Entity("climate.x", "X", state="heat")
    assert svc.validate("climate.set_temperature", [bare], {"temperature": "21"}) == {"temperature": 21.0}
    with pytest.raises(InvalidService, match="7-35"):
        svc.validate("climate.set_temperature", [bare], {"temperature": 36})


def test_values_are_normalised():
    assert svc.validate("light.turn_on", [LIGHT], {"brightness_pct": "30%", "rgb_color": "#ff8000"}) == {
        "brightness_pct": 30,
        "rgb_color": [255, 128, 0],
    }
    assert svc.validate("media_player.volume_mute", [SPEAKER], {"is_volume_muted": "yes"}) == {"is_volume_muted": True}
    assert svc.is_sensitive("lock.unlock") and not svc.is_sensitive("lock.lock")


async def test_nothing_is_touched_when_a_value_is_wrong(demo):
    registry, _ = demo
    before = registry.get("climate.thermostat").attributes["temperature"]
    with pytest.raises(InvalidService, match="out of range"):
        await registry.call_service("climate.set_temperature", ["climate.thermostat"], {"temperature": 90})
    assert registry.get("climate.thermostat").attributes["temperature"] == before


async def test_a_call_is_made_even_when_already_in_that_state(demo):
    registry, provider = demo
    calls = []
    original = provider.call_service

    async def spy(domain, service, entity_ids, data):
        calls.append((domain, service, entity_ids))
        await original(domain, service, entity_ids, data)

    provider.call_service = spy
    await registry.call_service("lock.lock", ["lock.front_door"])
    await registry.call_service("lock.lock", ["lock.front_door"])
    assert calls == [("lock", "lock", ["lock.front_door"])] * 2
