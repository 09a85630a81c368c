"""A fake Home Assistant on 127.0.0.1: REST + WebSocket, speaking the real message shapes.

It serves ``/api/websocket`` (auth phase, ``get_states``, area/floor/device/entity
registry lists, ``subscribe_events`` with ``state_changed`` pushed when a service
call or ``set_state`` changes something), ``POST /api/services/<domain>/<service>``
(Bearer token, 401 otherwise; every call recorded in ``calls``) and
``GET /api/camera_proxy/<entity_id>`` (a small JPEG). ``stop()`` then ``start()``
comes back on the same port, like a Home Assistant restart.

    async with FakeHomeAssistant() as ha:
        ... HomeAssistantProvider(ha.url, ha.token) ...
        assert ha.calls[-1].service == "turn_on"
"""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSCloseCode, web

# 32x24 baseline JPEG, used when Pillow is not installed.
_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdBRkxOUlNSMj5a"
    "YVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT0//wAAR"
    "CAAYACADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEG"
    "E1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWG"
    "h4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEB"
    "AQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYk"
    "NOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0"
    "tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDia0f7C1P/AJ9v/Ii/41nV6NU5hjJ4bl5E"
    "tb7/ACNMJh41r83Q4r+wtT/59v8AyIv+NUJI2ileOQYdGKsPQivRK4LUv+Qndf8AXZ//AEI1OAxtTESamlp2KxeGhRScStW1/wAJNff88rf/"
    "AL5b/Giiu+rQp1bc6vY5YVZ0/hdg/wCEmvv+eVv/AN8t/jWRPK088kzgBpGLEDpknNFFKlh6VJ3hGwTqznpJ3P/Z"
)


def snapshot_jpeg() -> bytes:
    """A small JPEG: drawn with Pillow when installed, else a constant one."""
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        return _JPEG
    image = Image.new("RGB", (32, 24), (20, 40, 90))
    ImageDraw.Draw(image).rectangle((8, 6, 24, 18), fill=(230, 140, 30))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=60)
    return out.getvalue()


@dataclass
class RecordedCall:
    domain: str
    service: str
    service_data: dict[str, Any]

    @property
    def entity_ids(self) -> list[str]:
        ids = self.service_data.get("entity_id", [])
        return [ids] if isinstance(ids, str) else list(ids)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def default_home() -> dict[str, Any]:
    """A small home in Home Assistant's shapes (registries as ``*/list`` returns them)."""
    floors = [
        {"floor_id": "ground_floor", "name": "Ground Floor", "level": 0, "aliases": ["downstairs"], "icon": None},
        {"floor_id": "upstairs", "name": "Upstairs", "level": 1, "aliases": [], "icon": None},
    ]
    area_rows = [
        ("kitchen", "Kitchen", "ground_floor", ["cooking area"]),
        ("living_room", "Living Room", "ground_floor", ["lounge"]),
        ("bedroom", "Bedroom", "upstairs", []),
        ("garage", "Garage", "ground_floor", []),
    ]
    areas = [
        {"area_id": a, "name": n, "floor_id": f, "aliases": al, "icon": None, "picture": None, "labels": [],
         "humidity_entity_id": None, "temperature_entity_id": None, "created_at": 0.0, "modified_at": 0.0}
        for a, n, f, al in area_rows
    ]
    devices = [
        {"id": "dev-hue-kitchen", "area_id": "kitchen", "name": "Hue bulb", "name_by_user": None},
        {"id": "dev-sonos-lr", "area_id": "living_room", "name": "Sonos One", "name_by_user": None},
    ]
    states = [
        ("light.kitchen", "off", {"friendly_name": "Kitchen Light", "brightness": None, "supported_color_modes": ["color_temp", "hs"]}),
        ("light.kitchen_spots", "on", {"friendly_name": "Kitchen Spots", "brightness": 255}),
        ("light.living_room", "on", {"friendly_name": "Living Room Lamp", "brightness": 128}),
        ("light.bedroom", "off", {"friendly_name": "Bedroom Light", "brightness": None}),
        ("switch.coffee_machine", "off", {"friendly_name": "Coffee Machine"}),
        ("climate.hall", "heat", {"friendly_name": "Thermostat", "temperature": 20, "current_temperature": 19.5,
                                  "hvac_modes": ["off", "heat", "cool", "auto"], "min_temp": 7, "max_temp": 35}),
        ("media_player.living_room", "paused", {"friendly_name": "Living Room Sonos", "volume_level": 0.3,
                                                "is_volume_muted": False, "source_list": ["Jazz FM", "BBC Radio 4"]}),
        ("cover.garage_door", "closed", {"friendly_name": "Garage Door", "device_class": "garage"}),
        ("lock.front_door", "locked", {"friendly_name": "Front Door"}),
        ("camera.front_door", "idle", {"friendly_name": "Front Door Camera"}),
        ("sensor.outside_temperature", "12.5", {"friendly_name": "Outside Temperature", "unit_of_measurement": "°C"}),
        ("sensor.hue_bulb_signal", "-60", {"friendly_name": "Hue bulb signal"}),
    ]
    registry_area = {
        "light.kitchen_spots": "kitchen", "light.bedroom": "bedroom", "switch.coffee_machine": "kitchen",
        "climate.hall": "living_room", "cover.garage_door": "garage",
    }
    registry_device = {"light.kitchen": "dev-hue-kitchen", "media_player.living_room": "dev-sonos-lr",
                       "light.living_room": "dev-sonos-lr", "sensor.hue_bulb_signal": "dev-hue-kitchen"}
    entities = []
    for eid, _s, _a in states:
        entities.append({
            "entity_id": eid, "id": uuid.uuid4().hex, "unique_id": eid, "platform": "fake",
            "area_id": registry_area.get(eid), "device_id": registry_device.get(eid), "config_entry_id": None,
            "disabled_by": None, "hidden_by": None, "has_entity_name": False, "icon": None, "labels": [],
            "name": None, "original_name": None, "options": {}, "translation_key": None, "categories": {},
            "entity_category": "diagnostic" if eid == "sensor.hue_bulb_signal" else None,
        })
    return {
        "floors": floors,
        "areas": areas,
        "devices": devices,
        "entities": entities,
        "states": [{"entity_id": e, "state": s, "attributes": a} for e, s, a in states],
    }


class FakeHomeAssistant:
    def __init__(self, token: str = "fake-ha-token", home: dict[str, Any] | None = None, *, supports_floors: bool = True, version: str = "2025.1.0"):
        home = copy.deepcopy(home or default_home())
        self.token = token
        self.version = version
        self.supports_floors = supports_floors
        self.floors: list[dict[str, Any]] = home.get("floors", [])
        self.areas: list[dict[str, Any]] = home.get("areas", [])
        self.devices: list[dict[str, Any]] = home.get("devices", [])
        self.entity_registry: list[dict[str, Any]] = home.get("entities", [])
        self.states: dict[str, dict[str, Any]] = {}
        for s in home.get("states", []):
            self.states[s["entity_id"]] = self._state_object(s["entity_id"], s["state"], s.get("attributes", {}))
        self.calls: list[RecordedCall] = []
        self.ws_commands: list[dict[str, Any]] = []
        self.auth_failures = 0
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._subs: dict[web.WebSocketResponse, dict[int, str]] = {}

    # ---- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/websocket", self._websocket)
        app.router.add_get("/api/", self._api_root)
        app.router.add_get("/api/states", self._get_states)
        app.router.add_post("/api/services/{domain}/{service}", self._call_service_http)
        app.router.add_get("/api/camera_proxy/{entity_id}", self._camera)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        if not self.port:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Close every connection and stop listening (as a Home Assistant restart does)."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"restarting")
        self._sockets.clear()
        self._subs.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def __aenter__(self) -> FakeHomeAssistant:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # ---- test helpers ------------------------------------------------------------------

    def calls_to(self, domain: str, service: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.domain == domain and c.service == service]

    def set_state(self, entity_id: str, state: str, attributes: dict[str, Any] | None = None) -> None:
        """Change a state from 'outside' (a wall switch) and push ``state_changed``."""
        old = self.states.get(entity_id)
        attrs = dict(attributes if attributes is not None else (old or {}).get("attributes", {}))
        new = self._state_object(entity_id, state, attrs)
        self.states[entity_id] = new
        self._push_state_changed(entity_id, old, new)

    def remove_state(self, entity_id: str) -> None:
        old = self.states.pop(entity_id, None)
        if old is not None:
            self._push_state_changed(entity_id, old, None)

    def rename_area(self, area_id: str, name: str) -> None:
        for a in self.areas:
            if a["area_id"] == area_id:
                a["name"] = name
        self._push_event("area_registry_updated", {"action": "update", "area_id": area_id})

    # ---- internals ---------------------------------------------------------------------

    @staticmethod
    def _state_object(entity_id: str, state: str, attributes: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        return {
            "entity_id": entity_id,
            "state": state,
            "attributes": dict(attributes),
            "last_changed": now,
            "last_reported": now,
            "last_updated": now,
            "context": {"id": uuid.uuid4().hex, "parent_id": None, "user_id": None},
        }

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") == f"Bearer {self.token}"

    async def _api_root(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401, text="401: Unauthorized")
        return web.json_response({"message": "API running."})

    async def _get_states(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401, text="401: Unauthorized")
        return web.json_response(list(self.states.values()))

    async def _camera(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401, text="401: Unauthorized")
        entity_id = request.match_info["entity_id"]
        if not entity_id.startswith("camera.") or entity_id not in self.states:
            return web.json_response({"message": "Entity not found"}, status=404)
        return web.Response(body=snapshot_jpeg(), content_type="image/jpeg")

    async def _call_service_http(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401, text="401: Unauthorized")
        try:
            data = await request.json() if request.can_read_body else {}
        except ValueError:
            return web.json_response({"message": "Data should be valid JSON."}, status=400)
        domain, service = request.match_info["domain"], request.match_info["service"]
        try:
            changed = self.call_service(domain, service, data or {})
        except KeyError as exc:
            return web.json_response({"message": str(exc.args[0])}, status=400)
        return web.json_response(changed)

    def call_service(self, domain: str, service: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Record the call, change the states it touches, push events; return the changed states."""
        self.calls.append(RecordedCall(domain, service, copy.deepcopy(data)))
        ids = data.get("entity_id", [])
        ids = [ids] if isinstance(ids, str) else list(ids)
        handler = _EFFECTS.get((domain, service)) or _EFFECTS.get(("*", service))
        if handler is None:
            raise KeyError(f"Service {domain}.{service} not found.")
        changed = []
        for eid in ids:
            old = self.states.get(eid)
            if old is None:
                continue
            state, attrs = handler(old["state"], dict(old["attributes"]), data)
            new = self._state_object(eid, state, attrs)
            self.states[eid] = new
            changed.append(new)
            self._push_state_changed(eid, old, new)
        return changed

    def _push_state_changed(self, entity_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        self._push_event("state_changed", {"entity_id": entity_id, "old_state": old, "new_state": new})

    def _push_event(self, event_type: str, data: dict[str, Any]) -> None:
        event = {"event_type": event_type, "data": data, "origin": "LOCAL", "time_fired": _now(),
                 "context": {"id": uuid.uuid4().hex, "parent_id": None, "user_id": None}}
        for ws, subs in list(self._subs.items()):
            for sub_id, wanted in subs.items():
                if wanted in (event_type, "*"):
                    asyncio.ensure_future(self._send(ws, {"id": sub_id, "type": "event", "event": event}))

    @staticmethod
    async def _send(ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        if not ws.closed:
            try:
                await ws.send_json(message)
            except (ConnectionError, RuntimeError):
                pass

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await ws.send_json({"type": "auth_required", "ha_version": self.version})
            auth = await ws.receive_json(timeout=10)
            if auth.get("type") != "auth" or auth.get("access_token") != self.token:
                self.auth_failures += 1
                await ws.send_json({"type": "auth_invalid", "message": "Invalid access token or password"})
                await ws.close()
                return ws
            await ws.send_json({"type": "auth_ok", "ha_version": self.version})
            self._subs[ws] = {}
            async for msg in ws:
                if msg.type.name != "TEXT":
                    continue
                await self._command(ws, msg.json())
        except (TimeoutError, ValueError, TypeError, ConnectionError):
            pass
        finally:
            self._sockets.discard(ws)
            self._subs.pop(ws, None)
        return ws

    async def _command(self, ws: web.WebSocketResponse, msg: dict[str, Any]) -> None:
        self.ws_commands.append(msg)
        msg_id, kind = msg.get("id"), msg.get("type")

        def ok(result: Any = None) -> dict[str, Any]:
            return {"id": msg_id, "type": "result", "success": True, "result": result}

        def error(code: str, message: str) -> dict[str, Any]:
            return {"id": msg_id, "type": "result", "success": False, "error": {"code": code, "message": message}}

        if kind == "get_states":
            reply = ok(list(self.states.values()))
        elif kind == "config/area_registry/list":
            reply = ok(self.areas)
        elif kind == "config/floor_registry/list" and self.supports_floors:
            reply = ok(self.floors)
        elif kind == "config/device_registry/list":
            reply = ok(self.devices)
        elif kind == "config/entity_registry/list":
            reply = ok(self.entity_registry)
        elif kind == "subscribe_events":
            self._subs.setdefault(ws, {})[msg_id] = msg.get("event_type", "*")
            reply = ok()
        elif kind == "unsubscribe_events":
            self._subs.get(ws, {}).pop(msg.get("subscription"), None)
            reply = ok()
        elif kind == "ping":
            reply = {"id": msg_id, "type": "pong"}
        elif kind == "call_service":
            data = dict(msg.get("service_data") or {})
            if msg.get("target"):
                data.update(msg["target"])
            try:
                self.call_service(msg.get("domain", ""), msg.get("service", ""), data)
                reply = ok({"context": {"id": uuid.uuid4().hex}})
            except KeyError as exc:
                reply = error("not_found", str(exc.args[0]))
        else:
            reply = error("unknown_command", "Unknown command.")
        await self._send(ws, reply)


# ---- what services do to a state: (state, attributes, data) -> (state, attributes) ------

def _on(state: str, a: dict[str, Any], d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "on", a


def _off(state: str, a: dict[str, Any], d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "off", a


def _light_on(state: str, a: dict[str, Any], d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if "brightness_pct" in d:
        a["brightness"] = round(float(d["brightness_pct"]) * 255 / 100)
    elif "brightness" in d:
        a["brightness"] = int(d["brightness"])
    elif not a.get("brightness"):
        a["brightness"] = 255
    if a["brightness"] == 0:
        a["brightness"] = None
        return "off", a
    for key in ("rgb_color", "color_temp_kelvin", "color_name"):
        if key in d:
            a[key] = d[key]
    return "on", a


def _light_off(state: str, a: dict[str, Any], d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    a["brightness"] = None
    return "off", a


def _set(key: str, value_key: str | None = None, state: str | None = None) -> Any:
    def effect(s: str, a: dict[str, Any], d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if value_key:
            a[key] = d[value_key]
        return (state or s), a

    return effect


def _set_temperature(s: str, a: dict[str, Any], d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    a["temperature"] = d["temperature"]
    return d.get("hvac_mode", s), a


def _select_source(s: str, a: dict[str, Any], d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    a["source"] = a["media_title"] = d["source"]
    return "playing", a


def _play_media(s: str, a: dict[str, Any], d: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    a["media_content_id"] = a["media_title"] = d["media_content_id"]
    return "playing", a


_EFFECTS: dict[tuple[str, str], Any] = {
    ("light", "turn_on"): _light_on,
    ("light", "turn_off"): _light_off,
    ("*", "turn_on"): _on,
    ("*", "turn_off"): _off,
    ("climate", "turn_on"): lambda s, a, d: ("heat" if s == "off" else s, a),
    ("climate", "turn_off"): lambda s, a, d: ("off", a),
    ("climate", "set_temperature"): _set_temperature,
    ("climate", "set_hvac_mode"): lambda s, a, d: (d["hvac_mode"], a),
    ("media_player", "turn_on"): lambda s, a, d: ("idle", a),
    ("media_player", "turn_off"): lambda s, a, d: ("off", a),
    ("media_player", "media_play"): lambda s, a, d: ("playing", a),
    ("media_player", "media_pause"): lambda s, a, d: ("paused", a),
    ("media_player", "media_stop"): lambda s, a, d: ("idle", a),
    ("media_player", "media_next_track"): _set("media_track_changed", None),
    ("media_player", "media_previous_track"): _set("media_track_changed", None),
    ("media_player", "volume_set"): _set("volume_level", "volume_level"),
    ("media_player", "volume_mute"): _set("is_volume_muted", "is_volume_muted"),
    ("media_player", "select_source"): _select_source,
    ("media_player", "play_media"): _play_media,
    ("media_player", "join"): _set("group_members", "group_members"),
    ("media_player", "unjoin"): lambda s, a, d: (s, {**a, "group_members": []}),
    ("cover", "open_cover"): lambda s, a, d: ("open", a),
    ("cover", "close_cover"): lambda s, a, d: ("closed", a),
    ("lock", "lock"): lambda s, a, d: ("locked", a),
    ("lock", "unlock"): lambda s, a, d: ("unlocked", a),
    ("fan", "turn_on"): _on,
    ("fan", "turn_off"): _off,
}
