"""Resolving what a person says to devices, and the registry's contract for other components."""

from __future__ import annotations

import asyncio

import pytest

from skills.home.provider import AmbiguousTarget, Area, Entity, Floor, HomeError, UnknownTarget
from skills.home.registry import HomeRegistry, State


def ids(entities):
    return sorted(e.entity_id for e in entities)


@pytest.mark.parametrize(
    ("said", "domain", "expected"),
    [
        ("kitchen light", None, ["light.kitchen"]),
        ("Kitchen Light", None, ["light.kitchen"]),
        ("light.kitchen", None, ["light.kitchen"]),
        ("kitchen lights", None, ["light.kitchen", "light.kitchen_counter"]),
        ("the lamp in the office", None, ["light.office_lamp"]),
        ("the office lamp", None, ["light.office_lamp"]),
        ("desk lamp", None, ["light.office_lamp"]),
        ("reading lamp", None, ["light.floor_lamp"]),
        ("lamp in the lounge", None, ["light.floor_lamp"]),
        ("front door lock", None, ["lock.front_door"]),
        ("front door", "lock", ["lock.front_door"]),
        ("garage door", None, ["cover.garage_door"]),
        ("the garage", ("cover",), ["cover.garage_door"]),
        ("the heating", None, ["climate.thermostat"]),
        ("thermostat", None, ["climate.thermostat"]),
        ("kitchen", "media_player", ["media_player.kitchen"]),
        ("spa", "switch", ["switch.spa_heater"]),
        ("counter lights", None, ["light.kitchen_counter"]),
        ("kitchn light", None, ["light.kitchen"]),
        ("light in the bedroom", None, ["light.bedroom"]),
        ("bedroom lights", None, ["light.bedroom", "light.bedside_lamp"]),
        ("all lights upstairs", None, ["light.bedroom", "light.bedside_lamp", "light.office_lamp"]),
        ("kitchen and office lights", None, ["light.kitchen", "light.kitchen_counter", "light.office_lamp"]),
        ("cooking area speaker", None, ["media_player.kitchen"]),
    ],
)
async def test_resolves_what_people_say(demo, said, domain, expected):
    registry, _ = demo
    assert ids(registry.resolve(said, domain)) == expected


async def test_all_the_lights_downstairs_returns_many(demo):
    registry, _ = demo
    expected = ["light.floor_lamp", "light.garage", "light.kitchen", "light.kitchen_counter", "light.living_room", "light.porch"]
    assert ids(registry.resolve("all the lights downstairs")) == expected
    assert ids(registry.resolve("lights on the ground floor")) == expected
    assert len(registry.resolve("all the lights")) == 9


@pytest.mark.parametrize(
    ("said", "domain", "names"),
    [
        ("the lamp", None, {"Floor Lamp", "Desk Lamp"}),
        ("spa", None, {"Spa Heater", "Spa Temperature"}),
        ("the light", None, None),
        ("the light downstairs", None, None),
    ],
)
async def test_ambiguous_targets_list_candidates_by_friendly_name(demo, said, domain, names):
    registry, _ = demo
    with pytest.raises(AmbiguousTarget) as err:
        registry.resolve(said, domain)
    assert len(err.value.candidates) > 1
    if names:
        assert set(err.value.candidates) == names
        for name in names:
            assert name in str(err.value)


async def test_a_bare_area_means_everything_there(demo):
    registry, _ = demo
    assert ids(registry.resolve("front door")) == ["camera.front_door", "light.porch", "lock.front_door"]
    assert ids(registry.resolve("the front door", ("lock",))) == ["lock.front_door"]


async def test_unknown_targets_are_errors_with_suggestions(demo):
    registry, _ = demo
    with pytest.raises(UnknownTarget) as err:
        registry.resolve("toaster")
    assert "toaster" in str(err.value)
    with pytest.raises(UnknownTarget) as err:
        registry.resolve("kitchen light", "lock")
    with pytest.raises(UnknownTarget):
        registry.resolve("bathroom lamp")  # no bathroom: never the nearest lamp by spelling
    with pytest.raises(UnknownTarget) as err:
        registry.resolve("fan in the kitchen")
    assert "Kitchen" in str(err.value)


async def test_status_reads_may_accept_several(demo):
    registry, _ = demo
    assert ids(registry.resolve("the lamp", many=True)) == ["light.floor_lamp", "light.office_lamp"]


def test_floors_without_levels_and_area_aliases():
    registry = HomeRegistry()
    registry.upsert_area(Area("hall", "Hall", "ground", ["entrance hall"]))
    registry.upsert_area(Area("attic", "Attic", "upstairs"))
    registry.upsert_entity(Entity("light.hall", "Hall Light", "hall", "off"))
    registry.upsert_entity(Entity("light.attic", "Attic Bulb", "attic", "off"))
    assert ids(registry.resolve("lights downstairs")) == ["light.hall"]
    assert ids(registry.resolve("upstairs lights")) == ["light.attic"]
    assert ids(registry.resolve("light in the entrance hall")) == ["light.hall"]
    registry.upsert_floor(Floor("ground", "Ground", 0, ["main level"]))
    assert ids(registry.resolve("main level lights")) == ["light.hall"]


def test_version_bumps_on_structure_not_on_state():
    registry = HomeRegistry()
    v0 = registry.version
    registry.upsert_area(Area("kitchen", "Kitchen"))
    registry.upsert_entity(Entity("light.kitchen", "Kitchen Light", "kitchen", "off"))
    v1 = registry.version
    assert v1 > v0
    registry.update_state("light.kitchen", "on", {"brightness": 10})
    registry.upsert_entity(Entity("light.kitchen", "Kitchen Light", "kitchen", "off"))
    assert registry.version == v1
    registry.upsert_entity(Entity("light.kitchen", "Kitchen Ceiling", "kitchen", "off"))
    assert registry.version > v1
    v2 = registry.version
    registry.upsert_area(Area("kitchen", "Kitchen", aliases=["galley"]))
    assert registry.version > v2
    v3 = registry.version
    registry.remove_entity("light.kitchen")
    assert registry.version > v3
    assert registry.entities() == []


async def test_subscribers_see_old_and_new_state(demo):
    registry, _ = demo
    seen: list[tuple[str, State | None, State | None]] = []
    async_seen: list[str] = []

    async def watcher(entity, old, new):
        async_seen.append(new.state)

    unsubscribe = registry.subscribe(lambda e, old, new: seen.append((e.entity_id, old, new)))
    registry.subscribe(watcher)
    registry.subscribe(lambda e, old, new: 1 / 0)  # a broken subscriber harms nobody
    await registry.call_service("cover.open_cover", ["cover.garage_door"])
    await asyncio.sleep(0)
    attrs = {"device_class": "garage", "simulated": True}
    assert seen == [("cover.garage_door", State("closed", attrs), State("open", attrs))]
    assert async_seen == ["open"]
    unsubscribe()
    await registry.call_service("cover.close_cover", ["cover.garage_door"])
    assert len(seen) == 1


async def test_snapshot_has_the_api_home_shape(demo):
    registry, _ = demo
    snap = registry.snapshot()
    assert set(snap) == {"areas", "entities"}
    assert {"id": "kitchen", "name": "Kitchen", "floor": "ground"} in snap["areas"]
    light = next(e for e in snap["entities"] if e["entity_id"] == "light.kitchen")
    assert set(light) == {"entity_id", "name", "area", "state", "summary", "attributes", "simulated"}
    assert light["simulated"] is True
    assert light["name"] == "Kitchen Light" and light["area"] == "kitchen" and light["state"] == "on"
    assert light["summary"] == "on, 80%"  # the web panel shows brightness, set-points and units in words


async def test_service_calls_route_to_the_owner(demo):
    registry, provider = demo
    data = await registry.call_service("light.turn_on", ["light.kitchen_counter"], {"brightness_pct": 30})
    assert data == {"brightness_pct": 30}
    entity = registry.get("light.kitchen_counter")
    assert entity.state == "on" and entity.attributes["brightness"] == 76
    assert registry.health()["ok"]


def test_everyday_words_reach_the_homes_only_device_of_a_kind():
    """"the heat" is the one thermostat and "the garage" the one garage door, whatever their names."""
    registry = HomeRegistry()
    registry.upsert_entity(Entity("cover.door_1", "Overhead Door", None, "closed", {"device_class": "garage"}, provider="x"))
    registry.upsert_entity(Entity("cover.blind", "Office Blind", None, "closed", {}, provider="x"))
    registry.upsert_entity(Entity("climate.hall", "Hallway", None, "heat", {}, provider="x"))
    for said in ("the garage", "garage door", "garage"):
        assert [e.entity_id for e in registry.resolve(said, ("cover",))] == ["cover.door_1"], said
    for said in ("the heat", "heating", "the ac", "thermostat"):
        assert [e.entity_id for e in registry.resolve(said, ("climate",))] == ["climate.hall"], said
    registry.upsert_entity(Entity("cover.door_2", "Side Door", None, "closed", {"device_class": "garage"}, provider="x"))
    with pytest.raises(HomeError):
        registry.resolve("the garage", ("cover",))  # two garage doors: a question, never a guess
