"""Fake Sonos speakers speaking UPnP SOAP over HTTP on 127.0.0.N:1400.

SoCo talks to a player at ``http://<ip>:1400`` (the port is fixed in discovery,
scanning and ZoneGroupState locations), so each fake binds its own loopback
address: 127.0.0.2, 127.0.0.3, ... all route to ``lo`` on Linux.

What is answered is exactly what soco 0.32 sends for the calls claw makes
(see the table in ``SOAP_COVERAGE``); anything else gets UPnP error 401
(Invalid Action), as a real player would, so a new soco call shows up as a
clear failure instead of silently passing. Every action received is recorded
as an ``Action`` for test assertions.

    system = FakeSonosSystem([FakeSonos("127.0.0.2", "Kitchen"), FakeSonos("127.0.0.3", "Living Room")])
    system.start()
    ...
    assert system["Kitchen"].actions_named("Play")
    system.stop()
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Self
from xml.sax.saxutils import escape

from tests.fakes.server import LoopbackServer

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
HOUSEHOLD = "Sonos_clawFakeHousehold0000000"

DIDL_OPEN = (
    '<DIDL-Lite xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/" '
    'xmlns:r="urn:schemas-rinconnetworks-com:metadata-1-0/" '
    'xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/">'
)
DIDL_CLOSE = "</DIDL-Lite>"

# soco call -> (service, SOAP actions) the fake answers for it.
SOAP_COVERAGE: dict[str, tuple[str, tuple[str, ...]]] = {
    "get_speaker_info": ("HTTP GET", ("/xml/device_description.xml",)),
    "household_id (zone_group_state)": ("DeviceProperties", ("GetHouseholdID",)),
    "player_name/uid/group/is_coordinator/visible_zones": ("ZoneGroupTopology", ("GetZoneGroupState",)),
    "play/pause/stop/next/previous": ("AVTransport", ("Play", "Pause", "Stop", "Next", "Previous")),
    "play_uri/join": ("AVTransport", ("SetAVTransportURI",)),
    "unjoin": ("AVTransport", ("BecomeCoordinatorOfStandaloneGroup",)),
    "clear_queue/add_to_queue/play_from_queue": (
        "AVTransport",
        ("RemoveAllTracksFromQueue", "AddURIToQueue", "SetAVTransportURI", "Seek"),
    ),
    "get_current_transport_info": ("AVTransport", ("GetTransportInfo",)),
    "get_current_track_info": ("AVTransport", ("GetPositionInfo",)),
    "get_current_media_info": ("AVTransport", ("GetMediaInfo",)),
    "play_mode": ("AVTransport", ("GetTransportSettings",)),
    "volume/mute/set_relative_volume": (
        "RenderingControl",
        ("GetVolume", "SetVolume", "GetMute", "SetMute", "SetRelativeVolume"),
    ),
    "music_library.get_sonos_favorites / get_favorite_radio_stations": (
        "ContentDirectory",
        ("Browse FV:2", "Browse R:0/0"),
    ),
}


@dataclass
class Action:
    """One SOAP action a fake speaker received."""

    speaker: str  # room name
    ip: str
    service: str
    action: str
    args: dict[str, str]


@dataclass
class Favorite:
    title: str
    uri: str
    description: str = "TuneIn Station"


DEFAULT_FAVORITES = [
    Favorite("Jazz FM", "x-sonosapi-stream:s8007?sid=254&flags=8224&sn=0"),
    Favorite("BBC Radio 4", "x-sonosapi-stream:s25419?sid=254&flags=8224&sn=0"),
]
DEFAULT_RADIO = [
    Favorite("Jazz24", "x-rincon-mp3radio://live.wostreaming.net/direct/ppm-jazz24aac-ibc1"),
    Favorite("Radio Swiss Classic", "x-rincon-mp3radio://stream.srg-ssr.ch/m/rsc_de/mp3_128"),
]
QUEUE_TRACKS = [
    ("So What", "Miles Davis", "Kind of Blue"),
    ("Take Five", "The Dave Brubeck Quartet", "Time Out"),
    ("Blue in Green", "Miles Davis", "Kind of Blue"),
]


class UPnPError(Exception):
    def __init__(self, code: int, description: str = "") -> None:
        super().__init__(f"UPnP error {code} {description}")
        self.code = code
        self.description = description


def _didl_item(item_id: str, parent: str, title: str, upnp_class: str, inner: str = "") -> str:
    return (
        f'<item id="{escape(item_id)}" parentID="{escape(parent)}" restricted="true">'
        f"<dc:title>{escape(title)}</dc:title><upnp:class>{upnp_class}</upnp:class>{inner}</item>"
    )


def _radio_meta(title: str) -> str:
    """The resMD of a radio favorite: the referenced station, as Sonos stores it."""
    desc = '<desc id="cdudn" nameSpace="urn:schemas-rinconnetworks-com:metadata-1-0/">SA_RINCON65031_</desc>'
    return DIDL_OPEN + _didl_item("F00092020s8007", "L", title, "object.item.audioItem.audioBroadcast", desc) + DIDL_CLOSE


def _title_from_didl(meta: str) -> str:
    if not meta:
        return ""
    try:
        root = ET.fromstring(meta)
    except ET.ParseError:
        return ""
    return root.findtext(".//{http://purl.org/dc/elements/1.1/}title") or ""


@dataclass
class _State:
    volume: int = 20
    muted: bool = False
    transport: str = "STOPPED"  # PLAYING, PAUSED_PLAYBACK, STOPPED, TRANSITIONING
    uri: str = ""
    meta: str = ""
    queue: list[tuple[str, str, str]] = field(default_factory=lambda: list(QUEUE_TRACKS))
    track: int = 1
    coordinator: str = ""  # uid of this speaker's group coordinator


class FakeSonos(LoopbackServer):
    """One fake player: device description plus the SOAP services soco uses."""

    def __init__(
        self,
        ip: str = "127.0.0.2",
        room: str = "Kitchen",
        model: str = "Sonos One",
        favorites: list[Favorite] | None = None,
        radio_stations: list[Favorite] | None = None,
        port: int = 1400,
    ) -> None:
        self.ip = ip
        self.port = port
        self.room = room
        self.model = model
        last = int(ip.rsplit(".", 1)[1])
        self.uid = f"RINCON_000E58FA{last:04X}01400"
        self.serial = f"00-0E-58-FA-{last // 256:02X}-{last % 256:02X}:7"
        self.favorites = list(DEFAULT_FAVORITES if favorites is None else favorites)
        self.radio_stations = list(DEFAULT_RADIO if radio_stations is None else radio_stations)
        self.state = _State(coordinator=self.uid)
        self.actions: list[Action] = []
        self.system: FakeSonosSystem | None = None
        super().__init__(self.ip, self.port)
        self.lock = threading.RLock()

    # -- lifecycle ---------------------------------------------------------
    @property
    def location(self) -> str:
        return f"http://{self.ip}:{self.port}/xml/device_description.xml"

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"speaker": self})

    def start(self) -> Self:
        if self.system is None:
            FakeSonosSystem([self])
        return super().start()

    # -- assertions helpers --------------------------------------------------
    def actions_named(self, action: str) -> list[Action]:
        return [a for a in self.actions if a.action == action]

    def clear_actions(self) -> None:
        self.actions.clear()

    # -- device description ----------------------------------------------------
    def device_description(self) -> str:
        return f"""<?xml version="1.0" encoding="utf-8" ?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <device>
    <deviceType>urn:schemas-upnp-org:device:ZonePlayer:1</deviceType>
    <friendlyName>{escape(self.ip)} - {escape(self.model)}</friendlyName>
    <manufacturer>Sonos, Inc.</manufacturer>
    <manufacturerURL>http://www.sonos.com</manufacturerURL>
    <modelNumber>S18</modelNumber>
    <modelDescription>Sonos {escape(self.model)}</modelDescription>
    <modelName>{escape(self.model)}</modelName>
    <modelURL>http://www.sonos.com/products/zoneplayers/S18</modelURL>
    <softwareVersion>79.1-56030</softwareVersion>
    <swGen>2</swGen>
    <hardwareVersion>1.20.1.6-2.0</hardwareVersion>
    <serialNum>{self.serial}</serialNum>
    <MACAddress>{self.serial.split(':')[0].replace('-', ':')}</MACAddress>
    <UDN>uuid:{self.uid}</UDN>
    <iconList><icon><id>0</id><mimetype>image/png</mimetype><width>48</width><height>48</height><depth>24</depth><url>/img/icon-S18.png</url></icon></iconList>
    <minCompatibleVersion>78.0-00000</minCompatibleVersion>
    <displayVersion>16.4</displayVersion>
    <roomName>{escape(self.room)}</roomName>
    <displayName>{escape(self.model)}</displayName>
    <zoneType>11</zoneType>
    <feature1>0x00000000</feature1>
    <householdControlID>{HOUSEHOLD}</householdControlID>
  </device>
</root>"""

    # -- SOAP dispatch -----------------------------------------------------------
    def handle(self, service: str, action: str, args: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self.actions.append(Action(self.room, self.ip, service, action, dict(args)))
        method = getattr(self, f"_{service}_{action}", None)
        if method is None:
            raise UPnPError(401, "Invalid Action")
        with self.system.lock if self.system else self.lock:
            return method(args) or {}

    # DeviceProperties
    def _DeviceProperties_GetHouseholdID(self, args: dict[str, str]) -> dict[str, Any]:
        return {"CurrentHouseholdID": self.system.household if self.system else HOUSEHOLD}

    def _DeviceProperties_GetZoneAttributes(self, args: dict[str, str]) -> dict[str, Any]:
        return {"CurrentZoneName": self.room, "CurrentIcon": "x-rincon-roomicon:living", "CurrentConfiguration": "1",
                "CurrentTargetRoomName": self.room}

    def _DeviceProperties_GetZoneInfo(self, args: dict[str, str]) -> dict[str, Any]:
        return {"SerialNumber": self.serial, "SoftwareVersion": "79.1-56030", "DisplaySoftwareVersion": "16.4",
                "HardwareVersion": "1.20.1.6-2.0", "IPAddress": self.ip, "MACAddress": self.serial.split(":")[0],
                "CopyrightInfo": "", "ExtraInfo": "", "HTAudioIn": "0", "Flags": "0"}

    def _DeviceProperties_GetLEDState(self, args: dict[str, str]) -> dict[str, Any]:
        return {"CurrentLEDState": "On"}

    # ZoneGroupTopology
    def _ZoneGroupTopology_GetZoneGroupState(self, args: dict[str, str]) -> dict[str, Any]:
        assert self.system is not None
        return {"ZoneGroupState": self.system.zone_group_state()}

    def _ZoneGroupTopology_GetZoneGroupAttributes(self, args: dict[str, str]) -> dict[str, Any]:
        assert self.system is not None
        members = [s for s in self.system.speakers if s.state.coordinator == self.state.coordinator]
        return {
            "CurrentZoneGroupName": self.system.by_uid(self.state.coordinator).room,
            "CurrentZoneGroupID": f"{self.state.coordinator}:1",
            "CurrentZonePlayerUUIDsInGroup": ",".join(s.uid for s in members),
            "CurrentMuseHouseholdId": self.system.household,
        }

    # RenderingControl
    def _RenderingControl_GetVolume(self, args: dict[str, str]) -> dict[str, Any]:
        return {"CurrentVolume": self.state.volume}

    def _RenderingControl_SetVolume(self, args: dict[str, str]) -> dict[str, Any]:
        volume = int(args.get("DesiredVolume", "-1"))
        if not 0 <= volume <= 100:
            raise UPnPError(402, "Invalid Args")
        self.state.volume = volume
        return {}

    def _RenderingControl_SetRelativeVolume(self, args: dict[str, str]) -> dict[str, Any]:
        self.state.volume = max(0, min(100, self.state.volume + int(args["Adjustment"])))
        return {"NewVolume": self.state.volume}

    def _RenderingControl_GetMute(self, args: dict[str, str]) -> dict[str, Any]:
        return {"CurrentMute": "1" if self.state.muted else "0"}

    def _RenderingControl_SetMute(self, args: dict[str, str]) -> dict[str, Any]:
        self.state.muted = args.get("DesiredMute") in ("1", "True", "true")
        return {}

    # AVTransport
    def _coordinator(self) -> FakeSonos:
        assert self.system is not None
        return self.system.by_uid(self.state.coordinator)

    def _AVTransport_Play(self, args: dict[str, str]) -> dict[str, Any]:
        target = self._coordinator()  # a grouped member plays the group, as on a real system
        if not target.state.uri and not target.state.queue:
            raise UPnPError(701, "Transition not available")
        target.state.transport = "PLAYING"
        return {}

    def _AVTransport_Pause(self, args: dict[str, str]) -> dict[str, Any]:
        self._coordinator().state.transport = "PAUSED_PLAYBACK"
        return {}

    def _AVTransport_Stop(self, args: dict[str, str]) -> dict[str, Any]:
        self._coordinator().state.transport = "STOPPED"
        return {}

    def _AVTransport_Next(self, args: dict[str, str]) -> dict[str, Any]:
        st = self._coordinator().state
        if st.track >= len(st.queue):
            raise UPnPError(711, "Illegal seek target")
        st.track += 1
        return {}

    def _AVTransport_Previous(self, args: dict[str, str]) -> dict[str, Any]:
        st = self._coordinator().state
        st.track = max(1, st.track - 1)
        return {}

    def _AVTransport_Seek(self, args: dict[str, str]) -> dict[str, Any]:
        if args.get("Unit") == "TRACK_NR":
            target = int(args.get("Target", "1"))
            if not 1 <= target <= max(1, len(self.state.queue)):
                raise UPnPError(711, "Illegal seek target")
            self.state.track = target
        return {}

    def _AVTransport_SetAVTransportURI(self, args: dict[str, str]) -> dict[str, Any]:
        assert self.system is not None
        uri = args.get("CurrentURI", "")
        if uri.startswith("x-rincon:"):
            master = self.system.by_uid(uri.split(":", 1)[1])
            self.system.join(self, master)
            return {}
        if self.state.coordinator != self.uid:
            self.system.leave(self)
        self.state.uri = uri
        self.state.meta = args.get("CurrentURIMetaData", "")
        self.state.transport = "STOPPED"
        return {}

    def _AVTransport_BecomeCoordinatorOfStandaloneGroup(self, args: dict[str, str]) -> dict[str, Any]:
        assert self.system is not None
        self.system.leave(self)
        return {"DelegatedGroupCoordinatorID": "", "NewGroupID": f"{self.uid}:2"}

    def _AVTransport_RemoveAllTracksFromQueue(self, args: dict[str, str]) -> dict[str, Any]:
        self.state.queue = []
        self.state.track = 1
        return {}

    def _AVTransport_AddURIToQueue(self, args: dict[str, str]) -> dict[str, Any]:
        title = _title_from_didl(args.get("EnqueuedURIMetaData", "")) or args.get("EnqueuedURI", "")
        self.state.queue.append((title, "", ""))
        n = len(self.state.queue)
        return {"FirstTrackNumberEnqueued": n, "NumTracksAdded": 1, "NewQueueLength": n}

    def _AVTransport_GetTransportInfo(self, args: dict[str, str]) -> dict[str, Any]:
        return {
            "CurrentTransportState": self._coordinator().state.transport,
            "CurrentTransportStatus": "OK",
            "CurrentSpeed": "1",
        }

    def _AVTransport_GetTransportSettings(self, args: dict[str, str]) -> dict[str, Any]:
        return {"PlayMode": "NORMAL", "RecQualityMode": "NOT_IMPLEMENTED"}

    def _AVTransport_GetMediaInfo(self, args: dict[str, str]) -> dict[str, Any]:
        if self.state.coordinator != self.uid:
            uri, meta = f"x-rincon:{self.state.coordinator}", ""
        else:
            uri, meta = self.state.uri, self.state.meta
        return {
            "NrTracks": len(self.state.queue) if uri.startswith("x-rincon-queue:") else (1 if uri else 0),
            "MediaDuration": "NOT_IMPLEMENTED",
            "CurrentURI": uri,
            "CurrentURIMetaData": meta,
            "NextURI": "",
            "NextURIMetaData": "",
            "PlayMedium": "NETWORK",
            "RecordMedium": "NOT_IMPLEMENTED",
            "WriteStatus": "NOT_IMPLEMENTED",
        }

    def _AVTransport_GetPositionInfo(self, args: dict[str, str]) -> dict[str, Any]:
        st = self.state
        base = {"RelTime": "0:00:00", "AbsTime": "NOT_IMPLEMENTED", "RelCount": "2147483647", "AbsCount": "2147483647"}
        if st.coordinator != self.uid:
            return {"Track": "1", "TrackDuration": "0:00:00", "TrackMetaData": "", "TrackURI": f"x-rincon:{st.coordinator}", **base}
        if st.uri and not st.uri.startswith("x-rincon-queue:"):
            # A stream: duration 0:00:00 and the station title, as radio reports it.
            title = _title_from_didl(st.meta) or st.uri
            meta = DIDL_OPEN + _didl_item("-1", "-1", title, "object.item", "<r:streamContent></r:streamContent>") + DIDL_CLOSE
            return {"Track": "1", "TrackDuration": "0:00:00", "TrackMetaData": meta, "TrackURI": st.uri, **base}
        if not st.queue:
            return {"Track": "0", "TrackDuration": "", "TrackMetaData": "", "TrackURI": "", **base}
        title, artist, album = st.queue[min(st.track, len(st.queue)) - 1]
        inner = f"<dc:creator>{escape(artist)}</dc:creator><upnp:album>{escape(album)}</upnp:album>"
        meta = DIDL_OPEN + _didl_item(f"Q:0/{st.track}", "Q:0", title, "object.item.audioItem.musicTrack", inner) + DIDL_CLOSE
        return {"Track": str(st.track), "TrackDuration": "0:05:00", "TrackMetaData": meta,
                "TrackURI": f"x-file-cifs://nas/music/{st.track}.flac", **base}

    # ContentDirectory
    def _ContentDirectory_Browse(self, args: dict[str, str]) -> dict[str, Any]:
        object_id = args.get("ObjectID", "")
        if object_id == "FV:2":
            items = [
                _didl_item(
                    f"FV:2/{i + 1}", "FV:2", fav.title, "object.itemobject.item.sonos-favorite",
                    f'<r:ordinal>{i}</r:ordinal><res protocolInfo="x-sonosapi-stream:*:*:*">{escape(fav.uri)}</res>'
                    f"<r:type>instantPlay</r:type><r:description>{escape(fav.description)}</r:description>"
                    f"<r:resMD>{escape(_radio_meta(fav.title))}</r:resMD>",
                )
                for i, fav in enumerate(self.favorites)
            ]
        elif object_id == "R:0/0":
            items = [
                _didl_item(
                    f"R:0/0/{i}", "R:0/0", st.title, "object.item.audioItem.audioBroadcast",
                    f'<res protocolInfo="x-rincon-mp3radio:*:*:*">{escape(st.uri)}</res>',
                )
                for i, st in enumerate(self.radio_stations)
            ]
        else:
            raise UPnPError(701, "No such object")
        start = int(args.get("StartingIndex", "0") or 0)
        count = int(args.get("RequestedCount", "100") or 100)
        page = items[start : start + count] if count else items[start:]
        return {
            "Result": DIDL_OPEN + "".join(page) + DIDL_CLOSE,
            "NumberReturned": len(page),
            "TotalMatches": len(items),
            "UpdateID": 1,
        }


class FakeSonosSystem:
    """A household of fake speakers sharing one zone group topology."""

    def __init__(self, speakers: list[FakeSonos], household: str = HOUSEHOLD) -> None:
        self.speakers = list(speakers)
        self.household = household
        self.lock = threading.RLock()
        for s in self.speakers:
            s.system = self

    def __getitem__(self, room_or_ip: str) -> FakeSonos:
        for s in self.speakers:
            if room_or_ip in (s.room, s.ip):
                return s
        raise KeyError(room_or_ip)

    def by_uid(self, uid: str) -> FakeSonos:
        for s in self.speakers:
            if s.uid == uid:
                return s
        raise UPnPError(800, f"unknown player {uid}")

    @property
    def actions(self) -> list[Action]:
        return [a for s in self.speakers for a in s.actions]

    def start(self) -> FakeSonosSystem:
        started: list[FakeSonos] = []
        try:
            for s in self.speakers:
                started.append(s.start())
        except BaseException:
            for s in started:
                s.stop()
            raise
        return self

    def stop(self) -> None:
        for s in self.speakers:
            s.stop()

    def __enter__(self) -> FakeSonosSystem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- grouping --------------------------------------------------------------
    def join(self, member: FakeSonos, master: FakeSonos) -> None:
        if member is master:
            return
        self.leave(member)
        member.state.coordinator = master.state.coordinator

    def leave(self, member: FakeSonos) -> None:
        if member.state.coordinator == member.uid:
            # a coordinator leaving hands its group to the next member
            rest = [s for s in self.speakers if s is not member and s.state.coordinator == member.uid]
            if rest:
                heir = rest[0]
                for s in rest:
                    s.state.coordinator = heir.uid
                heir.state.uri, heir.state.meta, heir.state.transport = member.state.uri, member.state.meta, member.state.transport
            return
        member.state.coordinator = member.uid
        member.state.transport = "STOPPED"
        member.state.uri, member.state.meta = "", ""

    def zone_group_state(self) -> str:
        groups: dict[str, list[FakeSonos]] = {}
        for s in self.speakers:
            groups.setdefault(s.state.coordinator, []).append(s)
        out = ["<ZoneGroupState><ZoneGroups>"]
        for coord, members in groups.items():
            out.append(f'<ZoneGroup Coordinator="{coord}" ID="{coord}:{len(members)}">')
            for s in members:
                out.append(
                    f'<ZoneGroupMember UUID="{s.uid}" Location="{s.location}" ZoneName="{escape(s.room)}" '
                    f'Icon="x-rincon-roomicon:living" Configuration="1" SoftwareVersion="79.1-56030" '
                    f'SWGen="2" MinCompatibleVersion="78.0-00000" LegacyCompatibleVersion="58.0-00000" '
                    f'BootSeq="7" TVConfigurationError="0" HdmiCecAvailable="0" WirelessMode="0" '
                    f'WirelessLeafOnly="0" ChannelFreq="2437" BehindWifiExtender="0" WifiEnabled="1" '
                    f'EthLink="1" Orientation="0" RoomCalibrationState="4" SecureRegState="3" '
                    f'VoiceConfigState="0" MicEnabled="0" AirPlayEnabled="1" IdleState="1" '
                    f'MoreInfo="" SSLPort="1443" HHSSLPort="1843"/>'
                )
            out.append("</ZoneGroup>")
        out.append("</ZoneGroups><VanishedDevices></VanishedDevices></ZoneGroupState>")
        return "".join(out)


# Actions soco calls without an argument list: for those it composes the
# arguments from the service description (SCPD) at /xml/<Service>1.xml.
_SCPD_ACTIONS: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "DeviceProperties": {
        "GetHouseholdID": ([], ["CurrentHouseholdID"]),
        "GetZoneAttributes": ([], ["CurrentZoneName", "CurrentIcon", "CurrentConfiguration", "CurrentTargetRoomName"]),
        "GetZoneInfo": ([], ["SerialNumber", "SoftwareVersion", "DisplaySoftwareVersion", "HardwareVersion",
                             "IPAddress", "MACAddress", "CopyrightInfo", "ExtraInfo", "HTAudioIn", "Flags"]),
        "GetLEDState": ([], ["CurrentLEDState"]),
    },
    "ZoneGroupTopology": {
        "GetZoneGroupState": ([], ["ZoneGroupState"]),
        "GetZoneGroupAttributes": ([], ["CurrentZoneGroupName", "CurrentZoneGroupID",
                                        "CurrentZonePlayerUUIDsInGroup", "CurrentMuseHouseholdId"]),
    },
}


def _scpd(service: str) -> str | None:
    actions = _SCPD_ACTIONS.get(service)
    if actions is None:
        return None
    names = sorted({n for ins, outs in actions.values() for n in ins + outs})
    state = "".join(
        f'<stateVariable sendEvents="no"><name>A_ARG_TYPE_{n}</name><dataType>string</dataType></stateVariable>'
        for n in names
    )
    acts = []
    for name, (ins, outs) in actions.items():
        args = "".join(
            f"<argument><name>{n}</name><direction>{d}</direction>"
            f"<relatedStateVariable>A_ARG_TYPE_{n}</relatedStateVariable></argument>"
            for d, group in (("in", ins), ("out", outs))
            for n in group
        )
        acts.append(f"<action><name>{name}</name><argumentList>{args}</argumentList></action>")
    return (
        '<?xml version="1.0" encoding="utf-8" ?><scpd xmlns="urn:schemas-upnp-org:service-1-0">'
        "<specVersion><major>1</major><minor>0</minor></specVersion>"
        f"<actionList>{''.join(acts)}</actionList><serviceStateTable>{state}</serviceStateTable></scpd>"
    )


_PATHS = {
    "/MediaRenderer/AVTransport/Control": "AVTransport",
    "/MediaRenderer/RenderingControl/Control": "RenderingControl",
    "/MediaRenderer/GroupRenderingControl/Control": "GroupRenderingControl",
    "/MediaRenderer/Queue/Control": "Queue",
    "/MediaServer/ContentDirectory/Control": "ContentDirectory",
    "/ZoneGroupTopology/Control": "ZoneGroupTopology",
    "/DeviceProperties/Control": "DeviceProperties",
    "/SystemProperties/Control": "SystemProperties",
    "/AlarmClock/Control": "AlarmClock",
    "/MusicServices/Control": "MusicServices",
    "/AudioIn/Control": "AudioIn",
}


class _Handler(BaseHTTPRequestHandler):
    speaker: FakeSonos
    server_version = "Linux UPnP/1.0 Sonos/79.1-56030 (ZPS18)"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def _send(self, status: int, body: str, ctype: str = 'text/xml; charset="utf-8"') -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        scpd = _scpd(path[len("/xml/") : -len("1.xml")]) if path.startswith("/xml/") and path.endswith("1.xml") else None
        if path == "/xml/device_description.xml":
            self._send(200, self.speaker.device_description())
        elif scpd is not None:
            self._send(200, scpd)
        elif self.path.startswith("/status"):
            self._send(200, "<ZPSupportInfo/>")
        else:
            self._send(404, "not found", "text/plain")

    def do_POST(self) -> None:
        service = _PATHS.get(self.path)
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length)
        soap_action = (self.headers.get("SOAPACTION") or "").strip('"')
        if service is None:
            self._send(404, "not found", "text/plain")
            return
        action = soap_action.rsplit("#", 1)[-1]
        try:
            envelope = ET.fromstring(body)
            call = envelope.find(f"{{{SOAP_NS}}}Body")[0]  # type: ignore[index]
            args = {child.tag: child.text or "" for child in call}
            out = self.speaker.handle(service, action, args)
        except UPnPError as err:
            self._send(500, _fault(err.code, err.description))
            return
        except (ET.ParseError, TypeError, IndexError, ValueError, KeyError) as err:
            self._send(500, _fault(402, f"Invalid Args: {err}"))
            return
        parts = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in out.items())
        self._send(
            200,
            f'<?xml version="1.0"?><s:Envelope xmlns:s="{SOAP_NS}" '
            's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
            f'<s:Body><u:{action}Response xmlns:u="urn:schemas-upnp-org:service:{service}:1">{parts}'
            f"</u:{action}Response></s:Body></s:Envelope>",
        )


def _fault(code: int, description: str) -> str:
    return (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{SOAP_NS}" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
        "<s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
        f'<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>{code}</errorCode>'
        f"<errorDescription>{escape(description)}</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>"
    )
