"""The music tool through the home skill with the Sonos backend, against fake speakers driven by SoCo."""

from __future__ import annotations

import pytest

pytest.importorskip("soco")

from skills.home import Home, HomeConfig  # noqa: E402
from tests.fakes.sonos import FakeSonos, FakeSonosSystem  # noqa: E402
from tests.home.support import tool_ctx  # noqa: E402

# Fake speakers listen on fixed loopback addresses (127.0.0.2:1400 ...): one such test at a time.
pytestmark = pytest.mark.usefixtures("fixed_loopback_ports")

KITCHEN, LIVING = "127.0.0.2", "127.0.0.3"


@pytest.fixture
def speakers():
    system = FakeSonosSystem([FakeSonos(KITCHEN, "Kitchen"), FakeSonos(LIVING, "Living Room")])
    system.start()
    yield system
    system.stop()


async def test_play_jazz_fm_in_the_living_room_reaches_that_speaker(speakers, skill_ctx):
    config = HomeConfig(sonos={"hosts": [KITCHEN, LIVING], "discover": False, "scan_network": False, "timeout": 2, "poll_interval": 0})
    skill = Home(config, skill_ctx)
    await skill.setup()
    try:
        assert list(skill.registry.providers) == ["sonos"]
        music = next(t for t in skill.tools() if t.name == "music")
        ctx = tool_ctx()
        reply = await music.invoke(music.validate({"action": "play", "room": "living room", "query": "jazz fm"}), ctx)
        assert "Living Room" in reply
        assert ctx.services[-1].ok and ctx.services[-1].entity_ids == [skill.registry.resolve("living room", "media_player")[0].entity_id]
        assert speakers[LIVING].actions_named("SetAVTransportURI")
        assert not speakers[KITCHEN].actions_named("SetAVTransportURI")
    finally:
        await skill.close()


async def test_play_with_nothing_to_resume_offers_the_favourites(speakers, skill_ctx):
    """A speaker that refuses Play (UPnP 701) answers with what can be played, never the raw error."""
    config = HomeConfig(sonos={"hosts": [KITCHEN, LIVING], "discover": False, "scan_network": False, "timeout": 2, "poll_interval": 0})
    skill = Home(config, skill_ctx)
    await skill.setup()
    try:
        music = next(t for t in skill.tools() if t.name == "music")
        speakers[KITCHEN].state.queue.clear()
        speakers[KITCHEN].state.transport = "PAUSED_PLAYBACK"  # paused, yet nothing left to resume
        await skill.registry.providers["sonos"].refresh()
        reply = await music.invoke(music.validate({"action": "play", "room": "kitchen"}), tool_ctx())
        assert reply.startswith("Nothing is queued on Kitchen") and "Jazz FM" in reply and "701" not in reply
        assert speakers[KITCHEN].actions_named("Play")  # it was asked, and said no
    finally:
        await skill.close()
