"""SonosProvider driven through real SoCo against fake speakers on 127.0.0.2/3:1400."""

from __future__ import annotations

from typing import Any

import pytest

from skills.home.provider import Entity, HomeError
from skills.home.registry import HomeRegistry
from skills.home.sonos import Music, SonosProvider, find_speakers, match_music, slug
from tests.fakes.sonos import FakeSonos, FakeSonosSystem

# Fake speakers listen on fixed loopback addresses (127.0.0.2:1400 ...): one such test at a time.
pytestmark = pytest.mark.usefixtures("fixed_loopback_ports")

KITCHEN, LIVING = "127.0.0.2", "127.0.0.3"
JAZZ_FM = "x-sonosapi-stream:s8007?sid=254&flags=8224&sn=0"


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **kw: self.events.append((level, event, kw))


def ents(registry: HomeRegistry) -> dict[str, Entity]:
    return {e.entity_id: e for e in registry.entities()}


@pytest.fixture
def system():
    fakes = FakeSonosSystem([FakeSonos(KITCHEN, "Kitchen"), FakeSonos(LIVING, "Living Room", model="Sonos Five")])
    fakes.start()
    yield fakes
    fakes.stop()


@pytest.fixture
async def sonos(system):
    registry = HomeRegistry()
    provider = SonosProvider([KITCHEN, LIVING], discover=False, scan_network=False, log=Log(), timeout=2.0, poll_interval=0)
    await provider.start(registry)
    provider.registry = registry  # test convenience
    for fake in system.speakers:
        fake.clear_actions()
    yield provider
    await provider.stop()


def calls(fake: FakeSonos, action: str) -> list[dict[str, str]]:
    return [a.args for a in fake.actions if a.action == action]


async def test_entities_named_after_rooms(sonos, system):
    reg = sonos.registry
    assert set(ents(reg)) == {"media_player.kitchen", "media_player.living_room"}
    kitchen = ents(reg)["media_player.kitchen"]
    assert kitchen.name == "Kitchen" and kitchen.area == "kitchen" and kitchen.provider == "sonos"
    assert reg.area("living_room").name == "Living Room"
    attrs = kitchen.attributes
    assert attrs["volume_level"] == 0.2 and attrs["is_volume_muted"] is False
    assert attrs["group_members"] == ["media_player.kitchen"]
    assert "Jazz FM" in attrs["favorites"] and "BBC Radio 4" in attrs["favorites"]
    assert kitchen.state == "idle"
    assert sonos.health()["ok"] is True


async def test_transport_and_volume_reach_the_right_speaker(sonos, system):
    kitchen, living = system["Kitchen"], system["Living Room"]
    await sonos.call_service("media_player", "play_media", ["media_player.kitchen"],
                             {"media_content_id": "http://radio.example/stream.mp3", "media_content_type": "music"})
    await sonos.call_service("media_player", "media_pause", ["media_player.kitchen"], {})
    assert calls(kitchen, "Pause") and not calls(living, "Pause")
    assert ents(sonos.registry)["media_player.kitchen"].state == "paused"

    await sonos.call_service("media_player", "media_play", ["media_player.kitchen"], {})
    assert ents(sonos.registry)["media_player.kitchen"].state == "playing"

    living.state.uri = "x-rincon-queue:" + living.uid + "#0"
    await sonos.call_service("media_player", "media_next_track", ["media_player.living_room"], {})
    assert calls(living, "Next") and not calls(kitchen, "Next")
    assert ents(sonos.registry)["media_player.living_room"].attributes["media_title"] == "Take Five"
    await sonos.call_service("media_player", "media_previous_track", ["media_player.living_room"], {})
    assert calls(living, "Previous")

    await sonos.call_service("media_player", "volume_set", ["media_player.living_room"], {"volume_level": 0.35})
    assert calls(living, "SetVolume")[-1]["DesiredVolume"] == "35" and not calls(kitchen, "SetVolume")
    assert ents(sonos.registry)["media_player.living_room"].attributes["volume_level"] == 0.35

    await sonos.call_service("media_player", "volume_mute", ["media_player.kitchen"], {"is_volume_muted": True})
    assert calls(kitchen, "SetMute")[-1]["DesiredMute"] == "1"
    assert ents(sonos.registry)["media_player.kitchen"].attributes["is_volume_muted"] is True


async def test_invalid_values_are_refused_before_touching_the_speaker(sonos, system):
    with pytest.raises(HomeError, match="between 0 and 1"):
        await sonos.call_service("media_player", "volume_set", ["media_player.kitchen"], {"volume_level": 3})
    with pytest.raises(HomeError, match="not a Sonos speaker"):
        await sonos.call_service("media_player", "media_play", ["media_player.garage"], {})
    with pytest.raises(HomeError, match="not supported"):
        await sonos.call_service("media_player", "shuffle_set", ["media_player.kitchen"], {})
    assert not calls(system["Kitchen"], "SetVolume")


async def test_play_favorite_by_fuzzy_name(sonos, system):
    await sonos.call_service("media_player", "play_media", ["media_player.living_room"],
                             {"media_content_type": "favorite", "media_content_id": "jazz fm"})
    living, kitchen = system["Living Room"], system["Kitchen"]
    set_uri = calls(living, "SetAVTransportURI")
    assert set_uri and set_uri[-1]["CurrentURI"] == JAZZ_FM
    assert "Jazz FM" in set_uri[-1]["CurrentURIMetaData"]  # the favorite's resMD goes along
    assert calls(living, "Play") and not calls(kitchen, "SetAVTransportURI")
    entity = ents(sonos.registry)["media_player.living_room"]
    assert entity.state == "playing"
    assert entity.attributes["media_title"] == "Jazz FM" and entity.attributes["source"] == "Jazz FM"

    # a saved radio station, misspelt, with no type given
    await sonos.call_service("media_player", "play_media", ["media_player.kitchen"], {"media_content_id": "jazz 24"})
    assert calls(kitchen, "SetAVTransportURI")[-1]["CurrentURI"].startswith("x-rincon-mp3radio://")

    with pytest.raises(HomeError, match="no Sonos favorite"):
        await sonos.call_service("media_player", "play_media", ["media_player.kitchen"],
                                 {"media_content_type": "favorite", "media_content_id": "Polka Hits"})


def test_match_music_ambiguity_lists_candidates():
    items = [Music("Jazz FM", "a:1", "favorite"), Music("Jazz24", "b:2", "radio"), Music("BBC Radio 4", "c:3", "favorite")]
    assert match_music("JAZZ-FM", items).uri == "a:1"
    assert match_music("radio 4", items).title == "BBC Radio 4"
    with pytest.raises(HomeError, match="Jazz FM, Jazz24"):
        match_music("jazz", items)
    assert slug("Living Room") == "living_room" and slug("Küche") == "kuche"


async def test_join_and_unjoin(sonos, system):
    kitchen, living = system["Kitchen"], system["Living Room"]
    await sonos.call_service("media_player", "join", ["media_player.kitchen"],
                             {"group_members": ["media_player.living_room"]})
    assert calls(living, "SetAVTransportURI")[-1]["CurrentURI"] == f"x-rincon:{kitchen.uid}"
    by_id = ents(sonos.registry)
    assert by_id["media_player.kitchen"].attributes["group_members"] == ["media_player.kitchen", "media_player.living_room"]
    assert by_id["media_player.living_room"].attributes["group_members"][0] == "media_player.kitchen"

    # a transport command on a member goes to the group's coordinator
    kitchen.state.uri = JAZZ_FM
    await sonos.call_service("media_player", "media_play", ["media_player.living_room"], {})
    assert calls(kitchen, "Play") and not calls(living, "Play")
    assert by_id["media_player.living_room"].state == "playing"

    await sonos.call_service("media_player", "unjoin", ["media_player.living_room"], {})
    assert calls(living, "BecomeCoordinatorOfStandaloneGroup")
    assert by_id["media_player.living_room"].attributes["group_members"] == ["media_player.living_room"]
    assert by_id["media_player.kitchen"].attributes["group_members"] == ["media_player.kitchen"]


async def test_unreachable_host_is_reported_not_fatal(system):
    registry, log = HomeRegistry(), Log()
    provider = SonosProvider([KITCHEN, "127.0.0.9"], discover=False, scan_network=False, log=log, timeout=1.0, poll_interval=0)
    await provider.start(registry)
    try:
        health = provider.health()
        assert health["ok"] is False and "127.0.0.9" in health["detail"]
        assert "media_player.kitchen" in ents(registry)  # the rest still works
        assert any(e == "sonos.unreachable" for _, e, _ in log.events)

        system["Living Room"].stop()  # a known speaker goes away
        await provider.refresh()
        assert ents(registry)["media_player.living_room"].state == "unavailable"
        with pytest.raises(HomeError, match="Living Room"):
            await provider.call_service("media_player", "volume_set", ["media_player.living_room"], {"volume_level": 0.5})
    finally:
        await provider.stop()


async def test_find_speakers_reports_rooms_and_playing(system):
    system["Kitchen"].state.uri, system["Kitchen"].state.transport = JAZZ_FM, "PLAYING"
    system["Kitchen"].state.meta = "<DIDL-Lite xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><item><dc:title>Jazz FM</dc:title></item></DIDL-Lite>"
    found = await find_speakers(hosts=[KITCHEN], discover=False, timeout=2.0)
    by_room = {s["room"]: s for s in found}
    assert set(by_room) == {"Kitchen", "Living Room"}  # the household comes from one host's topology
    assert by_room["Kitchen"]["ip"] == KITCHEN and by_room["Kitchen"]["model"] == "Sonos One"
    assert by_room["Kitchen"]["state"] == "playing" and by_room["Kitchen"]["title"] == "Jazz FM"
    assert by_room["Living Room"]["model"] == "Sonos Five"


async def test_scan_network_on_loopback_finds_speakers(system):
    found = await find_speakers(discover=False, scan_network=True, networks=["127.0.0.0/29"], timeout=1.0)
    assert {s["ip"] for s in found} == {KITCHEN, LIVING}
