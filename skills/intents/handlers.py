"""From a matched intent to concrete service calls or a state answer, refusing anything not certain.

Precision over recall: every reading that does not pick out exactly the
devices meant (two fit, none fit, a sensitive service, an intent we do not
carry out) becomes a ``Refusal``; the skill then hands the message to the
planner, or says plainly why it did not act when no LLM is configured.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from skills.home import services as svc
from skills.home.provider import Entity

from .matcher import HOME, NO_AREA, OUTSIDE, PRONOUN, Match, SlotIndex

# Domains each intent may act on.
_ON_OFF = {
    "light": ("light.turn_on", "light.turn_off"),
    "switch": ("switch.turn_on", "switch.turn_off"),
    "fan": ("fan.turn_on", "fan.turn_off"),
    "climate": ("climate.turn_on", "climate.turn_off"),
    "media_player": ("media_player.turn_on", "media_player.turn_off"),
    "cover": ("cover.open_cover", "cover.close_cover"),
    "lock": ("lock.lock", "lock.unlock"),
}
_MEDIA_SERVICE = {
    "HassMediaPause": "media_player.media_pause",
    "HassMediaUnpause": "media_player.media_play",
    "HassMediaNext": "media_player.media_next_track",
    "HassMediaPrevious": "media_player.media_previous_track",
}
# Words that make an English "the light in the kitchen" mean several devices.
_EN_PLURAL = frozenset({"lights", "lamps", "fans", "all", "every", "everything", "each", "both", "switches"})
_EN_SINGULAR = frozenset({"light", "lamp", "fan", "switch", "speaker", "thermostat", "blind", "curtain", "shade", "cover"})
_COLOUR_MODES = frozenset({"hs", "xy", "rgb", "rgbw", "rgbww"})
_OUTDOOR_WORDS = frozenset({"outside", "outdoor", "outdoors", "exterior"})
_STATE_DOMAINS = ("light", "switch", "fan", "cover", "lock", "climate", "media_player", "sensor", "binary_sensor")


@dataclass
class Call:
    service: str
    entity_ids: list[str]
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """What the fast path will do: service calls (control) or an answer from current state (status)."""

    intent: str
    kind: str  # control | status | confirm (a sensitive control: it waits for the owner's yes)
    entity_ids: list[str]
    calls: list[Call] = field(default_factory=list)
    response: str = "default"
    slots: dict[str, Any] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)  # status: matched / unmatched entity ids

    def key(self) -> tuple[Any, ...]:
        """Two readings that do the same thing are not ambiguous."""
        calls = tuple((c.service, tuple(sorted(c.entity_ids)), tuple(sorted(c.data.items()))) for c in self.calls)
        return (self.intent, self.kind, tuple(sorted(self.entity_ids)), calls, self.slots.get("state"))


@dataclass
class Refusal:
    """Why the fast path will not act; ``reason`` is ambiguous | unknown | sensitive | unsupported | invalid."""

    reason: str
    message: str
    candidates: list[str] = field(default_factory=list)


@dataclass
class Situation:
    """What the resolver knows beyond the words: the sender's area and the conversation's last devices."""

    area: str | None = None
    last: list[str] = field(default_factory=list)
    language: str = "en"
    text: str = ""


class Resolver:
    """Turns a ``Match`` into a ``Plan`` or a ``Refusal`` against the current registry."""

    def __init__(self, registry: Any, slots: SlotIndex):
        self.registry = registry
        self.slots = slots

    # ---- entry point --------------------------------------------------------------------

    def resolve(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        """None means "this reading does not apply" (a pronoun read as the wrong kind of device)."""
        handler = getattr(self, f"_{m.intent}", None)
        if handler is None:
            return Refusal("unsupported", f"{m.intent} is not handled locally")
        return handler(m, sit)

    # ---- targets ------------------------------------------------------------------------

    def _entities(self, ids: Iterable[str]) -> list[Entity]:
        out = []
        for i in ids:
            e = self.registry.get(i)
            if e is not None:
                out.append(e)
        return out

    def _names(self, entities: Iterable[Entity]) -> list[str]:
        return [e.name for e in entities]

    def _in_place(self, entities: list[Entity], area: str | None, floor: str | None) -> list[Entity]:
        if area == OUTSIDE:
            entities = [e for e in entities if self._outdoors(e)]
        elif area and area != HOME:
            entities = [e for e in entities if e.area == area]
        if floor:
            areas = {a.id for a in self.registry.areas() if a.floor == floor}
            entities = [e for e in entities if e.area in areas]
        return entities

    def _outdoors(self, e: Entity) -> bool:
        """Outside: a device named so ("Outdoor Temperature"), or in an area on no floor of the house."""
        if set(e.name.casefold().split()) & _OUTDOOR_WORDS:
            return True
        a = self.registry.area(e.area)
        return a is not None and a.floor is None and bool(self.registry.floors())

    def _place_name(self, area: str | None, floor: str | None) -> str:
        if area == HOME:
            return " in this home"
        if area == OUTSIDE:
            return " outside"
        if area:
            a = self.registry.area(area)
            return f" in {a.name if a else area}"
        if floor:
            f = next((f for f in self.registry.floors() if f.id == floor), None)
            return f" on {f.name if f else floor}"
        return ""

    def _named(self, m: Match, sit: Situation, domains: tuple[str, ...]) -> list[Entity] | Refusal | None:
        """The devices a ``{name}`` (or a pronoun) points at, narrowed by area/floor and by the sender's room."""
        name = m.slots["name"]
        area = _area(m)
        floor = m.slots.get("floor")
        if name == PRONOUN:
            entities = self._entities(sit.last)
            if not entities:
                return Refusal("unknown", "I'm not sure which device you mean.")
            if m.domain and any(e.domain != m.domain for e in entities):
                return None  # this reading took "it" for another kind of device
            if any(e.domain not in domains for e in entities):
                return None
            return entities
        domain = m.domain
        entities = [
            e for e in self._entities(self.slots.names.get(name, []))
            if (domain is None or e.domain == domain) and e.domain in domains
        ]
        said = m.slot_text.get("name") or name
        if not entities:
            return Refusal("unknown", f"I don't know a device called {said!r}.")
        placed = self._in_place(entities, area, floor)
        if not placed:
            where = self._place_name(area, floor)
            return Refusal("unknown", f"There is no {said}{where}.", self._names(entities))
        if len(placed) > 1 and sit.area:
            here = [e for e in placed if e.area == sit.area]
            placed = here or placed
        if len(placed) > 1:
            return Refusal("ambiguous", f"I'm not sure which {said} you mean: {_join(self._labels(placed))}.", self._labels(placed))
        return placed

    def _labels(self, entities: list[Entity]) -> list[str]:
        counts: dict[str, int] = {}
        for e in entities:
            counts[e.name] = counts.get(e.name, 0) + 1
        out = []
        for e in entities:
            area = self.registry.area(e.area)
            out.append(f"{e.name} ({area.name if area else e.entity_id})" if counts[e.name] > 1 else e.name)
        return out

    def _targets(self, m: Match, sit: Situation, domains: tuple[str, ...], *, fallback: str = "single") -> list[Entity] | Refusal | None:
        """Devices a reading points at: by name, by area/floor and kind, everywhere ("all the lights"), or "here".

        ``fallback`` says what a command without any place means: ``single`` (the
        home's only such device), ``playing`` (speakers now playing), ``paused``.
        """
        if "name" in m.slots:
            return self._named(m, sit, domains)
        domain = m.slots.get("domain")
        kinds = (domain,) if isinstance(domain, str) else domains
        kinds = tuple(k for k in kinds if k in domains)
        if not kinds:
            return Refusal("unsupported", f"{domain} devices are not handled locally")
        pool = [e for e in self.registry.entities() if e.domain in kinds]
        device_class = m.slots.get("device_class")
        if device_class:
            pool = [e for e in pool if e.attributes.get("device_class") == device_class]
        area, floor = _area(m), m.slots.get("floor")
        kind_word = (device_class or kinds[0]).replace("_", " ")
        if area or floor:
            found = self._in_place(pool, area, floor)
            if not found:
                return Refusal("unknown", f"There is no {kind_word}{self._place_name(area, floor)}.")
            return self._singular_check(m, sit, found, kind_word, area)
        if m.slots.get("area") == NO_AREA:
            return self._no_place(m, sit, pool, kind_word, fallback)
        if not pool:
            return Refusal("unknown", f"There is no {kind_word} in this home.")
        return pool  # "all the lights", "are any locks unlocked"

    def _singular_check(self, m: Match, sit: Situation, found: list[Entity], kind: str, area: str | None) -> list[Entity]:
        """An area and a kind mean every such device there, as in Home Assistant ("turn off the kitchen light"
        with three kitchen lights turns off all three); English "the light in the kitchen" means the one
        device there named just "light", when there is exactly one."""
        if len(found) <= 1 or not sit.language.startswith("en") or m.intent == "HassGetState":
            return found
        text = re.sub(r"^\W*(please\s+)?light\s+up\b", "", sit.text.casefold())  # "light up" is a verb
        words = set(re.findall(r"[\w']+", text))
        said = words & _EN_SINGULAR
        a = self.registry.area(area) if area else None
        if said and not words & _EN_PLURAL and a is not None:
            area_words = set(a.name.casefold().split()) | {w for al in a.aliases for w in al.casefold().split()}
            plain = [e for e in found if set(e.name.casefold().split()) - area_words == said]
            if len(plain) == 1:
                return plain
        return found

    def _no_place(self, m: Match, sit: Situation, pool: list[Entity], kind: str, fallback: str) -> list[Entity] | Refusal:
        """A command for "here" from a sender with no known room."""
        if sit.area:
            here = [e for e in pool if e.area == sit.area]
            if here:
                return here
        if fallback in {"playing", "paused"}:
            live = [e for e in pool if e.state == fallback]
            if fallback == "playing" and m.intent == "HassMediaPause" and live:
                return live  # pausing everything that plays is what "pause the music" means
            if len(live) == 1:
                return live
            if not live and len(pool) == 1:
                return pool
        elif fallback == "last":
            last = [e for e in self._entities(sit.last) if e in pool]
            if last:
                return last
        if len(pool) == 1:
            return pool
        if not pool:
            return Refusal("unknown", f"There is no {kind} in this home.")
        return Refusal("ambiguous", f"I'm not sure which {kind} you mean: {_join(self._labels(pool)[:8])}.", self._labels(pool))

    # ---- intents ------------------------------------------------------------------------

    def _on_off(self, m: Match, sit: Situation, on: bool) -> Plan | Refusal | None:
        found = self._targets(m, sit, tuple(_ON_OFF))
        if not isinstance(found, list):
            return found
        calls: dict[str, list[str]] = {}
        for e in found:
            calls.setdefault(_ON_OFF[e.domain][0 if on else 1], []).append(e.entity_id)
        kind = "confirm" if any(svc.is_sensitive(service) for service in calls) else "control"
        if kind == "confirm" and len(found) > 1:
            return Refusal("sensitive", "unlocking goes one door at a time, with your yes", self._names(found))
        return Plan(m.intent, kind, [e.entity_id for e in found], [Call(s, ids) for s, ids in calls.items()], m.response, m.slots)

    def _HassTurnOn(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        return self._on_off(m, sit, True)

    def _HassTurnOff(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        return self._on_off(m, sit, False)

    def _HassLightSet(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        found = self._targets(m, sit, ("light",), fallback="last")
        if not isinstance(found, list):
            return found
        data: dict[str, Any] = {}
        if "brightness" in m.slots:
            data["brightness_pct"] = _number(m.slots["brightness"])
        elif "color" in m.slots:
            data["color_name"] = str(m.slots["color"])
            found = _colour_capable(found)
        elif "temperature" in m.slots:
            data["color_temp_kelvin"] = _number(m.slots["temperature"])
        else:
            return Refusal("unsupported", "light setting not understood")
        return self._checked(m, found, "light.turn_on", data)

    def _checked(self, m: Match, found: list[Entity], service: str, data: dict[str, Any]) -> Plan | Refusal:
        """Validate now so a bad value ("black", 150%) is refused before any device is touched."""
        try:
            clean = svc.validate(service, found, data)
        except svc.InvalidService as exc:
            return Refusal("invalid", str(exc))
        ids = [e.entity_id for e in found]
        return Plan(m.intent, "control", ids, [Call(service, ids, clean)], m.response, m.slots)

    def _HassClimateSetTemperature(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        found = self._targets(m, sit, ("climate",))
        if not isinstance(found, list):
            return found
        return self._checked(m, found, "climate.set_temperature", {"temperature": _number(m.slots["temperature"])})

    def _HassClimateGetTemperature(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        if m.slots.get("domain") == "sensor":  # a thermometer by name: "how hot is the spa"
            sensors = self._targets(m, sit, ("sensor",))
            if not isinstance(sensors, list):
                return sensors
            if len(sensors) != 1 or sensors[0].attributes.get("device_class") != "temperature":
                return None
            return _thermometer(m, sensors[0])
        m.slots.setdefault("domain", "climate")
        found = self._targets(m, sit, ("climate",))
        area, floor = _area(m), m.slots.get("floor")
        if not isinstance(found, list) and "name" not in m.slots and (area or floor) and area != HOME:
            sensors = [e for e in self._in_place(self.registry.entities(), area, floor)
                       if e.domain == "sensor" and e.attributes.get("device_class") == "temperature"]
            if len(sensors) == 1:  # no thermostat there, one thermometer: that is the temperature there
                return _thermometer(m, sensors[0])
        if not isinstance(found, list):
            return found
        if len(found) != 1:
            return Refusal("ambiguous", f"I'm not sure which thermostat you mean: {_join(self._labels(found))}.", self._labels(found))
        return Plan(m.intent, "status", [found[0].entity_id], response=m.response, slots=m.slots)

    def _media(self, m: Match, sit: Situation, service: str, data: dict[str, Any], fallback: str) -> Plan | Refusal | None:
        m.slots.setdefault("domain", "media_player")
        found = self._targets(m, sit, ("media_player",), fallback=fallback)
        if not isinstance(found, list):
            return found
        return self._checked(m, found, service, data)

    def _HassMediaPause(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        return self._media(m, sit, _MEDIA_SERVICE[m.intent], {}, "playing")

    def _HassMediaUnpause(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        return self._media(m, sit, _MEDIA_SERVICE[m.intent], {}, "paused")

    def _HassMediaNext(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        return self._media(m, sit, _MEDIA_SERVICE[m.intent], {}, "playing")

    def _HassMediaPrevious(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        return self._media(m, sit, _MEDIA_SERVICE[m.intent], {}, "playing")

    def _HassSetVolume(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        level = _number(m.slots.get("volume_level", m.slots.get("volume", -1)))
        return self._media(m, sit, "media_player.volume_set", {"volume_level": level / 100}, "playing")

    def _HassMediaPlayerMute(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        return self._media(m, sit, "media_player.volume_mute", {"is_volume_muted": True}, "playing")

    def _HassMediaPlayerUnmute(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        return self._media(m, sit, "media_player.volume_mute", {"is_volume_muted": False}, "playing")

    def _HassGetState(self, m: Match, sit: Situation) -> Plan | Refusal | None:
        if m.combination.startswith(("name_where", "name_zone")):
            return Refusal("unsupported", "people are not handled locally")
        found = self._targets(m, sit, _STATE_DOMAINS)
        if not isinstance(found, list):
            return found
        state = m.slots.get("state")
        matched = [e.entity_id for e in found if state is None or e.state == state]
        unmatched = [e.entity_id for e in found if e.entity_id not in matched]
        return Plan(m.intent, "status", [e.entity_id for e in found], response=m.response, slots=m.slots,
                    query={"matched": matched, "unmatched": unmatched})


def _thermometer(m: Match, sensor: Entity) -> Plan:
    """A temperature question answered by reading one thermometer."""
    return Plan("HassGetState", "status", [sensor.entity_id], response="one", slots={**m.slots, "name": sensor.name},
                query={"matched": [sensor.entity_id], "unmatched": []})


def _colour_capable(found: list[Entity]) -> list[Entity]:
    """Colour goes to the lights that can show it, when the lights say what they support."""
    capable = [e for e in found if set(e.attributes.get("supported_color_modes") or ()) & _COLOUR_MODES]
    known = any("supported_color_modes" in e.attributes for e in found)
    return capable if known and capable else found


def _area(m: Match) -> str | None:
    area = m.slots.get("area")
    return None if area in (None, NO_AREA) else str(area)


def _number(value: Any) -> float | int:
    n = float(value)
    return int(n) if n.is_integer() else n


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]
