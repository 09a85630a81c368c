"""Home Assistant provider: WebSocket to follow state and registries, REST to call services.

The WebSocket (``/api/websocket``) authenticates, subscribes to ``state_changed``
first, then loads ``get_states`` and the area/floor/device/entity registries,
so no change is lost between the snapshot and the subscription. It reconnects
with backoff forever; a restart or a bad token shows in ``health()`` and in
the errors of service calls, never as a crash. Service calls go over REST
(``POST /api/services/<domain>/<service>``) because their answer carries the
changed states, which are applied at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx

from .provider import Area, Entity, Floor, HomeError, Registry

_REGISTRY_EVENTS = ("area_registry_updated", "entity_registry_updated", "device_registry_updated", "floor_registry_updated")


class _AuthFailed(Exception):
    pass


class _CommandFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class _Status:
    ok: bool = False
    detail: str = "not connected yet"


class HomeAssistantProvider:
    """One Home Assistant instance as a source of entities."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        log: Any = None,
        timeout: float = 10.0,
        verify_ssl: bool = True,
        backoff: tuple[float, float] = (1.0, 60.0),
        name: str = "homeassistant",
    ):
        self.name = name
        self.url = url.rstrip("/")
        self.token = token
        self.log = log
        self.timeout = timeout
        self.verify_ssl = verify_ssl
        self.backoff = backoff
        self.ha_version: str | None = None
        self._status = _Status()
        self._registry: Registry | None = None
        self._http: httpx.AsyncClient | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._entity_ids: set[str] = set()
        self._area_ids: set[str] = set()
        self._entity_areas: dict[str, str | None] = {}
        self._entity_aliases: dict[str, list[str]] = {}
        self._excluded: set[str] = set()
        self._last_updated: dict[str, str] = {}
        self._synced = False
        self._buffer: list[dict[str, Any]] = []
        self._resync_task: asyncio.Task[None] | None = None
        self.connections = 0  # successful syncs, for health and tests

    # ---- Provider protocol ------------------------------------------------------------

    async def start(self, registry: Registry) -> None:
        """Connect in the background; wait for the first sync (or failure) so setup sees entities."""
        self._registry = registry
        if not self.token:
            self._status = _Status(False, "no access token configured ([home.homeassistant] token)")
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=self.timeout,
            verify=self.verify_ssl,
        )
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=self.timeout))
        self._task = asyncio.create_task(self._run(), name="homeassistant-ws")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._first_attempt.wait(), self.timeout)

    async def stop(self) -> None:
        for task in (self._task, self._resync_task):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._resync_task = None
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        if self._http is not None:
            await self._http.aclose()
        self._status = _Status(False, "stopped")

    def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self._status.ok, "detail": self._status.detail, "url": self.url}
        if self.ha_version:
            out["version"] = self.ha_version
        return out

    async def call_service(self, domain: str, service: str, entity_ids: list[str], data: dict[str, Any]) -> None:
        if self._http is None:
            raise HomeError("Home Assistant is not started")
        body = {"entity_id": list(entity_ids), **data}
        try:
            resp = await self._http.post(f"/api/services/{domain}/{service}", json=body)
        except httpx.TimeoutException:
            raise HomeError(f"Home Assistant at {self.url} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise HomeError(f"Home Assistant is not reachable at {self.url} ({type(exc).__name__})") from None
        if resp.status_code in (401, 403):
            self._status = _Status(False, "Home Assistant rejected the access token (401); check [home.homeassistant] token")
            raise HomeError(self._status.detail)
        if resp.status_code >= 300:
            text = resp.text.strip()[:200]
            raise HomeError(f"Home Assistant refused {domain}.{service} ({resp.status_code}): {text}")
        try:
            changed = resp.json()
        except ValueError:
            changed = []
        if isinstance(changed, dict):  # with ?return_response HA wraps it
            changed = changed.get("changed_states", [])
        for state in changed if isinstance(changed, list) else []:
            self._apply_state(state)

    # ---- connection loop --------------------------------------------------------------

    async def _run(self) -> None:
        delay = self.backoff[0]
        while True:
            try:
                await self._connect_once()
                detail = "connection closed by Home Assistant"
            except _AuthFailed as exc:
                detail = f"Home Assistant rejected the access token ({exc}); check [home.homeassistant] token"
            except _CommandFailed as exc:
                detail = f"Home Assistant command failed: {exc}"
            except (TimeoutError, aiohttp.ClientError, OSError, ConnectionError) as exc:
                why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                detail = f"Home Assistant is not reachable at {self.url} ({why})"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let a surprise kill the loop
                detail = f"Home Assistant connection error: {type(exc).__name__}: {exc}"
            if self.connections and self._synced:
                delay = self.backoff[0]  # it was up: retry soon
            self._synced = False
            self._ws = None
            self._fail_pending()
            self._status = _Status(False, f"{detail}; retrying in {delay:g} s")
            if self.log:
                self.log.warning("home.homeassistant_down", url=self.url, detail=detail, retry_in=delay)
            self._first_attempt.set()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff[1])

    async def _connect_once(self) -> None:
        assert self._session is not None
        ws_url = ("ws" + self.url[4:] if self.url.startswith("http") else self.url) + "/api/websocket"
        async with self._session.ws_connect(
            ws_url, heartbeat=30, timeout=aiohttp.ClientWSTimeout(ws_close=self.timeout), ssl=self.verify_ssl
        ) as ws:
            hello = await asyncio.wait_for(ws.receive_json(), self.timeout)
            if hello.get("type") != "auth_required":
                raise ConnectionError(f"unexpected first message {hello.get('type')!r}")
            await ws.send_json({"type": "auth", "access_token": self.token})
            answer = await asyncio.wait_for(ws.receive_json(), self.timeout)
            if answer.get("type") == "auth_invalid":
                raise _AuthFailed(answer.get("message") or "auth_invalid")
            if answer.get("type") != "auth_ok":
                raise ConnectionError(f"unexpected auth answer {answer.get('type')!r}")
            self.ha_version = answer.get("ha_version")
            self._ws = ws
            reader = asyncio.create_task(self._read(ws))
            try:
                for event_type in ("state_changed", *_REGISTRY_EVENTS):
                    await self._command({"type": "subscribe_events", "event_type": event_type})
                await self._sync()
                self.connections += 1
                self._status = _Status(True, f"connected to Home Assistant {self.ha_version or ''}".rstrip())
                if self.log:
                    self.log.info("home.homeassistant_connected", url=self.url, entities=len(self._entity_ids))
                self._first_attempt.set()
                await reader
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            payload = msg.json()
            for item in payload if isinstance(payload, list) else [payload]:  # HA may batch (coalesce_messages)
                self._dispatch(item)
        self._fail_pending()

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if msg.get("type") == "result":
            fut = self._pending.pop(msg.get("id", -1), None)
            if fut and not fut.done():
                if msg.get("success"):
                    fut.set_result(msg.get("result"))
                else:
                    err = msg.get("error") or {}
                    fut.set_exception(_CommandFailed(err.get("code", "error"), err.get("message", "")))
        elif msg.get("type") == "event":
            event = msg.get("event") or {}
            if event.get("event_type") in _REGISTRY_EVENTS:
                self._schedule_resync()
            elif event.get("event_type") == "state_changed":
                if self._synced:
                    self._on_state_changed(event.get("data") or {})
                else:
                    self._buffer.append(event.get("data") or {})

    def _fail_pending(self) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("connection to Home Assistant lost"))
        self._pending.clear()

    async def _command(self, message: dict[str, Any]) -> Any:
        ws = self._ws
        if ws is None or ws.closed:
            raise ConnectionError("not connected to Home Assistant")
        msg_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = fut
        await ws.send_json({"id": msg_id, **message})
        return await asyncio.wait_for(fut, self.timeout)

    async def _optional(self, command: str) -> list[dict[str, Any]]:
        """A registry list an older Home Assistant may not have (floors came in 2024.3)."""
        try:
            return await self._command({"type": command}) or []
        except _CommandFailed as exc:
            if self.log:
                self.log.info("home.homeassistant_command_unavailable", command=command, error=str(exc))
            return []

    # ---- state and registries ---------------------------------------------------------

    async def _sync(self) -> None:
        """Load everything, replace what we had, then replay events that came in meanwhile."""
        self._synced = False
        self._buffer = []
        states = await self._command({"type": "get_states"}) or []
        await self._sync_registries(states)
        self._synced = True
        buffered, self._buffer = self._buffer, []
        for data in buffered:
            self._on_state_changed(data)

    async def _sync_registries(self, states: list[dict[str, Any]] | None = None) -> None:
        registry = self._registry
        assert registry is not None
        floors = await self._optional("config/floor_registry/list")
        areas = await self._optional("config/area_registry/list")
        devices = await self._optional("config/device_registry/list")
        entries = await self._optional("config/entity_registry/list")
        upsert_floor = getattr(registry, "upsert_floor", None)
        for f in floors:
            if upsert_floor and f.get("floor_id"):
                upsert_floor(Floor(f["floor_id"], f.get("name") or f["floor_id"], f.get("level"), list(f.get("aliases") or [])))
        new_areas = set()
        for a in areas:
            if a.get("area_id"):
                registry.upsert_area(Area(a["area_id"], a.get("name") or a["area_id"], a.get("floor_id"), list(a.get("aliases") or [])))
                new_areas.add(a["area_id"])
        remove_area = getattr(registry, "remove_area", None)
        for gone in self._area_ids - new_areas:
            if remove_area:
                remove_area(gone)
        self._area_ids = new_areas
        device_area = {d["id"]: d.get("area_id") for d in devices if d.get("id")}
        self._entity_areas = {}
        self._entity_aliases = {}
        self._excluded = set()
        for e in entries:
            eid = e.get("entity_id")
            if not eid:
                continue
            if e.get("disabled_by") or e.get("hidden_by") or e.get("entity_category"):
                self._excluded.add(eid)  # hidden, disabled and config/diagnostic entities are not for talking to
            self._entity_areas[eid] = e.get("area_id") or device_area.get(e.get("device_id") or "")
            self._entity_aliases[eid] = [a for a in e.get("aliases") or [] if isinstance(a, str)]
        if states is None:  # registry change only: re-place the entities we know
            get = getattr(registry, "get", None)
            states = []
            for eid in self._entity_ids:
                ent = get(eid) if get else None
                if ent is not None:
                    states.append({"entity_id": eid, "state": ent.state, "attributes": ent.attributes})
        seen = set()
        for state in states:
            if self._upsert(state):
                seen.add(state["entity_id"])
        for gone in self._entity_ids - seen:
            registry.remove_entity(gone)
        self._entity_ids = seen

    def _upsert(self, state: dict[str, Any]) -> bool:
        eid = state.get("entity_id")
        if not eid or "." not in eid or eid in self._excluded or self._registry is None:
            return False
        attrs = dict(state.get("attributes") or {})
        name = attrs.get("friendly_name") or eid.split(".", 1)[1].replace("_", " ")
        if state.get("last_updated"):
            self._last_updated[eid] = state["last_updated"]
        self._registry.upsert_entity(
            Entity(
                entity_id=eid,
                name=str(name),
                area=self._entity_areas.get(eid),
                state=str(state.get("state", "unknown")),
                attributes=attrs,
                aliases=self._entity_aliases.get(eid, []),
                provider=self.name,
            )
        )
        return True

    def _apply_state(self, state: dict[str, Any]) -> None:
        eid = state.get("entity_id")
        if not eid or eid in self._excluded or self._registry is None:
            return
        stamp = state.get("last_updated")
        if stamp and self._last_updated.get(eid, "") > stamp:
            return  # older than what we have (a buffered event behind a fresh snapshot)
        if eid not in self._entity_ids:
            if self._upsert(state):
                self._entity_ids.add(eid)
            return
        attrs = dict(state.get("attributes") or {})
        if stamp:
            self._last_updated[eid] = stamp
        get = getattr(self._registry, "get", None)
        current = get(eid) if get else None
        if current is not None and attrs.get("friendly_name") and attrs["friendly_name"] != current.name:
            self._upsert(state)  # renamed: the registry must bump its version
            return
        self._registry.update_state(eid, str(state.get("state", "unknown")), attrs)

    def _on_state_changed(self, data: dict[str, Any]) -> None:
        eid = data.get("entity_id")
        new = data.get("new_state")
        if not eid or self._registry is None:
            return
        if new is None:
            if eid in self._entity_ids:
                self._entity_ids.discard(eid)
                self._registry.remove_entity(eid)
            return
        self._apply_state(new)

    def _schedule_resync(self) -> None:
        if self._resync_task and not self._resync_task.done():
            return

        async def resync() -> None:
            await asyncio.sleep(0.2)  # let a burst of registry events settle
            with contextlib.suppress(Exception):
                await self._sync_registries()

        self._resync_task = asyncio.create_task(resync())
