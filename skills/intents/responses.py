"""Reply text: home-assistant-intents' own response templates (Jinja2), so replies speak the configured language.

Templates expect Home Assistant's objects (``slots``, ``state``, ``query``,
``state_attr``); small stand-ins provide them. When a template is missing or
fails to render, a plain English sentence is used instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skills.home.describe import describe
from skills.home.provider import Entity

try:  # jinja2 renders the package's templates; without it replies fall back to plain English
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    _ENV: Any = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
except ImportError:  # pragma: no cover - depends on the install
    _ENV = None


@dataclass
class StateView:
    """What a response template reads as ``state`` (Home Assistant's State object)."""

    entity_id: str
    domain: str
    name: str
    state: str
    attributes: dict[str, Any]

    @property
    def state_with_unit(self) -> str:
        unit = self.attributes.get("unit_of_measurement")
        return f"{self.state} {unit}" if unit else self.state

    @classmethod
    def of(cls, e: Entity) -> StateView:
        return cls(e.entity_id, e.domain, e.name, e.state, dict(e.attributes))


@dataclass
class QueryView:
    matched: list[StateView]
    unmatched: list[StateView]


_cache: dict[str, Any] = {}


def render(template: str | None, variables: dict[str, Any], state_attr: Callable[[str, str], Any]) -> str | None:
    """Render a response template; None when it is missing, empty or fails."""
    if not template or _ENV is None:
        return None
    try:
        compiled = _cache.get(template)
        if compiled is None:
            compiled = _cache[template] = _ENV.from_string(template)
        text = compiled.render(**variables, state_attr=state_attr)
    except Exception:
        return None
    text = re.sub(r"\s+", " ", text).strip()
    return text or None


def slot_values(slots: dict[str, Any], slot_text: dict[str, str], names: dict[str, str]) -> dict[str, Any]:
    """What templates read as ``slots``: what was said, with numbers as numbers and the device's real name."""
    out: dict[str, Any] = {}
    for key, value in slots.items():
        if key in names:
            out[key] = names[key]
        elif isinstance(value, float) and value.is_integer():
            out[key] = int(value)
        elif isinstance(value, (int, float)):
            out[key] = value
        else:
            out[key] = slot_text.get(key) or value
    return out


def fallback(intent: str, entities: list[Entity], slots: dict[str, Any], query: dict[str, list[Entity]] | None) -> str:
    """A plain English reply when the language has no usable template."""
    names = ", ".join(e.name for e in entities)
    if intent == "HassGetState" and query is not None:
        if "state" in slots and len(entities) == 1:
            e = entities[0]
            return f"Yes, {e.name} is {slots['state']}." if query["matched"] else f"No, {e.name} is {describe(e)}."
        if "state" in slots:
            matched = ", ".join(e.name for e in query["matched"])
            return f"{matched}." if matched else "None."
        return "; ".join(f"{e.name}: {describe(e)}" for e in entities) + "."
    if intent == "HassClimateGetTemperature" and entities:
        e = entities[0]
        t = e.attributes.get("current_temperature", e.state)
        return f"{e.name}: {t} °C."
    return f"{PAST.get(intent, 'Done:')} {names}."


#: intent -> what the English replies say was done
PAST = {
    "HassTurnOn": "Turned on", "HassTurnOff": "Turned off", "HassLightSet": "Set", "HassClimateSetTemperature": "Set",
    "HassMediaPause": "Paused", "HassMediaUnpause": "Resumed", "HassMediaNext": "Skipped on",
    "HassMediaPrevious": "Went back on", "HassSetVolume": "Set the volume of", "HassMediaPlayerMute": "Muted",
    "HassMediaPlayerUnmute": "Unmuted",
}
#: domain -> what the English replies call several of its devices
PLURAL = {"light": "lights", "switch": "switches", "fan": "fans", "cover": "covers", "media_player": "speakers",
          "climate": "thermostats", "lock": "locks", "vacuum": "vacuums", "valve": "valves"}


def counted(intent: str, entities: list[Entity]) -> str | None:
    """English, for an action on many devices: how many it touched ("Turned off 9 lights."), which a template
    written for one device ("Turned off the light") would hide."""
    verb = PAST.get(intent)
    if verb is None or len(entities) < 2:
        return None
    domains = {e.domain for e in entities}
    noun = PLURAL.get(domains.pop(), "devices") if len(domains) == 1 else "devices"
    return f"{verb} {len(entities)} {noun}."
