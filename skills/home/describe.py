"""Short human words for an entity's state, shared by the tools and the fast path's replies."""

from __future__ import annotations

from .provider import Entity


def describe(entity: Entity) -> str:
    """``"on, 30%"``, ``"heat, set 21 °C, now 19.5 °C"``, ``"playing Jazz FM, volume 25%"``..."""
    a = entity.attributes
    s = entity.state
    if s in {"unavailable", "unknown"}:
        return s
    if entity.domain == "light":
        if s == "on" and a.get("brightness") is not None:
            return f"on, {round(int(a['brightness']) * 100 / 255)}%"
        return s
    if entity.domain == "climate":
        parts = [s]
        if a.get("temperature") is not None and s != "off":
            parts.append(f"set {a['temperature']:g} °C")
        if a.get("current_temperature") is not None:
            parts.append(f"now {float(a['current_temperature']):.1f} °C")
        return ", ".join(parts)
    if entity.domain == "media_player":
        parts = [s]
        if s in {"playing", "paused"} and a.get("media_title"):
            parts = [f"{s} {a['media_title']}"]
        if a.get("volume_level") is not None:
            parts.append(f"volume {round(float(a['volume_level']) * 100)}%")
        if a.get("is_volume_muted"):
            parts.append("muted")
        members = [m for m in a.get("group_members") or [] if m != entity.entity_id]
        if members:
            parts.append("grouped with " + ", ".join(members))
        return ", ".join(parts)
    if entity.domain == "sensor":
        unit = a.get("unit_of_measurement")
        return f"{s} {unit}" if unit else s
    if entity.domain == "fan" and s == "on" and a.get("percentage") is not None:
        return f"on, {a['percentage']}%"
    return s
