"""Sonos speakers as ``media_player`` entities, driven by SoCo over UPnP/SOAP.

Each speaker (zone) becomes ``media_player.<room slug>`` ("Kitchen" ->
``media_player.kitchen``) with its area guessed from the room name. Speakers are
found from a static ``hosts`` list (plus the rest of their household, which
every speaker knows), by SSDP discovery, or by a bounded scan of the local
network for when multicast is blocked.

SoCo is synchronous and blocking (``requests`` under the hood), so every SoCo
call runs in a worker thread via ``asyncio.to_thread``; the event loop never
waits on a speaker.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from .provider import Area, Entity, HomeError, NothingQueued, Registry

SERVICES = (
    "media_play",
    "media_pause",
    "media_stop",
    "media_next_track",
    "media_previous_track",
    "volume_set",
    "volume_mute",
    "play_media",
    "join",
    "unjoin",
)
_STATES = {"PLAYING": "playing", "TRANSITIONING": "playing", "PAUSED_PLAYBACK": "paused", "STOPPED": "idle"}
_FAVORITE_TYPES = {"favorite", "favorites", "radio", "station", "radio_station", "favorite_item_id"}


def slug(text: str) -> str:
    """``"Living Room"`` -> ``"living_room"``; ASCII only, as entity ids are."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or "sonos"


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", unicodedata.normalize("NFKD", text).lower()).split())


@dataclass
class Music:
    """A playable favorite or saved radio station."""

    title: str
    uri: str
    kind: str  # "favorite" | "radio"
    meta: str = ""  # DIDL metadata Sonos wants alongside the URI (a favorite's resMD)
    item: Any = None  # the SoCo DIDL object, for queueing containers


def match_music(name: str, items: list[Music]) -> Music:
    """Pick one favorite by a loosely spoken name; ambiguity is an error that lists the candidates.

    Order: exact (ignoring case and punctuation), then whole-word containment,
    then close spelling. Favorites win over radio stations with the same title.
    """
    want = _norm(name)
    if not want:
        raise HomeError("say which favorite or station to play")
    if not items:
        raise HomeError("no Sonos favorites or saved radio stations found")

    def pick(hits: list[Music]) -> Music | None:
        if not hits:
            return None
        titles = {_norm(h.title) for h in hits}
        if len(titles) == 1:
            return sorted(hits, key=lambda m: m.kind != "favorite")[0]
        listed = ", ".join(sorted({h.title for h in hits}))
        raise HomeError(f'"{name}" matches several Sonos favorites: {listed}; say which one')

    squeezed = want.replace(" ", "")
    found = pick([m for m in items if _norm(m.title) == want]) or pick(
        [m for m in items if _norm(m.title).replace(" ", "") == squeezed]
    )
    if found is None:
        words = want.split()

        def contains(title: str) -> bool:
            toks = title.split()
            said_all = all(any(t.startswith(w) for t in toks) for w in words)  # "jazz" ~ "Jazz FM", "Jazz24"
            return said_all or f" {title} " in f" {want} "  # "jazz fm radio" ~ "Jazz FM"

        found = pick([m for m in items if contains(_norm(m.title))])
    if found is None:
        close = difflib.get_close_matches(want, [_norm(m.title) for m in items], n=3, cutoff=0.75)
        if close:
            best = [m for m in items if _norm(m.title) == close[0]]
            found = pick(best)
    if found is None:
        names = ", ".join(sorted({m.title for m in items}))
        raise HomeError(f'no Sonos favorite or radio station called "{name}"; there are: {names}')
    return found


@dataclass
class _Speaker:
    soco: Any
    ip: str
    room: str
    uid: str
    model: str
    entity_id: str
    area: str
    state: str = "unknown"
    attributes: dict[str, Any] = field(default_factory=dict)


def _reason(err: BaseException) -> str:
    import requests

    if isinstance(err, (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError, TimeoutError)):
        return "not reachable"
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:200]


def _errors() -> tuple[type[BaseException], ...]:
    import requests
    from soco.exceptions import SoCoException

    return (SoCoException, requests.exceptions.RequestException, OSError, ValueError, KeyError, AttributeError,
            TypeError, SyntaxError)  # SyntaxError covers xml ParseError


# ---------------------------------------------------------------------------------------------
# Blocking helpers (run in worker threads)


def _locate(
    hosts: list[str], discover: bool, scan: bool, networks: list[str] | None, timeout: float
) -> tuple[dict[str, Any], dict[str, str]]:
    """Find SoCo zones: ``({ip: SoCo}, {unreachable ip: reason})``. Blocking."""
    import soco
    import soco.discovery

    zones: dict[str, Any] = {}
    unreachable: dict[str, str] = {}
    for host in hosts:
        try:
            device = soco.SoCo(host)
            device.get_speaker_info(refresh=True, timeout=timeout)
            device.zone_group_state.clear_cache()
            zones[host] = device
            for other in device.visible_zones:  # one speaker knows its whole household
                zones.setdefault(other.ip_address, other)
        except _errors() as err:
            unreachable[host] = _reason(err)
    if discover and not zones:
        for device in soco.discovery.discover(timeout=max(1, int(timeout))) or ():
            zones.setdefault(device.ip_address, device)
    if scan and not zones:
        found = soco.discovery.scan_network(
            include_invisible=False,
            multi_household=False,
            max_threads=64,
            scan_timeout=min(timeout, 0.5),
            min_netmask=24,  # never more than a /24 per interface
            networks_to_scan=networks,
        )
        for device in found or ():
            zones.setdefault(device.ip_address, device)
    return zones, unreachable


def _describe(device: Any, timeout: float) -> tuple[str, str, str]:
    """``(room, uid, model)`` of a zone. Blocking."""
    info = device.get_speaker_info(refresh=True, timeout=timeout)
    room = device.player_name or info.get("zone_name") or device.ip_address
    return room, device.uid, info.get("model_name") or "Sonos"


def _music(device: Any) -> list[Music]:
    """Sonos favorites and saved radio stations of the household. Blocking."""
    out: list[Music] = []
    for fav in device.music_library.get_sonos_favorites(complete_result=True):
        try:
            uri = fav.get_uri()
        except Exception:  # noqa: BLE001 - a favorite without a resource is not playable
            continue
        out.append(Music(fav.title, uri, "favorite", getattr(fav, "resource_meta_data", "") or "", fav))
    for station in device.music_library.get_favorite_radio_stations(complete_result=True):
        try:
            out.append(Music(station.title, station.get_uri(), "radio", "", station))
        except Exception:  # noqa: BLE001
            continue
    return out


def _read(device: Any) -> dict[str, Any]:
    """Raw state of one zone (transport and track from its group's coordinator). Blocking."""
    group = device.group
    coordinator = group.coordinator if group is not None and group.coordinator is not None else device
    members = sorted(group.members, key=lambda z: z is not coordinator) if group is not None else [device]
    transport = coordinator.get_current_transport_info()["current_transport_state"]
    track = coordinator.get_current_track_info()
    media = coordinator.get_current_media_info()
    return {
        "transport": transport,
        "track": track,
        "media": media,
        "volume": device.volume,
        "muted": device.mute,
        "members": [(z.uid, z.ip_address) for z in members if z.is_visible],
        "coordinator_ip": coordinator.ip_address,
    }


def _play_music(device: Any, music: Music) -> None:
    """Play a favorite or station the way the Sonos app does. Blocking."""
    from soco.core import MUSIC_SRC_LINE_IN, MUSIC_SRC_RADIO

    source = device.music_source_from_uri(music.uri)
    if music.kind == "radio" or source in (MUSIC_SRC_RADIO, MUSIC_SRC_LINE_IN) or music.item is None:
        if music.meta:
            device.play_uri(music.uri, meta=music.meta)
        else:
            device.play_uri(music.uri, title=music.title)
        return
    reference = music.item.reference if music.kind == "favorite" else music.item
    device.clear_queue()
    device.add_to_queue(reference)
    device.play_from_queue(0)


# ---------------------------------------------------------------------------------------------


class SonosProvider:
    """Sonos speakers as ``media_player`` entities.

    Args:
        hosts: static speaker addresses (``[home.sonos] hosts``); the rest of
            each speaker's household is added from its zone topology.
        discover: try SSDP discovery (``soco.discover``) when no host answered.
        scan_network: scan the local /24 networks for port 1400 when discovery
            found nothing (multicast blocked); bounded to 64 threads, 0.5 s a host.
        log: structlog-style logger (``log.info("event", key=value)``).
        timeout: seconds for one speaker request; also sets SoCo's process-wide
            ``config.REQUEST_TIMEOUT``, as SoCo has no per-instance timeout.
        networks: CIDRs to scan instead of the interfaces' own (tests: loopback).
        poll_interval: seconds between state polls (and retries of unreachable
            hosts); 0 disables polling. State is always refreshed after a call.
        favorites_ttl: seconds to keep the favorites list before reloading it.
    """

    name = "sonos"

    def __init__(
        self,
        hosts: list[str] | None,
        discover: bool,
        scan_network: bool,
        log: Any,
        timeout: float = 5.0,
        *,
        networks: list[str] | None = None,
        poll_interval: float = 30.0,
        favorites_ttl: float = 300.0,
    ) -> None:
        self.hosts = list(hosts or [])
        self.discover = discover
        self.scan_network = scan_network
        self.log = log
        self.timeout = timeout
        self.networks = networks
        self.poll_interval = poll_interval
        self.favorites_ttl = favorites_ttl
        self._registry: Registry | None = None
        self._speakers: dict[str, _Speaker] = {}  # entity_id -> speaker
        self._unreachable: dict[str, str] = {}  # ip -> reason
        self._music: list[Music] = []
        self._music_at = -1e9
        self._poller: asyncio.Task[None] | None = None
        self._started = False

    # ---- Provider -------------------------------------------------------------------------

    async def start(self, registry: Registry) -> None:
        from soco import config as soco_config

        soco_config.REQUEST_TIMEOUT = self.timeout
        self._registry = registry
        await self._find()
        self._started = True
        if self.poll_interval > 0:
            self._poller = asyncio.create_task(self._poll(), name="sonos-poll")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except asyncio.CancelledError:
                pass
            self._poller = None
        self._started = False

    def health(self) -> dict[str, Any]:
        if self._unreachable:
            listed = ", ".join(f"{ip} ({why})" for ip, why in sorted(self._unreachable.items()))
            return {"ok": False, "detail": f"unreachable Sonos speakers: {listed}",
                    "speakers": len(self._speakers), "unreachable": sorted(self._unreachable)}
        if not self._speakers:
            return {"ok": False, "detail": "no Sonos speakers found", "speakers": 0, "unreachable": []}
        return {"ok": True, "detail": f"{len(self._speakers)} Sonos speakers", "speakers": len(self._speakers),
                "unreachable": []}

    async def call_service(self, domain: str, service: str, entity_ids: list[str], data: dict[str, Any]) -> None:
        if domain != "media_player":
            raise HomeError(f"Sonos only handles media_player services, not {domain}.{service}")
        if service not in SERVICES:
            raise HomeError(f"media_player.{service} is not supported by Sonos (supported: {', '.join(SERVICES)})")
        speakers = [self._speaker(eid) for eid in entity_ids]
        if not speakers:
            raise HomeError(f"media_player.{service} needs a Sonos speaker")
        data = dict(data or {})
        try:
            if service == "volume_set":
                level = self._volume(data)
                await self._each(speakers, "set the volume", lambda sp: setattr(sp.soco, "volume", level))
            elif service == "volume_mute":
                if "is_volume_muted" not in data:
                    raise HomeError("volume_mute needs is_volume_muted (true or false)")
                muted = _bool(data["is_volume_muted"])
                await self._each(speakers, "mute", lambda sp: setattr(sp.soco, "mute", muted))
            elif service == "play_media":
                await self._play_media(speakers, data)
            elif service == "join":
                await self._join(speakers, data)
            elif service == "unjoin":
                await self._each(speakers, "ungroup", lambda sp: sp.soco.unjoin())
            else:
                action = {
                    "media_play": ("play", lambda c: c.play()),
                    "media_pause": ("pause", lambda c: c.pause()),
                    "media_stop": ("stop", lambda c: c.stop()),
                    "media_next_track": ("skip to the next track", lambda c: c.next()),
                    "media_previous_track": ("go back a track", lambda c: c.previous()),
                }[service]
                await self._each(self._coordinators(speakers), action[0], lambda sp: action[1](sp.soco))
            self.log.info("sonos.call", service=service, entity_ids=entity_ids, data=data)
        finally:
            await self.refresh()

    # ---- public helpers ---------------------------------------------------------------------

    @property
    def speakers(self) -> list[dict[str, Any]]:
        """Known speakers as plain dicts (room, ip, model, entity_id, state, title...)."""
        return [_summary(sp) for sp in self._speakers.values()]

    async def favorites(self, reload: bool = False) -> list[Music]:
        """The household's Sonos favorites and saved radio stations (cached for ``favorites_ttl``)."""
        loop = asyncio.get_running_loop()
        if reload or loop.time() - self._music_at > self.favorites_ttl:
            device = next((sp.soco for sp in self._speakers.values() if sp.ip not in self._unreachable), None)
            if device is None:
                raise HomeError("no reachable Sonos speaker to read favorites from")
            try:
                self._music = await asyncio.to_thread(_music, device)
            except _errors() as err:
                raise HomeError(f"could not read Sonos favorites: {_reason(err)}") from err
            self._music_at = loop.time()
        return list(self._music)

    async def refresh(self, entity_ids: list[str] | None = None) -> None:
        """Re-read speaker state and push changes to the registry; failures mark a speaker unavailable."""
        targets = [self._speakers[e] for e in entity_ids if e in self._speakers] if entity_ids else list(self._speakers.values())
        if not targets:
            return
        try:
            await asyncio.to_thread(targets[0].soco.zone_group_state.clear_cache)
        except _errors():
            pass
        results = await asyncio.gather(*(asyncio.to_thread(_read, sp.soco) for sp in targets), return_exceptions=True)
        by_uid = {sp.uid: sp.entity_id for sp in self._speakers.values()}
        titles = {m.uri: m.title for m in self._music}
        for sp, res in zip(targets, results, strict=True):
            if isinstance(res, BaseException):
                if not isinstance(res, _errors()):
                    raise res
                if sp.ip not in self._unreachable:
                    self.log.warning("sonos.unreachable", room=sp.room, ip=sp.ip, error=_reason(res))
                self._unreachable[sp.ip] = _reason(res)
                self._set(sp, "unavailable", sp.attributes)
                continue
            if self._unreachable.pop(sp.ip, None) is not None:
                self.log.info("sonos.reachable", room=sp.room, ip=sp.ip)
            self._set(sp, *_state(res, by_uid, titles, [m.title for m in self._music], sp))

    # ---- internals --------------------------------------------------------------------------

    async def _find(self) -> None:
        zones, unreachable = await asyncio.to_thread(
            _locate, self.hosts, self.discover, self.scan_network, self.networks, self.timeout
        )
        for ip, why in unreachable.items():
            if ip not in self._unreachable:
                self.log.warning("sonos.unreachable", ip=ip, error=why)
        known_ips = {sp.ip for sp in self._speakers.values()}
        self._unreachable = {ip: why for ip, why in self._unreachable.items() if ip in known_ips} | unreachable
        new = [z for ip, z in zones.items() if ip not in known_ips]
        described = await asyncio.gather(*(asyncio.to_thread(_describe, z, self.timeout) for z in new), return_exceptions=True)
        for device, res in zip(new, described, strict=True):
            if isinstance(res, BaseException):
                self._unreachable[device.ip_address] = _reason(res)
                self.log.warning("sonos.unreachable", ip=device.ip_address, error=_reason(res))
                continue
            room, uid, model = res
            self._add(device, room, uid, model)
        if self._speakers:
            try:
                await self.favorites(reload=True)
            except HomeError as err:
                self.log.warning("sonos.favorites_failed", error=str(err))
            await self.refresh()

    def _add(self, device: Any, room: str, uid: str, model: str) -> None:
        base = f"media_player.{slug(room)}"
        entity_id, n = base, 2
        while entity_id in self._speakers:
            entity_id, n = f"{base}_{n}", n + 1
        sp = _Speaker(device, device.ip_address, room, uid, model, entity_id, slug(room))
        self._speakers[entity_id] = sp
        self.log.info("sonos.found", room=room, ip=sp.ip, model=model, entity_id=entity_id)
        if self._registry is None:
            return
        existing = getattr(self._registry, "area", None)
        if not (callable(existing) and existing(sp.area) is not None):
            self._registry.upsert_area(Area(id=sp.area, name=room))
        self._registry.upsert_entity(
            Entity(entity_id, room, area=sp.area, state="unknown", attributes={},
                   aliases=[f"{room} Sonos", f"{room} speaker"], provider=self.name)
        )

    def _set(self, sp: _Speaker, state: str, attributes: dict[str, Any]) -> None:
        if (sp.state, sp.attributes) == (state, attributes):
            return
        sp.state, sp.attributes = state, attributes
        if self._registry is not None:
            self._registry.update_state(sp.entity_id, state, dict(attributes))

    def _speaker(self, entity_id: str) -> _Speaker:
        sp = self._speakers.get(entity_id)
        if sp is None:
            rooms = ", ".join(sorted(self._speakers)) or "none"
            raise HomeError(f"{entity_id} is not a Sonos speaker (known: {rooms})")
        return sp

    def _coordinators(self, speakers: list[_Speaker]) -> list[_Speaker]:
        """Transport commands go to a group's coordinator, once per group (as in Home Assistant)."""
        by_ip = {sp.ip: sp for sp in self._speakers.values()}
        out: list[_Speaker] = []
        for sp in speakers:
            coord = by_ip.get(sp.attributes.get("coordinator_ip", sp.ip), sp)
            if coord not in out:
                out.append(coord)
        return out

    async def _each(self, speakers: list[_Speaker], what: str, fn: Any) -> None:
        for sp in speakers:
            try:
                await asyncio.to_thread(fn, sp)
            except _errors() as err:
                self.log.warning("sonos.call_failed", room=sp.room, ip=sp.ip, action=what, error=_reason(err))
                if what == "play" and getattr(err, "error_code", None) == "701":  # UPnP: Transition not available
                    raise NothingQueued(f"nothing is queued on {sp.room}") from err
                raise HomeError(f"Sonos {sp.room} ({sp.ip}) could not {what}: {_reason(err)}") from err

    @staticmethod
    def _volume(data: dict[str, Any]) -> int:
        if "volume_level" not in data:
            raise HomeError("volume_set needs volume_level between 0 and 1")
        try:
            level = float(data["volume_level"])
        except (TypeError, ValueError):
            raise HomeError(f"volume_level must be a number between 0 and 1, not {data['volume_level']!r}") from None
        if not 0.0 <= level <= 1.0:
            raise HomeError(f"volume_level must be between 0 and 1, not {level:g}")
        return round(level * 100)

    async def _play_media(self, speakers: list[_Speaker], data: dict[str, Any]) -> None:
        content_id = str(data.get("media_content_id") or data.get("name") or "").strip()
        content_type = str(data.get("media_content_type") or "").strip().lower()
        if not content_id:
            raise HomeError("play_media needs media_content_id (a URI, or a favorite's name)")
        targets = self._coordinators(speakers)
        if content_type == "favorite_item_id":
            favs = await self.favorites()
            music = next((m for m in favs if getattr(m.item, "item_id", None) == content_id), None)
            if music is None:
                favs = await self.favorites(reload=True)
                music = next((m for m in favs if getattr(m.item, "item_id", None) == content_id), None)
            if music is None:
                raise HomeError(f"no Sonos favorite with id {content_id}")
        elif content_type in _FAVORITE_TYPES or not re.match(r"^[a-z][a-z0-9+.-]*:", content_id, re.I):
            try:
                music = match_music(content_id, await self.favorites())
            except HomeError:
                music = match_music(content_id, await self.favorites(reload=True))
        else:
            music = Music(str(data.get("title") or ""), content_id, "uri", str(data.get("metadata") or ""))
        self.log.info("sonos.play", title=music.title, uri=music.uri, rooms=[sp.room for sp in targets])
        await self._each(targets, f"play {music.title or music.uri}", lambda sp: _play_uri_or_music(sp.soco, music))

    async def _join(self, speakers: list[_Speaker], data: dict[str, Any]) -> None:
        members = data.get("group_members")
        if isinstance(members, str):
            members = [members]
        if not members:
            raise HomeError("join needs group_members: the speakers to add to the group")
        master = speakers[0]
        others = [self._speaker(str(eid)) for eid in members]
        await self._each(
            [sp for sp in others if sp is not master], f"join {master.room}", lambda sp: sp.soco.join(master.soco)
        )

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                if any(ip in self.hosts for ip in self._unreachable) or not self._speakers:
                    await self._find()
                else:
                    await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - polling must never die
                self.log.warning("sonos.poll_failed", error=str(err))


def _play_uri_or_music(device: Any, music: Music) -> None:
    if music.kind == "uri":
        if music.meta:
            device.play_uri(music.uri, meta=music.meta)
        else:
            device.play_uri(music.uri, title=music.title)
    else:
        _play_music(device, music)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1", "mute", "muted"):
        return True
    if text in ("false", "no", "off", "0", "unmute", "unmuted"):
        return False
    raise HomeError(f"is_volume_muted must be true or false, not {value!r}")


def _state(
    raw: dict[str, Any], by_uid: dict[str, str], titles: dict[str, str], favorites: list[str], sp: _Speaker
) -> tuple[str, dict[str, Any]]:
    from soco.core import SoCo

    track, media = raw["track"], raw["media"]
    source = titles.get(media.get("uri", "")) or media.get("channel") or None
    if not source:
        kind = SoCo.music_source_from_uri(track.get("uri") or media.get("uri") or "")
        source = None if kind in ("NONE", "UNKNOWN") else kind.lower()
    attrs = {
        "volume_level": round(int(raw["volume"]) / 100, 2),
        "is_volume_muted": bool(raw["muted"]),
        "media_title": track.get("title") or media.get("channel") or None,
        "media_artist": track.get("artist") or None,
        "media_album_name": track.get("album") or None,
        "media_content_id": media.get("uri") or track.get("uri") or None,
        "source": source,
        "group_members": [by_uid.get(uid, ip) for uid, ip in raw["members"]],
        "coordinator_ip": raw["coordinator_ip"],
        "favorites": favorites,
        "friendly_name": sp.room,
        "ip": sp.ip,
        "model": sp.model,
    }
    return _STATES.get(raw["transport"], "idle"), attrs


def _summary(sp: _Speaker) -> dict[str, Any]:
    a = sp.attributes
    return {
        "room": sp.room,
        "ip": sp.ip,
        "model": sp.model,
        "entity_id": sp.entity_id,
        "state": sp.state,
        "title": a.get("media_title"),
        "artist": a.get("media_artist"),
        "source": a.get("source"),
        "volume": a.get("volume_level"),
        "group": a.get("group_members", []),
    }


async def find_speakers(
    hosts: list[str] | None = None,
    discover: bool = True,
    scan_network: bool = False,
    log: Any = None,
    timeout: float = 3.0,
    *,
    networks: list[str] | None = None,
) -> list[dict[str, Any]]:
    """"Find my Sonos": every speaker reachable now, with room, ip, model and what it is playing.

    Uses a throwaway provider (no registry, no polling); unreachable static hosts
    are listed with ``"state": "unreachable"`` so the owner hears about them.
    """
    provider = SonosProvider(hosts, discover, scan_network, log or _NullLog(), timeout,
                             networks=networks, poll_interval=0)
    await provider._find()  # noqa: SLF001 - same module
    found = sorted(provider.speakers, key=lambda s: s["room"].lower())
    found += [{"room": None, "ip": ip, "model": None, "entity_id": None, "state": "unreachable", "error": why}
              for ip, why in sorted(provider._unreachable.items()) if ip not in {s["ip"] for s in found}]
    return found


class _NullLog:
    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None
