"""The ``home`` skill: starts the configured providers, publishes the registry, offers three tools.

Few consolidated tools (``home_status``, ``home_control``, ``music``) because
every token of tool schema is paid on every turn. Targets are what the owner
said; the registry resolves them and an ambiguous one comes back as a question,
never as a guess. Each device call is reported through ``ToolContext.record_service``.
"""

from __future__ import annotations

import asyncio
import difflib
import ipaddress
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from claw.skill import Confirm, Skill, SkillConfig, ToolContext, ToolError, tool

from . import adopt
from . import services as svc
from .describe import describe
from .discovery import Found, run_cli
from .provider import Entity, HomeError, NothingQueued, Provider, UnknownTarget
from .registry import HomeRegistry

BACKENDS = ("demo", "homeassistant", "sonos")
SIMULATED = ("(Simulated: claw's demo house, no real device is touched. Tell the owner so; to use real ones, "
             "search with discover or set up [home] in config.toml.)")
SIMULATED_TOO = "(Simulated, as home_control says.)"  # the full note once: it is paid on every turn


class HomeAssistantConfig(BaseModel):
    """``[home.homeassistant]``."""

    model_config = ConfigDict(extra="forbid")

    url: str
    token: str = ""  # empty: $HOMEASSISTANT_TOKEN
    timeout: float = 10.0
    verify_ssl: bool = True


class SonosConfig(BaseModel):
    """``[home.sonos]``: static hosts, else SSDP discovery, else a scan of the local /24s."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    hosts: list[str] = []
    discover: bool = True
    scan_network: bool = True
    networks: list[str] | None = None  # CIDRs to scan instead of the interfaces' own
    timeout: float = 5.0
    poll_interval: float = 30.0
    favorites_ttl: float = 300.0


class DiscoveryConfig(BaseModel):
    """``[home.discovery]``: where the ``discover`` tool looks (``claw discover`` takes options instead)."""

    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(3.0, gt=0, le=30)
    subnets: list[str] | None = None  # CIDRs to TCP-probe; default: this box's own networks (each at most a /24)
    interfaces: list[str] | None = None  # IPv4 addresses for SSDP/mDNS; default: all
    ssdp: bool | None = None  # multicast; default: on, unless subnets are given (then only those are searched)
    mdns: bool | None = None
    probe: bool = True
    max_hosts: int = Field(1024, ge=1, le=4096)

    def multicast(self, subnets: list[str] | None = None) -> tuple[bool, bool]:
        """(ssdp, mdns): what is set, else on only when no subnets limit the search."""
        default = not (subnets if subnets is not None else self.subnets)
        return (default if self.ssdp is None else self.ssdp, default if self.mdns is None else self.mdns)

    @field_validator("subnets")
    @classmethod
    def _networks(cls, value: list[str] | None) -> list[str] | None:
        for cidr in value or []:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"{cidr!r} is not a network; expected CIDR such as 192.168.1.0/24") from None
        return value


class HomeConfig(SkillConfig):
    """``[home]``: which backends run, and their settings."""

    backend: str | list[str] | None = None
    file: Path | None = None
    homeassistant: HomeAssistantConfig | None = None
    sonos: SonosConfig | None = None
    discovery: DiscoveryConfig = DiscoveryConfig()

    @model_validator(mode="after")
    def _check_backends(self) -> HomeConfig:
        for name in self.named_backends():
            if name not in (*BACKENDS, "none"):
                raise ValueError(f"unknown home backend {name!r}; choose from {', '.join(BACKENDS)}")
        if "homeassistant" in self.named_backends() and self.homeassistant is None:
            raise ValueError("backend 'homeassistant' needs a [home.homeassistant] table with url and token")
        return self

    def named_backends(self) -> list[str]:
        if self.backend is None:
            return []
        return [self.backend] if isinstance(self.backend, str) else list(self.backend)

    def backends(self, adopted: Iterable[str] = ()) -> list[str]:
        """Named, configured and adopted backends; the demo house only when nothing else is (or when named)."""
        named = self.named_backends()
        chosen = [n for n in named if n != "none"]
        if self.file is not None:
            chosen.append("demo")
        if self.homeassistant is not None:
            chosen.append("homeassistant")
        if self.sonos is not None and self.sonos.enabled:
            chosen.append("sonos")
        chosen += [name for name in adopted if not (name == "sonos" and self.sonos and not self.sonos.enabled)]
        chosen = list(dict.fromkeys(chosen))
        if not chosen and "none" not in named:
            chosen = ["demo"]
        return chosen


# action -> domains that can do it, most likely first; a second group is tried only when the first fits nothing
_ACTION_DOMAINS: dict[str, list[tuple[str, ...]]] = {
    "on": [("light", "switch", "fan"), ("climate", "media_player")],
    "off": [("light", "switch", "fan"), ("climate", "media_player")],
    "open": [("cover",)],
    "close": [("cover",)],
    "lock": [("lock",)],
    "unlock": [("lock",)],
}
#: Covers and locks that let people in: opening one unattended waits for the owner, like unlock.
_ENTRY_CLASSES = {"garage", "gate", "door"}
_ENTRY_WORDS = re.compile(r"\b(garage|gate|door|entr(?:y|ance))s?\b", re.I)
#: action -> (imperative, past tense), for questions and results the owner reads
_VERB = {"on": ("Turn on", "Turned on"), "off": ("Turn off", "Turned off"), "open": ("Open", "Opened"),
         "close": ("Close", "Closed"), "lock": ("Lock", "Locked"), "unlock": ("Unlock", "Unlocked"),
         "set": ("Set", "Set")}


def _and(names: list[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    if len(names) < 2:
        return names[0] if names else "devices"
    return ", ".join(names[:-1]) + " and " + names[-1]


_SERVICE = {
    ("on", "light"): "light.turn_on", ("off", "light"): "light.turn_off",
    ("on", "switch"): "switch.turn_on", ("off", "switch"): "switch.turn_off",
    ("on", "fan"): "fan.turn_on", ("off", "fan"): "fan.turn_off",
    ("on", "climate"): "climate.turn_on", ("off", "climate"): "climate.turn_off",
    ("on", "media_player"): "media_player.turn_on", ("off", "media_player"): "media_player.turn_off",
    ("open", "cover"): "cover.open_cover", ("close", "cover"): "cover.close_cover",
    ("lock", "lock"): "lock.lock", ("unlock", "lock"): "lock.unlock",
}
_WHITES = {"warm white": 2700, "soft white": 2700, "white": 4000, "cool white": 5000, "daylight": 6500}
_URI = re.compile(r"^[a-z][a-z0-9+.-]*:\S+$", re.I)


def _color_data(color: str) -> dict[str, Any]:
    c = color.strip().lower()
    if c in _WHITES:
        return {"color_temp_kelvin": _WHITES[c]}
    if m := re.fullmatch(r"(\d{4,5})\s*k", c):
        return {"color_temp_kelvin": int(m.group(1))}
    if re.fullmatch(r"#?[0-9a-f]{6}", c) or re.fullmatch(r"\(?\s*\d+\s*[, ]\s*\d+\s*[, ]\s*\d+\s*\)?", c):
        return {"rgb_color": c}
    return {"color_name": c}


class Home(Skill):
    """Lights, heating, locks, covers, switches and music in the home."""

    name = "home"
    section = "home"
    Config = HomeConfig
    # ``claw discover`` finds these hooks on the skill class, so ``claw`` never imports ``skills.home``.
    @staticmethod
    async def cli_discover(config: HomeConfig, **options: Any) -> tuple[str, list[str]]:
        return await run_cli(config.discovery, **options)

    @staticmethod
    def cli_devices(action: str, addresses: list[str]) -> tuple[str, dict[str, Any]]:
        """The tool call the daemon runs for ``claw discover --adopt|--list|--forget``."""
        return "home_devices", {"action": action, "addresses": addresses or None}

    def __init__(self, config: HomeConfig, ctx: Any):
        super().__init__(config, ctx)
        self.config: HomeConfig = config
        self.registry = HomeRegistry(ctx.log)
        self.adopted: list[adopt.Adopted] = []
        self._running: dict[str, tuple[str, ...]] = {}  # backend -> the settings it was started with
        self._found: dict[str, Found] = {}  # address -> what the last search saw, for "yes, use them"
        self._lock = asyncio.Lock()

    # ---- lifecycle ---------------------------------------------------------------------

    async def setup(self) -> None:
        self.adopted = await adopt.load(self.ctx.state)
        async with self._lock:
            await self._reconcile()
        self.ctx.shared.home = self.registry

    def _wanted(self) -> dict[str, tuple[str, ...]]:
        """Backend -> the settings it should run with, from config.toml and what the owner adopted."""
        wanted: dict[str, tuple[str, ...]] = {}
        for name in self.config.backends(adopt.BACKEND[a.kind] for a in self.adopted):
            if name == "sonos":
                wanted[name] = tuple(dict.fromkeys(self._sonos_hosts()))
            elif name == "homeassistant":
                wanted[name] = (self._ha_url(),)
            else:
                wanted[name] = ()
        return wanted

    def _sonos_hosts(self) -> list[str]:
        configured = self.config.sonos.hosts if self.config.sonos else []
        return [*configured, *(a.address for a in self.adopted if a.kind == "sonos")]

    def _ha_url(self) -> str:
        if self.config.homeassistant is not None:  # config.toml wins over an adopted instance
            return self.config.homeassistant.url
        return next(a.url for a in self.adopted if a.kind == "home-assistant")

    async def _reconcile(self) -> None:
        """Run exactly the wanted backends: stop what left or changed (the demo house first), start what is new.
        Called with ``_lock`` held: two tool calls of one step may adopt at once."""
        wanted = self._wanted()
        for name in [n for n, key in self._running.items() if wanted.get(n) != key]:
            await self._stop(name)
        for name, key in wanted.items():
            if name in self._running:
                continue
            self._running[name] = key
            try:
                provider = self._make_provider(name)
            except Exception as exc:
                self._failed(name, exc)
                continue
            self.registry.add_provider(provider)
            try:
                await provider.start(self.registry)
            except BaseException as exc:  # cancelled too: nothing half-started may stay behind
                await self._stop(name)
                self._failed(name, exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            self.ctx.log.info("home.provider_started", provider=name, entities=len(self.registry.entities()))

    async def _stop(self, name: str) -> None:
        self._running.pop(name, None)
        provider = self.registry.providers.get(name)
        if provider is not None:
            try:
                await provider.stop()
            except Exception as exc:
                self.ctx.log.warning("home.provider_stop_failed", provider=name, error=str(exc))
        self.registry.remove_provider(name)
        self.ctx.log.info("home.provider_stopped", provider=name)

    def _failed(self, name: str, exc: BaseException) -> None:
        detail = str(exc) or type(exc).__name__
        self.ctx.log.error("home.provider_failed", provider=name, error=detail)
        self.registry.provider_failed(name, detail)

    def _make_provider(self, name: str) -> Provider:
        cfg = self.config
        if name == "demo":
            from .demo import DemoProvider

            return DemoProvider(cfg.file)
        if name == "homeassistant":
            from .homeassistant import HomeAssistantProvider

            ha = cfg.homeassistant or HomeAssistantConfig(url=self._ha_url())
            token = ha.token or os.environ.get("HOMEASSISTANT_TOKEN", "")
            if not token:
                raise HomeError(f"Home Assistant at {ha.url} needs a long-lived access token: set HOMEASSISTANT_TOKEN "
                                "in claw's environment (or token in [home.homeassistant]) and restart; "
                                "`claw doctor` checks it")
            return HomeAssistantProvider(ha.url, token, log=self.ctx.log, timeout=ha.timeout, verify_ssl=ha.verify_ssl)
        if name == "sonos":
            from .sonos import SonosProvider  # imported only when configured: soco is optional

            sonos = cfg.sonos or SonosConfig(discover=False, scan_network=False)  # adopted: the addresses are known
            return SonosProvider(
                self._sonos_hosts(),
                sonos.discover,
                sonos.scan_network,
                self.ctx.log,
                sonos.timeout,
                networks=sonos.networks,
                poll_interval=sonos.poll_interval,
                favorites_ttl=sonos.favorites_ttl,
            )
        raise HomeError(f"unknown home backend {name!r}")

    async def close(self) -> None:
        for provider in list(self.registry.providers.values()):
            try:
                await provider.stop()
            except Exception as exc:
                self.ctx.log.warning("home.provider_stop_failed", provider=provider.name, error=str(exc))

    def health(self) -> dict[str, Any]:
        return self.registry.health()

    # ---- helpers -----------------------------------------------------------------------

    def _area_name(self, e: Entity) -> str:
        area = self.registry.area(e.area)
        return area.name if area else ""

    def _line(self, e: Entity) -> str:
        return f"{e.name}: {describe(e)}" + (" (simulated)" if e.attributes.get("simulated") else "")

    def tool_notes(self) -> dict[str, str]:
        if "demo" not in self._running:
            return {}
        return {"home_control": SIMULATED, "home_status": SIMULATED_TOO, "music": SIMULATED_TOO}

    def _stale_note(self) -> str:
        bad = [
            f"{name}: {h.get('detail', 'not ok')}"
            for name, h in self.registry.health()["providers"].items()
            if not h.get("ok")
        ]
        return f"\n(warning: {'; '.join(bad)}; states may be out of date)" if bad else ""

    def _resolve(self, target: str, domains: tuple[str, ...] | str | None, many: bool = False) -> list[Entity]:
        try:
            return self.registry.resolve(target, domains, many=many)
        except HomeError as exc:
            raise ToolError(str(exc) + self._stale_note()) from None

    async def _call(self, ctx: ToolContext, plan: list[tuple[str, list[Entity], dict[str, Any]]]) -> list[str]:
        """Validate every call first (nothing is touched when one is wrong), then run and report each."""
        try:
            cleaned = [(service, ents, svc.validate(service, ents, data)) for service, ents, data in plan]
        except HomeError as exc:
            raise ToolError(f"refused: {exc}") from None
        errors = []
        for service, ents, data in cleaned:
            ids = [e.entity_id for e in ents]
            try:
                sent = await self.registry.call_service(service, ids, data)
            except HomeError as exc:
                ctx.record_service(service, ids, data, False, str(exc))
                if isinstance(exc, NothingQueued):
                    raise
                errors.append(f"{', '.join(e.name for e in ents)}: {exc}")
                continue
            ctx.record_service(service, ids, sent, True)
        done = [self._line(self.registry.get(e.entity_id) or e) for _, ents, _ in cleaned for e in ents]
        if errors:
            raise ToolError("failed: " + "; ".join(errors) + self._stale_note())
        return done

    def _summary(self, args: Any) -> str:
        """What a home_control call does, as the owner reads it when asked to confirm ("Unlock the Front Door")."""
        try:
            names = [e.name for e in self._targets(args.target, args.action)]
        except (HomeError, ToolError):
            names = [args.target]
        return f"{_VERB[args.action][0]} the {_and(names)}"

    def _needs_yes(self, args: Any, ctx: ToolContext | None) -> bool:
        """Unlock always waits for the owner. Opening a garage door, gate or entry door does too when nobody asked
        just now (a routine, a watcher), unless the owner allowed it when creating that task."""
        if args.action == "unlock":
            return True
        if args.action != "open" or (ctx is not None and (ctx.origin == "user" or ctx.may_open)):
            return False
        try:
            found = self._targets(args.target, "open")
        except (HomeError, ToolError):
            return bool(_ENTRY_WORDS.search(args.target))  # it will fail anyway; ask rather than guess
        return any(e.domain in ("cover", "lock") and (e.attributes.get("device_class") in _ENTRY_CLASSES
                                                     or _ENTRY_WORDS.search(e.name)) for e in found)

    def _music_summary(self, args: Any) -> str:
        where = f" on the {args.room}" if args.room else ""
        if args.action == "play":
            return f"Play {args.query or 'music'}{where}"
        if args.action == "volume":
            return f"Set the volume{where} to {args.volume}%"
        return f"{args.action.capitalize()} the music{where}"

    # ---- tools -------------------------------------------------------------------------

    @tool(effect="read")  # devices report words from outside: a track title, a sensor's text, a name
    async def home_status(self, target: str | None = None, domain: str | None = None) -> str:
        """State of home devices: all, an area, a kind, or named devices.

        Args:
            target: e.g. "kitchen", "garage door"; omit for all.
            domain: light, switch, climate, media_player, cover, lock, sensor, camera, fan.
        """
        if target:
            entities = self._resolve(target, domain, many=True)
        else:
            entities = self.registry.entities(domain=domain)
            if not entities:
                raise ToolError(f"no {domain or 'devices'} in this home" + self._stale_note())
        by_area: dict[str, list[str]] = {}
        for e in entities[:120]:
            by_area.setdefault(self._area_name(e) or "No area", []).append(self._line(e))
        out = [f"{area}: " + "; ".join(lines) for area, lines in by_area.items()]
        if len(entities) > 120:
            out.append(f"... and {len(entities) - 120} more; ask about an area or a kind of device")
        return "\n".join(out) + self._stale_note()

    @tool(sensitive=lambda skill, args, ctx: skill._needs_yes(args, ctx), untrusted=False,
          summary=lambda skill, args: skill._summary(args))
    async def home_control(
        self,
        target: str,
        action: Literal["on", "off", "open", "close", "lock", "unlock", "set"],
        ctx: ToolContext,
        brightness: int | None = None,
        color: str | None = None,
        temperature: float | None = None,
        mode: str | None = None,
    ) -> str:
        """Control lights, switches, fans, heating, covers, locks. Unlock asks the owner.

        Args:
            target: as said, e.g. "kitchen lights", "all lights downstairs".
            action: set = change brightness/color/temperature/mode without on/off.
            brightness: percent 0-100.
            color: name, "#rrggbb", "warm white" or "2700K".
            temperature: target °C.
            mode: heating mode: heat, cool, auto, off.
        """
        light_opts: dict[str, Any] = {}
        if brightness is not None:
            light_opts["brightness_pct"] = brightness
        if color:
            light_opts.update(_color_data(color))
        if action == "set" or (action == "on" and (light_opts or temperature is not None or mode)):
            plan = self._set_plan(target, light_opts, temperature, mode)
        else:
            if light_opts and action != "on":
                raise ToolError(f"brightness and color go with action on or set, not {action}")
            entities = self._targets(target, action)
            groups: dict[str, list[Entity]] = {}
            for e in entities:
                groups.setdefault(_SERVICE[(action, e.domain)], []).append(e)
            plan = [(s, ents, {}) for s, ents in groups.items()]
        lines = await self._call(ctx, plan)
        simulated = " " + SIMULATED if any(e.attributes.get("simulated") for _, ents, _ in plan for e in ents) else ""
        if action == "set" or light_opts or temperature is not None or mode:
            return "Set " + "; ".join(lines) + simulated
        return f"{_VERB[action][1]} the {_and([e.name for _, ents, _ in plan for e in ents])}.{simulated}"

    def _targets(self, target: str, action: str) -> list[Entity]:
        tiers = _ACTION_DOMAINS[action]
        for i, domains in enumerate(tiers):
            try:
                return self.registry.resolve(target, domains)
            except UnknownTarget as exc:
                if i == len(tiers) - 1:
                    raise ToolError(self._cannot(target, action, exc) + self._stale_note()) from None
            except HomeError as exc:
                raise ToolError(str(exc)) from None
        raise ToolError(f"nothing matches {target!r}")

    def _cannot(self, target: str, action: str, exc: HomeError) -> str:
        """Say what the target can do instead, so the model can retry with the right action."""
        verb = {"on": "turn on", "off": "turn off"}.get(action, action)
        try:
            found = self.registry.resolve(target, many=True)
        except HomeError:
            return f"nothing to {verb}: {exc}"
        can = []
        for e in found[:5]:
            actions = [a for (a, d) in _SERVICE if d == e.domain]
            if e.domain in ("light", "climate"):
                actions.append("set")
            can.append(f"{e.name} ({', '.join(actions) or 'read only'})")
        return f"cannot {verb} {target!r}; actions there: {'; '.join(can)}"

    def _set_plan(
        self, target: str, light_opts: dict[str, Any], temperature: float | None, mode: str | None
    ) -> list[tuple[str, list[Entity], dict[str, Any]]]:
        if (temperature is not None or mode) and light_opts:
            raise ToolError("give light options or heating options, not both in one call")
        if temperature is not None or mode:
            ents = self._resolve(target, ("climate",))
            if temperature is not None:
                data: dict[str, Any] = {"temperature": temperature}
                if mode:
                    data["hvac_mode"] = mode
                return [("climate.set_temperature", ents, data)]
            return [("climate.set_hvac_mode", ents, {"hvac_mode": mode})]
        if light_opts:
            return [("light.turn_on", self._resolve(target, ("light",)), light_opts)]
        raise ToolError("set needs brightness, color, temperature or mode")

    @tool(effect=lambda args: "read" if args.action == "status" else "change", untrusted=False,
          summary=lambda skill, args: skill._music_summary(args))
    async def music(
        self,
        action: Literal["play", "pause", "resume", "next", "previous", "volume", "mute", "unmute", "group", "ungroup", "status"],
        ctx: ToolContext,
        room: str | None = None,
        query: str | None = None,
        volume: int | None = None,
        rooms: list[str] | None = None,
    ) -> str:
        """Speakers: play favorites/stations or a URI, pause, skip, volume, grouping.

        Args:
            room: speaker or room; omit if only one plays.
            query: favorite/station name, or a URI.
            volume: 0-100.
            rooms: for group: rooms to join to room.
        """
        if action == "status":
            speakers = self._resolve(room, ("media_player",), many=True) if room else self.registry.entities("media_player")
            ctx.outside = "what the speakers report"  # titles and station names come from the outside world
            return "\n".join(self._line(e) for e in speakers) or "no speakers"
        speakers = self._speakers(room, action)
        lead = speakers[0]
        if action == "play":
            note = ""
            if len(speakers) > 1:
                plan: list[tuple[str, list[Entity], dict[str, Any]]] = [
                    ("media_player.join", [lead], {"group_members": [s.entity_id for s in speakers[1:]]})
                ]
            else:
                plan = []
            if not query:
                if lead.state not in ("playing", "paused") and not lead.attributes.get("media_content_id"):
                    return self._choices(lead)  # nothing to resume: say what can be played
                plan.append(("media_player.media_play", [lead], {}))
                try:
                    return "; ".join(await self._call(ctx, plan))
                except NothingQueued:
                    return self._choices(lead)
            elif _URI.match(query.strip()):
                plan.append(("media_player.play_media", [lead], {"media_content_id": query.strip(), "media_content_type": "music"}))
            else:
                title, others = self._favorite(lead, query)
                if lead.provider == "homeassistant" and "favorites" not in lead.attributes:
                    # Home Assistant's Sonos lists favorites as sources and plays them by select_source
                    plan.append(("media_player.select_source", [lead], {"source": title}))
                else:
                    plan.append(("media_player.play_media", [lead], {"media_content_id": title, "media_content_type": "favorite"}))
                note = f" (also matching: {', '.join(others)})" if others else ""
            return "; ".join(await self._call(ctx, plan)) + note
        if action in {"volume", "mute", "unmute"}:
            if action == "volume":
                if volume is None:
                    raise ToolError("volume needs a value 0-100")
                if not 0 <= volume <= 100:
                    raise ToolError(f"volume {volume} is out of range (0-100)")
                plan = [("media_player.volume_set", speakers, {"volume_level": volume / 100})]
            else:
                plan = [("media_player.volume_mute", speakers, {"is_volume_muted": action == "mute"})]
            return "; ".join(await self._call(ctx, plan))
        if action == "group":
            if not rooms:
                raise ToolError("group needs rooms to join to the room")
            members: list[Entity] = []
            for r in rooms:
                members += self._resolve(r, ("media_player",))
            ids = [m.entity_id for m in members if m.entity_id != lead.entity_id]
            return "; ".join(await self._call(ctx, [("media_player.join", [lead], {"group_members": ids})]))
        service = {
            "pause": "media_player.media_pause",
            "resume": "media_player.media_play",
            "next": "media_player.media_next_track",
            "previous": "media_player.media_previous_track",
            "ungroup": "media_player.unjoin",
        }[action]
        targets = speakers if action in {"pause", "ungroup"} else [lead]
        return "; ".join(await self._call(ctx, [(service, targets, {})]))

    @tool(effect="read")  # what devices announce about themselves is outside words
    async def discover(self, ctx: ToolContext) -> str:
        """Find devices on the network (Sonos, Home Assistant, Hue, Cast...); the owner's yes starts using them."""
        from .discovery import discover, report

        d = self.config.discovery
        ssdp, mdns = d.multicast()
        found = await discover(timeout=d.timeout, subnets=d.subnets, interfaces=d.interfaces, ssdp=ssdp, mdns=mdns,
                               tcp=d.probe, max_hosts=d.max_hosts, log=self.ctx.log)
        self._found = {f.address: f for f in found}
        in_use = self._in_use()
        text = report(found, known=in_use)
        new = [f for f in found if adopt.adoptable(f) and f.address not in in_use]
        if new:
            ctx.offer = Confirm("home_devices", {"action": "adopt", "addresses": [f.address for f in new]},
                                self._devices_summary("adopt", [adopt.from_found(f).label for f in new]))
            text += "\n\nAsk the owner whether to use them: claw adds its own question, and their yes adopts them."
        return text

    @tool(name="home_devices", cli=True, sensitive=lambda args: args.action != "list", untrusted=False,
          effect=lambda args: "read" if args.action == "list" else "change",
          summary=lambda skill, args: skill._devices_summary(args.action, args.addresses or ["what the search found"]))
    async def devices(self, action: Literal["list", "adopt", "forget"], ctx: ToolContext,
                      addresses: list[str] | None = None) -> str:
        """Devices claw adopted from a search (beyond config.toml): list, adopt (start using), forget.

        Args:
            addresses: IP addresses; adopt without any takes all the last search found.
        """
        if action == "list":
            return self._listing()
        async with self._lock:  # one change to the running backends at a time
            if action == "forget":
                return await self._forget(addresses or [])
            return await self._adopt(addresses)

    @staticmethod
    def _devices_summary(action: str, what: list[str]) -> str:
        verb = {"adopt": "Start using", "forget": "Stop using"}.get(action, "List")
        return f"{verb} {_and(what)}"

    async def _forget(self, addresses: list[str]) -> str:
        gone = [a for a in self.adopted if a.address in addresses]
        if not gone:
            raise ToolError("none of those is adopted; " + self._listing())
        self.adopted = [a for a in self.adopted if a not in gone]
        await adopt.save(self.ctx.state, self.adopted)
        await self._reconcile()
        return f"Stopped using {_and([a.label for a in gone])}. " + self._listing()

    async def _adopt(self, addresses: list[str] | None) -> str:
        wanted = addresses or [a for a, f in self._found.items() if adopt.adoptable(f)]
        if not wanted:
            raise ToolError("nothing to adopt: search first (discover), or give addresses")
        problems: list[str] = []
        local = []
        for address in dict.fromkeys(wanted):
            if (ip := adopt.local_address(address)) is None:
                problems.append(f"{address}: not an address on a home network (private, loopback or link-local IP)")
            else:
                local.append(ip)
        unseen = [a for a in local if a not in self._found]
        for f in await self._probe(unseen) if unseen else []:
            self._found.setdefault(f.address, f)
        in_use, has_ha = self._in_use(), self._ha_configured()
        new: list[adopt.Adopted] = []
        for address in local:
            found = self._found.get(address)
            if found is None or not adopt.adoptable(found):
                problems.append(f"{address}: no Sonos speaker or Home Assistant answers there")
            elif address in in_use:
                problems.append(f"{address}: already in use")
            elif found.kind == "home-assistant" and (has_ha or any(n.kind == found.kind for n in new)):
                problems.append(f"{address}: claw uses one Home Assistant, and already has one")
            else:
                new.append(adopt.from_found(found))
        if not new:
            return "\n".join(["Nothing new adopted.", *problems])
        self.adopted += new
        await adopt.save(self.ctx.state, self.adopted)
        await self._reconcile()
        health = self.registry.health()["providers"]
        failed = {adopt.BACKEND[a.kind] for a in new} & {n for n, h in health.items() if not h.get("ok")}
        lines = [f"Now using {_and([a.label for a in new])}.", *problems, self._entities_of(new)]
        lines += [f"But {name} is not working yet: {health[name].get('detail', 'not ok')}" for name in sorted(failed)]
        return "\n".join(line for line in lines if line)

    def _ha_configured(self) -> bool:
        return self.config.homeassistant is not None or any(a.kind == "home-assistant" for a in self.adopted)

    async def _probe(self, addresses: list[str]) -> list[Found]:
        """Look at addresses the owner named (speakers, Home Assistant), all at once and without multicast."""
        from .discovery import discover

        found = await discover(timeout=self.config.discovery.timeout, subnets=[f"{a}/32" for a in addresses],
                               ssdp=False, mdns=False, log=self.ctx.log)
        return [f for f in found if adopt.adoptable(f)]

    def _entities_of(self, devices: list[adopt.Adopted]) -> str:
        backends = {adopt.BACKEND[a.kind] for a in devices}
        names = [e.name for e in self.registry.entities() if e.provider in backends]
        return f"Devices: {', '.join(names)}." if names else ""

    def _listing(self) -> str:
        if not self.adopted:
            return "No adopted devices (config.toml may still name some)."
        return "Adopted: " + "; ".join(f"{a.label}, since {a.adopted_at[:10]}" for a in self.adopted)

    def _in_use(self) -> set[str]:
        """Addresses claw already talks to: config.toml, adopted, and speakers their households brought in."""
        known = {a.address for a in self.adopted}
        if self.config.sonos is not None:
            known.update(self.config.sonos.hosts)
        for e in self.registry.entities("media_player"):
            if e.provider == "sonos" and (host := e.attributes.get("ip")):
                known.add(str(host))
        if self.config.homeassistant is not None:
            from urllib.parse import urlsplit

            if host := urlsplit(self.config.homeassistant.url).hostname:
                known.add(host)
        return known

    def _speakers(self, room: str | None, action: str) -> list[Entity]:
        if room:
            return self._resolve(room, ("media_player",))
        speakers = self.registry.entities("media_player")
        if not speakers:
            raise ToolError("there are no speakers in this home" + self._stale_note())
        if len(speakers) == 1:
            return speakers
        playing = [s for s in speakers if s.state == "playing"]
        if action != "play" and len(playing) == 1:
            return playing
        if action == "pause" and playing:
            return playing
        names = ", ".join(s.name for s in speakers)
        raise ToolError(f"which room? speakers: {names}")

    @staticmethod
    def _choices(speaker: Entity) -> str:
        """What the owner can pick when a speaker has nothing to play (never a raw UPnP error)."""
        a = speaker.attributes
        titles = [str(t) for t in a.get("favorites") or a.get("source_list") or []]
        if not titles:
            return f"Nothing is queued on {speaker.name}, and it has no favourites: name a station, or give a URI."
        return (f"Nothing is queued on {speaker.name}. Favourites and radio stations: {', '.join(titles)}. "
                "Which one should play?")

    def _favorite(self, speaker: Entity, query: str) -> tuple[str, list[str]]:
        """Best favorite for ``query``, and the other plausible ones to mention."""
        a = speaker.attributes
        titles = [str(t) for t in a.get("favorites") or a.get("source_list") or []]
        if not titles:
            return query.strip(), []  # favorites not known here: the speaker's backend matches the name
        q = query.strip().lower()
        exact = [t for t in titles if t.lower() == q]
        if exact:
            return exact[0], []
        q_words = set(re.findall(r"\w+", q))
        scored = []
        for t in titles:
            words = set(re.findall(r"\w+", t.lower()))
            overlap = len(q_words & words) / max(len(q_words), 1)
            ratio = difflib.SequenceMatcher(None, q, t.lower()).ratio()
            scored.append((overlap + ratio, overlap, ratio, t))
        scored.sort(reverse=True)
        good = [s for s in scored if s[1] >= 0.5 or s[2] >= 0.7]
        if not good:
            raise ToolError(f'no favorite matches "{query}"; favorites: {", ".join(titles)}')
        return good[0][3], [s[3] for s in good[1:4]]

