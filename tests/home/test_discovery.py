"""discover() against loopback only: a fake Sonos on 127.0.0.2:1400 and an mDNS service on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from skills.home.discovery import Found, config_hint, discover
from tests.fakes.mdns import FakeMdnsService
from tests.fakes.sonos import FakeSonos

# Fake speakers listen on fixed loopback addresses (127.0.0.2:1400 ...): one such test at a time.
pytestmark = pytest.mark.usefixtures("fixed_loopback_ports")

LOOPBACK = ["127.0.0.0/29"]  # 127.0.0.1 .. 127.0.0.6


@pytest.fixture
def kitchen():
    fake = FakeSonos("127.0.0.2", "Kitchen").start()
    yield fake
    fake.stop()


async def test_tcp_probe_finds_fake_sonos(kitchen):
    found = await discover(timeout=2.0, subnets=LOOPBACK, ports=[1400], ssdp=False, mdns=False)
    sonos = [f for f in found if f.kind == "sonos"]
    assert len(sonos) == 1
    hit = sonos[0]
    assert (hit.address, hit.port, hit.source, hit.name) == ("127.0.0.2", 1400, "tcp", "Kitchen")
    assert hit.detail["model"] == "Sonos One" and hit.detail["uid"] == kitchen.uid
    assert config_hint(found) == '[home.sonos]\nhosts = ["127.0.0.2"]'


async def test_mdns_service_is_found():
    service = FakeMdnsService("_sonos._tcp.local.", "Kitchen", "127.0.0.2", 1400)
    await asyncio.to_thread(service.start)
    try:
        found = await discover(timeout=2.0, ssdp=False, tcp=False, interfaces=["127.0.0.1"])
    finally:
        await asyncio.to_thread(service.stop)
    hits = [f for f in found if f.source == "mdns" and f.name == "Kitchen"]
    assert hits, found
    assert (hits[0].kind, hits[0].address, hits[0].port) == ("sonos", "127.0.0.2", 1400)
    assert hits[0].detail["properties"]["vers"] == "3"


async def test_all_passes_on_loopback_merge_and_stay_bounded(kitchen):
    # SSDP goes out on loopback only and finds nothing there; it must not fail the other passes
    found = await discover(timeout=1.0, subnets=LOOPBACK, ports={1400: "sonos", 8123: "home-assistant"},
                           ssdp=True, mdns=False, interfaces=["127.0.0.1"])
    assert [(f.kind, f.address) for f in found] == [("sonos", "127.0.0.2")]


def test_config_hint_lines():
    ha = Found("home-assistant", "Home", "192.168.1.5", 8123, "mdns")
    speakers = [Found("sonos", "Kitchen", "192.168.1.31", 1400, "tcp"), Found("sonos", "Den", "192.168.1.30", 1400, "mdns")]
    assert config_hint(ha).startswith('[home.homeassistant]\nurl = "http://192.168.1.5:8123"')
    assert config_hint(speakers) == '[home.sonos]\nhosts = ["192.168.1.30", "192.168.1.31"]'
    hue = config_hint(Found("hue", "Hue Bridge", "192.168.1.8", 80, "mdns"))
    assert hue.startswith("# hue at 192.168.1.8:80")
