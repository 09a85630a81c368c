"""Service calls in Home Assistant's vocabulary, validated before any device is touched.

One table says which services exist per domain and what data each accepts, so
every provider receives clean, normalised data and a bad value ("brightness
300", "90 C") is refused with a message the owner can read. As in Home
Assistant a call is made even when the device already is in that state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .provider import Entity, InvalidService

#: Services that need the owner's explicit yes before they run.
SENSITIVE_SERVICES = frozenset({"lock.unlock", "lock.open"})

# CSS colour names Home Assistant accepts for ``color_name`` (a practical subset).
COLOR_NAMES: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255), "warm white": (255, 214, 170), "red": (255, 0, 0), "green": (0, 128, 0),
    "lime": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0), "orange": (255, 165, 0),
    "purple": (128, 0, 128), "violet": (238, 130, 238), "pink": (255, 192, 203), "hotpink": (255, 105, 180),
    "magenta": (255, 0, 255), "cyan": (0, 255, 255), "aqua": (0, 255, 255), "teal": (0, 128, 128),
    "turquoise": (64, 224, 208), "navy": (0, 0, 128), "indigo": (75, 0, 130), "gold": (255, 215, 0),
    "amber": (255, 191, 0), "coral": (255, 127, 80), "salmon": (250, 128, 114), "crimson": (220, 20, 60),
    "lavender": (230, 230, 250), "brown": (165, 42, 42), "beige": (245, 245, 220), "ivory": (255, 255, 240),
    "skyblue": (135, 206, 235), "lightblue": (173, 216, 230), "darkblue": (0, 0, 139), "darkgreen": (0, 100, 0),
    "darkred": (139, 0, 0), "seagreen": (46, 139, 87), "mintcream": (245, 255, 250), "peachpuff": (255, 218, 185),
}

Validator = Callable[[str, Any, list[Entity]], Any]


def _num(name: str, value: Any, lo: float, hi: float, unit: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(str(value).strip().rstrip("%").rstrip("°CcKk "))
        except ValueError:
            raise InvalidService(f"{name} must be a number, not {value!r}") from None
    if not lo <= value <= hi:
        raise InvalidService(f"{name} {value:g}{unit} is out of range ({lo:g}-{hi:g}{unit})")
    return value


def _int_range(lo: int, hi: int, unit: str = "") -> Validator:
    return lambda name, v, _e: int(round(_num(name, v, lo, hi, unit)))


def _float_range(lo: float, hi: float, unit: str = "") -> Validator:
    return lambda name, v, _e: float(_num(name, v, lo, hi, unit))


def _bool(name: str, v: Any, _e: list[Entity]) -> bool:
    if isinstance(v, bool):
        return v
    if str(v).lower() in {"true", "1", "yes", "on"}:
        return True
    if str(v).lower() in {"false", "0", "no", "off"}:
        return False
    raise InvalidService(f"{name} must be true or false, not {v!r}")


def _text(name: str, v: Any, _e: list[Entity]) -> str:
    if not isinstance(v, str) or not v.strip():
        raise InvalidService(f"{name} must be a non-empty text")
    return v.strip()


def _color_name(name: str, v: Any, _e: list[Entity]) -> str:
    key = str(v).strip().lower()
    if key not in COLOR_NAMES and key.replace(" ", "") not in COLOR_NAMES:
        raise InvalidService(f"unknown colour {v!r}; try e.g. red, blue, warm white, or an RGB value")
    return key if key in COLOR_NAMES else key.replace(" ", "")


def _rgb(name: str, v: Any, _e: list[Entity]) -> list[int]:
    if isinstance(v, str):
        m = re.fullmatch(r"#?([0-9a-fA-F]{6})", v.strip())
        if m:
            return [int(m.group(1)[i : i + 2], 16) for i in (0, 2, 4)]
        v = [p for p in re.split(r"[,\s]+", v.strip("()[] ")) if p]
    if not isinstance(v, (list, tuple)) or len(v) != 3:
        raise InvalidService(f"{name} must be three numbers 0-255 (red, green, blue)")
    return [int(_num(f"{name} component", c, 0, 255)) for c in v]


def _kelvin(name: str, v: Any, entities: list[Entity]) -> int:
    lo = min((e.attributes.get("min_color_temp_kelvin", 2000) for e in entities), default=2000)
    hi = max((e.attributes.get("max_color_temp_kelvin", 6500) for e in entities), default=6500)
    return int(_num(name, v, lo, hi, " K"))


def _temperature(name: str, v: Any, entities: list[Entity]) -> float:
    # Each thermostat's own limits, else a range sensible for a home in Celsius.
    lo = max((float(e.attributes.get("min_temp", 7)) for e in entities), default=7.0)
    hi = min((float(e.attributes.get("max_temp", 35)) for e in entities), default=35.0)
    return float(_num(name, v, lo, hi, " °C"))


def _hvac_mode(name: str, v: Any, entities: list[Entity]) -> str:
    mode = "off" if v is False else str(v).strip().lower()
    allowed: set[str] = set()
    for e in entities:
        allowed |= {str(m).lower() if m is not False else "off" for m in e.attributes.get("hvac_modes", [])}
    allowed = allowed or {"off", "heat", "cool", "heat_cool", "auto", "dry", "fan_only"}
    if mode not in allowed:
        raise InvalidService(f"hvac_mode {v!r} is not supported; choose one of {', '.join(sorted(allowed))}")
    return mode


def _media_players(name: str, v: Any, _e: list[Entity]) -> list[str]:
    ids = [v] if isinstance(v, str) else list(v or [])
    if not ids or not all(isinstance(i, str) and i.startswith("media_player.") for i in ids):
        raise InvalidService(f"{name} must list media_player entities")
    return ids


@dataclass(frozen=True)
class ServiceSpec:
    fields: dict[str, Validator] = field(default_factory=dict)
    required: frozenset[str] = frozenset()


def _spec(required: Iterable[str] = (), **fields: Validator) -> ServiceSpec:
    return ServiceSpec(dict(fields), frozenset(required))


_ONOFF = {"turn_on": _spec(), "turn_off": _spec(), "toggle": _spec()}

SERVICES: dict[str, dict[str, ServiceSpec]] = {
    "light": {
        "turn_on": _spec(
            brightness_pct=_int_range(0, 100, "%"),
            brightness=_int_range(0, 255),
            color_name=_color_name,
            rgb_color=_rgb,
            color_temp_kelvin=_kelvin,
            transition=_float_range(0, 3600, " s"),
        ),
        "turn_off": _spec(transition=_float_range(0, 3600, " s")),
        "toggle": _spec(),
    },
    "switch": dict(_ONOFF),
    "fan": {
        "turn_on": _spec(percentage=_int_range(0, 100, "%")),
        "turn_off": _spec(),
        "toggle": _spec(),
        "set_percentage": _spec(["percentage"], percentage=_int_range(0, 100, "%")),
    },
    "climate": {
        "set_temperature": _spec(["temperature"], temperature=_temperature, hvac_mode=_hvac_mode),
        "set_hvac_mode": _spec(["hvac_mode"], hvac_mode=_hvac_mode),
        "turn_on": _spec(),
        "turn_off": _spec(),
    },
    "media_player": {
        "turn_on": _spec(),
        "turn_off": _spec(),
        "media_play": _spec(),
        "media_pause": _spec(),
        "media_play_pause": _spec(),
        "media_stop": _spec(),
        "media_next_track": _spec(),
        "media_previous_track": _spec(),
        "volume_set": _spec(["volume_level"], volume_level=_float_range(0, 1)),
        "volume_mute": _spec(["is_volume_muted"], is_volume_muted=_bool),
        "play_media": _spec(
            ["media_content_id"], media_content_id=_text, media_content_type=_text, enqueue=_text
        ),
        "select_source": _spec(["source"], source=_text),
        "join": _spec(["group_members"], group_members=_media_players),
        "unjoin": _spec(),
    },
    "cover": {"open_cover": _spec(), "close_cover": _spec(), "stop_cover": _spec(), "toggle": _spec()},
    "lock": {"lock": _spec(), "unlock": _spec(code=_text), "open": _spec(code=_text)},
}


def split_service(service: str) -> tuple[str, str]:
    domain, _, name = service.partition(".")
    if not domain or not name:
        raise InvalidService(f"service must look like 'light.turn_on', not {service!r}")
    return domain, name


def is_sensitive(service: str) -> bool:
    return service in SENSITIVE_SERVICES


def services_for(domain: str) -> list[str]:
    return sorted(SERVICES.get(domain, {}))


def validate(service: str, entities: list[Entity], data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return normalised service data, or raise ``InvalidService`` saying what is wrong and why."""
    domain, name = split_service(service)
    specs = SERVICES.get(domain)
    if specs is None:
        raise InvalidService(f"no services for {domain!r} devices")
    spec = specs.get(name)
    if spec is None:
        raise InvalidService(f"{domain} has no service {name!r}; available: {', '.join(sorted(specs))}")
    if not entities:
        raise InvalidService(f"{service} needs at least one device")
    wrong = [e.name for e in entities if e.domain != domain]
    if wrong:
        raise InvalidService(f"{service} cannot act on {', '.join(wrong)} (not a {domain})")
    data = {k: v for k, v in (data or {}).items() if v is not None}
    data.pop("entity_id", None)
    unknown = sorted(set(data) - set(spec.fields))
    if unknown:
        allowed = ", ".join(sorted(spec.fields)) or "none"
        raise InvalidService(f"{service} does not take {', '.join(unknown)} (options: {allowed})")
    missing = sorted(spec.required - set(data))
    if missing:
        raise InvalidService(f"{service} needs {', '.join(missing)}")
    colour_keys = [k for k in ("color_name", "rgb_color", "color_temp_kelvin") if k in data]
    if len(colour_keys) > 1:
        raise InvalidService(f"give one colour, not {' and '.join(colour_keys)}")
    if "brightness" in data and "brightness_pct" in data:
        raise InvalidService("give brightness or brightness_pct, not both")
    return {k: spec.fields[k](k, v, entities) for k, v in data.items()}
