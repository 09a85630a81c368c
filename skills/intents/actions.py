"""A fast-path plan as the home skill's tool calls, so a routine can be stored compiled with no model.

"every weekday at 7 set the heat to 21" becomes ``home_control(target="climate.thermostat",
action="set", temperature=21)``, run each time with zero tokens. Devices are named by
entity id (the registry resolves an id exactly); music without a named room stays
without one, so "pause the music" pauses whatever plays at run time.
"""

from __future__ import annotations

from typing import Any

from .handlers import Plan

#: service -> home_control action
_CONTROL = {"turn_on": "on", "turn_off": "off", "open_cover": "open", "close_cover": "close", "lock": "lock"}
#: service -> music action
_MUSIC = {"media_pause": "pause", "media_play": "resume", "media_next_track": "next",
          "media_previous_track": "previous"}


def tool_calls(plan: Plan) -> list[dict[str, Any]] | None:
    """The calls, or None when the plan is not a plain change (a question, or one that needs a yes)."""
    if plan.kind != "control" or not plan.calls:
        return None
    out: list[dict[str, Any]] = []
    for call in plan.calls:
        domain, service = call.service.split(".", 1)
        for entity_id in call.entity_ids:
            args = _arguments(domain, service, call.data, entity_id, named="name" in plan.slots or "area" in plan.slots)
            if args is None:
                return None
            out.append(args)
    return _unique(out)


def _arguments(domain: str, service: str, data: dict[str, Any], entity_id: str, named: bool) -> dict[str, Any] | None:
    if domain == "media_player":
        room = {"room": entity_id} if named else {}
        if service in _MUSIC and not data:
            return {"tool": "music", "args": {"action": _MUSIC[service], **room}}
        if service == "volume_set":
            return {"tool": "music", "args": {"action": "volume", "volume": round(float(data["volume_level"]) * 100),
                                              **room}}
        if service == "volume_mute":
            return {"tool": "music", "args": {"action": "mute" if data.get("is_volume_muted") else "unmute", **room}}
        if service not in ("turn_on", "turn_off"):
            return None
    if domain == "climate" and service in ("set_temperature", "set_hvac_mode"):
        args: dict[str, Any] = {"target": entity_id, "action": "set"}
        if "temperature" in data:
            args["temperature"] = data["temperature"]
        if "hvac_mode" in data:
            args["mode"] = data["hvac_mode"]
        return {"tool": "home_control", "args": args}
    if service not in _CONTROL:
        return None
    args = {"target": entity_id, "action": _CONTROL[service]}
    if domain == "light" and service == "turn_on" and data:
        light = _light(data)
        if light is None:
            return None
        args.update(light)
    elif data:
        return None  # an option home_control has no word for: not compiled rather than compiled wrong
    return {"tool": "home_control", "args": args}


def _light(data: dict[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "brightness_pct":
            out["brightness"] = round(float(value))
        elif key == "brightness":
            out["brightness"] = round(float(value) * 100 / 255)
        elif key == "color_name":
            out["color"] = str(value)
        elif key == "color_temp_kelvin":
            out["color"] = f"{int(value)}K"
        elif key == "rgb_color" and isinstance(value, list | tuple) and len(value) == 3:
            out["color"] = "#" + "".join(f"{int(c):02x}" for c in value)
        else:
            return None
    return out


def _unique(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Music without a room is one call however many speakers the plan named."""
    seen: list[dict[str, Any]] = []
    for call in calls:
        if call not in seen:
            seen.append(call)
    return seen
