"""The simulated home: a YAML home file (or the built-in demo house) whose devices behave plausibly.

Home file::

    floors:     # optional
      - {id: ground, name: Ground floor, level: 0, aliases: [downstairs]}
    areas:
      - {id: kitchen, name: Kitchen, floor: ground, aliases: [cooking area]}
    favorites:  # optional, what the speakers can play by name
      - {title: Jazz FM, uri: "x-rincon-mp3radio://..."}
    entities:
      - {id: light.kitchen, name: Kitchen Light, area: kitchen, state: "off", attributes: {brightness: 0}}

``on``/``off``/``yes``/``no`` stay text (YAML 1.2 booleans), so ``state: off``
means off. Unknown keys, bad entity ids and unknown areas are errors naming
the line. Temperatures drift toward their target lazily from elapsed time.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .provider import Area, Entity, Floor, HomeError, Registry

DEMO_HOME = Path(__file__).with_name("demo_home.yaml")
ENTITY_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")
AREA_ID = re.compile(r"^[a-z0-9_]+$")


class HomeFileError(HomeError):
    """The home file is wrong; the message names the file and line."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: ``off`` is a state, not False."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass
class Simulation:
    """A sensor that follows a heater switch: toward ``target`` when on, ``ambient`` when off."""

    heater: str
    target: float
    ambient: float
    minutes: float = 30.0


@dataclass
class HomeFile:
    floors: list[Floor] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    favorites: dict[str, str] = field(default_factory=dict)  # title -> uri
    simulations: dict[str, Simulation] = field(default_factory=dict)


_KEYS = {
    "top": {"floors", "areas", "entities", "favorites"},
    "floor": {"id", "name", "level", "aliases"},
    "area": {"id", "name", "floor", "aliases"},
    "entity": {"id", "name", "area", "state", "attributes", "aliases", "simulate"},
    "favorite": {"title", "uri"},
    "simulate": {"heater", "target", "ambient", "minutes"},
}


def load_home_file(path: Path | str | None = None) -> HomeFile:
    """Parse a home file (the demo house when ``path`` is None); raise ``HomeFileError`` naming the line."""
    path = Path(path) if path else DEMO_HOME
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HomeFileError(f"cannot read home file {path}: {exc.strerror or exc}") from None
    return parse_home(text, str(path))


def parse_home(text: str, source: str = "<home>") -> HomeFile:
    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
            raise HomeFileError(f"{source} line {line}: {exc.problem or exc}") from None
        return _Parser(loader, source).home(root)
    finally:
        loader.dispose()


class _Parser:
    def __init__(self, loader: _Loader, source: str):
        self.loader = loader
        self.source = source

    def fail(self, node: yaml.Node, message: str) -> HomeFileError:
        return HomeFileError(f"{self.source} line {node.start_mark.line + 1}: {message}")

    def mapping(self, node: yaml.Node, kind: str) -> dict[str, tuple[yaml.Node, Any]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{kind} must be a mapping of keys to values")
        out: dict[str, tuple[yaml.Node, Any]] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key not in _KEYS[kind]:
                raise self.fail(key_node, f"unknown key {key!r} in {kind} (allowed: {', '.join(sorted(_KEYS[kind]))})")
            if key in out:
                raise self.fail(key_node, f"duplicate key {key!r} in {kind}")
            out[key] = (value_node, self.loader.construct_object(value_node, deep=True))
        return out

    def items(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def text(self, fields: dict[str, tuple[yaml.Node, Any]], key: str, kind: str, parent: yaml.Node, required: bool = True) -> str | None:
        if key not in fields:
            if required:
                raise self.fail(parent, f"{kind} needs {key!r}")
            return None
        node, value = fields[key]
        if value is None and not required:
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or str(value).strip() == "":
            raise self.fail(node, f"{key} of {kind} must be text")
        return str(value)

    def aliases(self, fields: dict[str, tuple[yaml.Node, Any]]) -> list[str]:
        if "aliases" not in fields:
            return []
        node, value = fields["aliases"]
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            raise self.fail(node, "aliases must be a list of names")
        return value

    def home(self, root: yaml.Node | None) -> HomeFile:
        home = HomeFile()
        if root is None:
            return home
        top = self.mapping(root, "top")
        floor_ids: set[str] = set()
        for node in self.items(top["floors"][0], "floors") if "floors" in top else []:
            f = self.mapping(node, "floor")
            fid = self.text(f, "id", "floor", node) or ""
            level_node, level = f.get("level", (node, None))
            if level is not None and (not isinstance(level, int) or isinstance(level, bool)):
                raise self.fail(level_node, "level must be a whole number (0 = ground)")
            home.floors.append(Floor(fid, self.text(f, "name", "floor", node, False) or fid, level, self.aliases(f)))
            floor_ids.add(fid)
        area_ids: set[str] = set()
        for node in self.items(top["areas"][0], "areas") if "areas" in top else []:
            a = self.mapping(node, "area")
            aid = self.text(a, "id", "area", node) or ""
            if not AREA_ID.match(aid):
                raise self.fail(a["id"][0], f"bad area id {aid!r}: use lower-case letters, digits and _")
            if aid in area_ids:
                raise self.fail(a["id"][0], f"area {aid!r} is defined twice")
            floor = self.text(a, "floor", "area", node, False)
            if floor_ids and floor and floor not in floor_ids:
                raise self.fail(a["floor"][0], f"unknown floor {floor!r} (floors: {', '.join(sorted(floor_ids))})")
            area_ids.add(aid)
            home.areas.append(Area(aid, self.text(a, "name", "area", node, False) or aid, floor, self.aliases(a)))
        for node in self.items(top["favorites"][0], "favorites") if "favorites" in top else []:
            f = self.mapping(node, "favorite")
            title = self.text(f, "title", "favorite", node) or ""
            home.favorites[title] = self.text(f, "uri", "favorite", node, False) or title
        seen: set[str] = set()
        for node in self.items(top["entities"][0], "entities") if "entities" in top else []:
            e = self.mapping(node, "entity")
            eid = self.text(e, "id", "entity", node) or ""
            if not ENTITY_ID.match(eid):
                raise self.fail(e["id"][0], f"bad entity id {eid!r}: expected domain.object_id like light.kitchen")
            if eid in seen:
                raise self.fail(e["id"][0], f"entity {eid!r} is defined twice")
            seen.add(eid)
            area = self.text(e, "area", "entity", node, False)
            if area and area not in area_ids:
                raise self.fail(e["area"][0], f"unknown area {area!r} (areas: {', '.join(sorted(area_ids)) or 'none'})")
            attrs_node, attrs = e.get("attributes", (node, {}))
            if attrs is None:
                attrs = {}
            if not isinstance(attrs, dict):
                raise self.fail(attrs_node, "attributes must be a mapping")
            state = self.text(e, "state", "entity", node, False) or "unknown"
            name = self.text(e, "name", "entity", node, False) or eid.split(".", 1)[1].replace("_", " ").title()
            home.entities.append(Entity(eid, name, area, state, dict(attrs), self.aliases(e)))
            if "simulate" in e:
                sim_node = e["simulate"][0]
                s = self.mapping(sim_node, "simulate")
                try:
                    home.simulations[eid] = Simulation(
                        heater=str(s["heater"][1]),
                        target=float(s["target"][1]),
                        ambient=float(s["ambient"][1]),
                        minutes=float(s["minutes"][1]) if "minutes" in s else 30.0,
                    )
                except (KeyError, TypeError, ValueError):
                    raise self.fail(sim_node, "simulate needs heater (entity id), target and ambient (numbers)") from None
        for eid, sim in home.simulations.items():
            if sim.heater not in seen:
                raise HomeFileError(f"{self.source}: {eid} simulates heater {sim.heater!r}, which is not defined")
        return home


class DemoProvider:
    """A whole simulated home; ``clock`` is injectable so tests move time without sleeping."""

    name = "demo"

    def __init__(
        self,
        file: Path | str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        tick_seconds: float | None = 60.0,
        name: str = "demo",
    ):
        self.name = name
        self.file = file
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.home = load_home_file(file)  # errors surface at construction, naming the line
        self.devices: dict[str, Entity] = {}
        self._simulated: list[Entity] = []
        self._registry: Registry | None = None
        self._last = clock()
        self._ticker: asyncio.Task[None] | None = None
        self._saved_brightness: dict[str, int] = {}

    # ---- Provider protocol ------------------------------------------------------------

    async def start(self, registry: Registry) -> None:
        self._registry = registry
        for floor in self.home.floors:
            upsert_floor = getattr(registry, "upsert_floor", None)
            if upsert_floor:
                upsert_floor(floor)
        for area in self.home.areas:
            registry.upsert_area(area)
        for entity in self.home.entities:
            device = replace(entity, attributes=dict(entity.attributes), aliases=list(entity.aliases), provider=self.name)
            device.attributes["simulated"] = True  # never passes for a real device: tools, replies and the panel say so
            if device.domain == "media_player":
                device.attributes.setdefault("source_list", list(self.home.favorites))
                device.attributes.setdefault("group_members", [device.entity_id])
            if device.domain == "light" and device.state == "off":
                device.attributes["brightness"] = None
            self.devices[device.entity_id] = device
            registry.upsert_entity(replace(device, attributes=dict(device.attributes)))
        # Only thermostats and simulated sensors move with time; tick runs before every read.
        self._simulated = [d for d in self.devices.values() if d.domain == "climate" or d.entity_id in self.home.simulations]
        self._last = self.clock()
        add_refresher = getattr(registry, "add_refresher", None)
        if add_refresher:
            add_refresher(self.tick)
        if self.tick_seconds:
            self._ticker = asyncio.create_task(self._tick_forever(self.tick_seconds))

    async def stop(self) -> None:
        if self._ticker:
            self._ticker.cancel()
            self._ticker = None

    def health(self) -> dict[str, Any]:
        return {"ok": True, "detail": f"simulated home, {len(self.devices)} devices"}

    async def call_service(self, domain: str, service: str, entity_ids: list[str], data: dict[str, Any]) -> None:
        self.tick()
        for eid in entity_ids:
            if eid not in self.devices:
                raise HomeError(f"the simulated home has no {eid}")
        handler = getattr(self, f"_{domain}_{service}", None) or getattr(self, f"_any_{service}", None)
        if handler is None:
            raise HomeError(f"{domain}.{service} is not supported by the simulated home")
        for eid in entity_ids:
            handler(self.devices[eid], data)
        self._publish()

    # ---- time --------------------------------------------------------------------------

    async def _tick_forever(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            self.tick()

    def tick(self) -> None:
        """Move simulated temperatures forward by the time elapsed since the last look."""
        now = self.clock()
        dt = now - self._last
        if dt <= 0:
            return
        self._last = now
        changed = False
        for device in self._simulated:
            if device.domain == "climate":
                changed |= self._drift_climate(device, dt)
            else:
                changed |= self._drift_sensor(device, self.home.simulations[device.entity_id], dt)
        if changed:
            self._publish()

    @staticmethod
    def _approach(current: float, goal: float, dt: float, tau: float) -> float:
        return goal + (current - goal) * math.exp(-dt / tau)

    def _drift_climate(self, device: Entity, dt: float) -> bool:
        a = device.attributes
        current = a.get("current_temperature")
        target = a.get("temperature")
        if current is None:
            return False
        mode = device.state
        goal = 16.0  # an unheated house
        if target is not None and (
            (mode == "heat" and target > current)
            or (mode == "cool" and target < current)
            or mode in {"auto", "heat_cool"}
        ):
            goal = float(target)
        elif mode in {"heat", "cool"}:
            return False  # already past the target: hold
        new = round(self._approach(float(current), goal, dt, 900.0), 1)
        if new != current:
            a["current_temperature"] = new
            return True
        return False

    def _drift_sensor(self, device: Entity, sim: Simulation, dt: float) -> bool:
        try:
            current = float(device.state)
        except ValueError:
            return False
        heater = self.devices.get(sim.heater)
        goal = sim.target if heater is not None and heater.state == "on" else sim.ambient
        new = f"{self._approach(current, goal, dt, sim.minutes * 60):.1f}"
        if new != device.state:
            device.state = new
            return True
        return False

    def _publish(self) -> None:
        if self._registry is None:
            return
        for device in self.devices.values():
            self._registry.update_state(device.entity_id, device.state, dict(device.attributes))

    # ---- device behaviour (one method per domain_service) -------------------------------

    def _any_turn_on(self, d: Entity, data: dict[str, Any]) -> None:
        d.state = "on"
        if "percentage" in data:
            d.attributes["percentage"] = data["percentage"]
            d.state = "on" if data["percentage"] > 0 else "off"
        elif d.domain == "fan" and not d.attributes.get("percentage"):
            d.attributes["percentage"] = 100

    def _any_turn_off(self, d: Entity, data: dict[str, Any]) -> None:
        d.state = "off"
        if d.domain == "fan":
            d.attributes["percentage"] = 0

    def _any_toggle(self, d: Entity, data: dict[str, Any]) -> None:
        if d.domain == "cover":
            d.state = "closed" if d.state == "open" else "open"
        elif d.state == "on":
            getattr(self, f"_{d.domain}_turn_off", self._any_turn_off)(d, {})
        else:
            getattr(self, f"_{d.domain}_turn_on", self._any_turn_on)(d, {})

    def _fan_set_percentage(self, d: Entity, data: dict[str, Any]) -> None:
        self._any_turn_on(d, data)

    def _light_turn_on(self, d: Entity, data: dict[str, Any]) -> None:
        a = d.attributes
        if "brightness_pct" in data:
            brightness = round(data["brightness_pct"] * 255 / 100)
        elif "brightness" in data:
            brightness = data["brightness"]
        else:
            brightness = a.get("brightness") or self._saved_brightness.get(d.entity_id, 255)
        if brightness == 0:  # as in Home Assistant, 0% means off
            self._light_turn_off(d, {})
            return
        d.state = "on"
        a["brightness"] = brightness
        if "color_name" in data:
            from .services import COLOR_NAMES

            a.update(color_mode="rgb", rgb_color=list(COLOR_NAMES[data["color_name"]]))
            a.pop("color_temp_kelvin", None)
        elif "rgb_color" in data:
            a.update(color_mode="rgb", rgb_color=list(data["rgb_color"]))
            a.pop("color_temp_kelvin", None)
        elif "color_temp_kelvin" in data:
            a.update(color_mode="color_temp", color_temp_kelvin=data["color_temp_kelvin"])
            a.pop("rgb_color", None)

    def _light_turn_off(self, d: Entity, data: dict[str, Any]) -> None:
        if d.attributes.get("brightness"):
            self._saved_brightness[d.entity_id] = d.attributes["brightness"]
        d.state = "off"
        d.attributes["brightness"] = None

    def _climate_set_temperature(self, d: Entity, data: dict[str, Any]) -> None:
        d.attributes["temperature"] = data["temperature"]
        if "hvac_mode" in data:
            d.state = data["hvac_mode"]

    def _climate_set_hvac_mode(self, d: Entity, data: dict[str, Any]) -> None:
        if d.state != "off":
            d.attributes["last_on_mode"] = d.state
        d.state = data["hvac_mode"]

    def _climate_turn_on(self, d: Entity, data: dict[str, Any]) -> None:
        if d.state == "off":
            d.state = d.attributes.get("last_on_mode", "heat")

    def _climate_turn_off(self, d: Entity, data: dict[str, Any]) -> None:
        self._climate_set_hvac_mode(d, {"hvac_mode": "off"})

    def _cover_open_cover(self, d: Entity, data: dict[str, Any]) -> None:
        d.state = "open"

    def _cover_close_cover(self, d: Entity, data: dict[str, Any]) -> None:
        d.state = "closed"

    def _cover_stop_cover(self, d: Entity, data: dict[str, Any]) -> None:
        pass

    def _lock_lock(self, d: Entity, data: dict[str, Any]) -> None:
        d.state = "locked"

    def _lock_unlock(self, d: Entity, data: dict[str, Any]) -> None:
        d.state = "unlocked"

    def _lock_open(self, d: Entity, data: dict[str, Any]) -> None:
        d.state = "open"

    # speakers: a group acts together, as Sonos groups do
    def _group(self, d: Entity) -> list[Entity]:
        return [self.devices[m] for m in d.attributes.get("group_members") or [d.entity_id] if m in self.devices]

    def _media_player_turn_on(self, d: Entity, data: dict[str, Any]) -> None:
        if d.state == "off":
            d.state = "idle"

    def _media_player_turn_off(self, d: Entity, data: dict[str, Any]) -> None:
        d.state = "off"

    def _media_player_media_play(self, d: Entity, data: dict[str, Any]) -> None:
        if not d.attributes.get("media_title"):
            raise HomeError(f"nothing is queued on {d.name}; name something to play")
        for m in self._group(d):
            m.state = "playing"

    def _media_player_media_pause(self, d: Entity, data: dict[str, Any]) -> None:
        for m in self._group(d):
            if m.state == "playing":
                m.state = "paused"

    def _media_player_media_play_pause(self, d: Entity, data: dict[str, Any]) -> None:
        if d.state == "playing":
            self._media_player_media_pause(d, data)
        else:
            self._media_player_media_play(d, data)

    def _media_player_media_stop(self, d: Entity, data: dict[str, Any]) -> None:
        for m in self._group(d):
            m.state = "idle"

    def _skip(self, d: Entity, step: int) -> None:
        titles = list(self.home.favorites)
        current = d.attributes.get("media_title")
        if current in titles:
            title = titles[(titles.index(current) + step) % len(titles)]
        else:
            track = int(d.attributes.get("media_track") or 1) + step
            title = f"Track {max(track, 1)}"
            d.attributes["media_track"] = max(track, 1)
        self._play(d, title, self.home.favorites.get(title, title))

    def _media_player_media_next_track(self, d: Entity, data: dict[str, Any]) -> None:
        self._skip(d, 1)

    def _media_player_media_previous_track(self, d: Entity, data: dict[str, Any]) -> None:
        self._skip(d, -1)

    def _media_player_volume_set(self, d: Entity, data: dict[str, Any]) -> None:
        d.attributes["volume_level"] = round(float(data["volume_level"]), 2)
        d.attributes["is_volume_muted"] = False

    def _media_player_volume_mute(self, d: Entity, data: dict[str, Any]) -> None:
        d.attributes["is_volume_muted"] = bool(data["is_volume_muted"])

    def _play(self, d: Entity, title: str, uri: str) -> None:
        for m in self._group(d):
            m.state = "playing"
            m.attributes.update(media_title=title, media_content_id=uri)

    def _media_player_play_media(self, d: Entity, data: dict[str, Any]) -> None:
        uri = data["media_content_id"]
        title = next((t for t, u in self.home.favorites.items() if uri == u or uri.lower() == t.lower()), None)
        if title is None and data.get("media_content_type") in {"favorite", "radio", "station"}:
            raise HomeError(f"{d.name} has no favorite {uri!r}")
        self._play(d, title or uri, self.home.favorites.get(title or "", uri))

    def _media_player_select_source(self, d: Entity, data: dict[str, Any]) -> None:
        source = data["source"]
        match = next((t for t in self.home.favorites if t.lower() == source.lower()), None)
        if match is None:
            raise HomeError(f"{d.name} has no favorite {source!r}")
        self._play(d, match, self.home.favorites[match])

    def _media_player_join(self, d: Entity, data: dict[str, Any]) -> None:
        members = [d.entity_id] + [m for m in data["group_members"] if m != d.entity_id]
        missing = [m for m in members if m not in self.devices]
        if missing:
            raise HomeError(f"cannot group with {', '.join(missing)}: not a simulated speaker")
        for m in members:
            self._media_player_unjoin(self.devices[m], {})
        for m in members:
            dev = self.devices[m]
            dev.attributes["group_members"] = list(members)
            if m != d.entity_id:
                dev.state = d.state
                for key in ("media_title", "media_content_id"):
                    if key in d.attributes:
                        dev.attributes[key] = d.attributes[key]

    def _media_player_unjoin(self, d: Entity, data: dict[str, Any]) -> None:
        for m in self._group(d):
            if m is not d:
                m.attributes["group_members"] = [x for x in m.attributes["group_members"] if x != d.entity_id]
        d.attributes["group_members"] = [d.entity_id]
