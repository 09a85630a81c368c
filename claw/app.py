"""Wires the daemon together and runs it: storage, skills, LLM, agent, dispatcher, delivery, channels, HTTP."""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import insert

from claw.core import history, inbox
from claw.agent.persona import load_persona
from claw.agent.turn import Agent, ContextSource
from claw.channels.base import Channel
from claw.channels.web import WebChannel
from claw.config import Config, local_timezone, secret_values
from claw.store.db import Database, ensure_conversation, outbox, utcnow
from claw.core.outbox import Deliverer
from claw.core.dispatcher import Dispatcher
from claw.providers.llm import LLM, build_llm
from claw.logging import add_secrets
from claw.skillset import SkillSet

log = structlog.get_logger("claw")

SHUTDOWN_GRACE = 6.0


def ensure_web_token(home: Path) -> str:
    """The token for the web API, created on first start with 0600 permissions."""
    path = home / "web-token"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists():
        token = path.read_text().strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)
    return token


class Runtime:
    """Everything a running daemon holds. Channels and the web app reach the pipeline through it."""

    def __init__(self, config: Config):
        self.config = config
        self.home = config.home
        self.tz = local_timezone(config)
        self.db = Database(config.database_url)
        self.started_at = time.monotonic()
        self.web_token = ""
        self.channels: dict[str, Channel] = {"web": WebChannel()}
        if config.whatsapp is not None:
            from claw.channels.whatsapp.channel import WhatsAppChannel

            self.channels["whatsapp"] = WhatsAppChannel(config.whatsapp)
        self.skills = SkillSet()
        self.llm: LLM | None = None
        self.context_sources: list[ContextSource] = []
        #: Services shared with skills (skills publish e.g. "home"; the daemon publishes e.g. "tasks").
        self.shared: dict[str, Any] = {"runtime": self, "agent_config": config.agent}
        #: Extra HTTP routes from subsystems (tasks, media), mounted beside the API.
        self.routes: list[Any] = []
        #: Standing tasks (claw.tasks), published to skills as shared["tasks"].
        self.task_service: Any = None
        #: Memory (claw.recall.service.MemoryService), published to skills as shared["memory"]; consolidation runs beside it.
        self.memory: Any = None
        self.consolidator: Any = None
        self.tasks: list[asyncio.Task[Any]] = []
        self._stop = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds the token and the owner's memories
        self.web_token = ensure_web_token(self.home)
        add_secrets([*secret_values(self.config), self.web_token])
        await asyncio.to_thread(self.db.migrate)
        self.llm = build_llm(self.config.llm)
        await self._start_memory()
        if self.config.tasks.enabled:
            from claw.tasks.service import TaskService

            self.task_service = TaskService(self)
            self.shared["tasks"] = self.task_service  # before skills load: the tasks tool finds it there
            self.routes.extend(self.task_service.routes())
        self.skills = await SkillSet.load(self.config, self.tz, self.notify_owner, shared=self.shared)
        persona = load_persona(self.home, self.config.claw.owner_name)
        self.agent = Agent(self.db, self.config, self.skills, self.llm, persona, self.tz, self.context_sources)
        self.deliverer = Deliverer(self.db, self.channels)
        turn_runner = self.task_service.wrap(self.agent) if self.task_service else self.agent
        transcript = frozenset(name for name, ch in self.channels.items() if getattr(ch, "transcript_only", False))
        self.dispatcher = Dispatcher(self.db, turn_runner, self.config.agent.max_parallel_turns, self.deliverer.wake,
                                     on_finish=self.memory.on_finish, transcript_channels=transcript)
        for channel in self.channels.values():
            await channel.start(self)
        self.tasks = [
            asyncio.create_task(self.dispatcher.run(), name="dispatcher"),
            asyncio.create_task(self.deliverer.run(), name="delivery"),
        ]
        if self.task_service:
            await self.task_service.start()
        if self.consolidator:
            await self.consolidator.start()
        log.info("claw.started", llm=self.llm.label if self.llm else "none", skills=[s.name for s in self.skills.skills],
                 tools=len(self.skills.tools), timezone=self.tz.key)

    async def stop(self) -> None:
        log.info("claw.stopping")
        if self.task_service:
            await self.task_service.stop()
        await self.dispatcher.stop(SHUTDOWN_GRACE)
        self.deliverer.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for channel in self.channels.values():
            try:
                await channel.stop()
            except Exception as exc:
                log.warning("channel.stop_failed", channel=channel.name, error=str(exc))
        await self.skills.close()
        if self.consolidator:
            await self.consolidator.stop()
        if self.llm:
            await self.llm.close()
        if self.memory:
            await asyncio.to_thread(self.memory.close)
        await asyncio.to_thread(self.db.close)
        log.info("claw.stopped")

    async def _start_memory(self) -> None:
        """Memory tables live in claw.db (same engine); before skills load, so the memory tools find it."""
        from claw.recall.consolidation import Consolidator
        from claw.recall.service import MemoryService

        cfg = self.config.memory
        self.memory = await asyncio.to_thread(MemoryService.open, self.db.engine, cfg, self.tz,
                                              self.config.agent.history_messages)
        self.shared["memory"] = self.memory
        self.context_sources.append(self.memory)
        if cfg.consolidate:
            self.consolidator = Consolidator(self.memory, self.llm, self.db, cfg.consolidate_after_minutes * 60)
            self.memory.on_activity = self.consolidator.touch

    # -- the pipeline's entry points ----------------------------------------

    async def accept(self, *, channel: str, external_id: str | None, peer: str, sender: str, text: str,
                     payload: dict[str, Any] | None = None, origin: str = "user") -> inbox.Accepted:
        """Write one inbox row (a duplicate external id is a no-op) and wake the dispatcher."""
        ext = external_id or uuid.uuid4().hex

        accepted = await self.db.tx(
            lambda c: inbox.accept(c, channel=channel, external_id=ext, peer=peer, sender=sender, text=text,
                                   payload=payload, origin=origin)
        )
        if accepted.created:
            self.dispatcher.wake(accepted.conversation_id)
        return accepted

    def owner_route(self) -> tuple[str, str]:
        """(channel, address) where the owner is reached: the first channel that knows them, web last."""
        for name, channel in self.channels.items():
            if name != "web" and channel.owner_address():
                return name, channel.owner_address()  # type: ignore[return-value]
        return "web", "owner"

    async def notify_owner(self, text: str, media: list[str] | None = None, meta: dict[str, Any] | None = None) -> int:
        """Queue a message to the owner on their channel; it is also part of the conversation transcript."""
        channel, address = self.owner_route()

        def write(conn: Any) -> int:
            conv = ensure_conversation(conn, channel, address)
            history.record(conn, conv, "assistant", text, inbox_id=None, at=utcnow(), meta={"origin": "notify", **(meta or {})})
            self.memory.on_notify(conn, conv, text, meta)
            return conn.execute(
                insert(outbox).values(conversation_id=conv, channel=channel, recipient=address, text=text,
                                      payload={"media": media} if media else {}, status="pending", created_at=utcnow())
            ).inserted_primary_key[0]

        outbox_id = await self.db.tx(write)
        self.deliverer.wake()
        return outbox_id

    def extra_routes(self) -> list[Any]:
        """HTTP routes channels (webhooks) and subsystems serve."""
        return [route for channel in self.channels.values() for route in channel.routes()] + self.routes

    def health(self) -> dict[str, Any]:
        if self.llm is None:
            llm = {"ok": False, "detail": "not configured"}
        elif self.llm.last_error:
            llm = {"ok": False, "detail": f"{self.llm.label}: last request failed: {self.llm.last_error}"}
        else:
            llm = {"ok": True, "detail": self.llm.label}
        backlog = self.deliverer.backlog if hasattr(self, "deliverer") else {}
        components: dict[str, Any] = {
            "database": {"ok": True},
            "llm": llm,
            "delivery": {"ok": not backlog, "detail": f"{len(backlog)} message(s) waiting to be sent"
                         + (f"; last error: {next(reversed(backlog.values()))}" if backlog else "")},
            "channels": {name: ch.health() for name, ch in self.channels.items()},
            "skills": self.skills.health(),
        }
        if self.task_service:
            components["tasks"] = self.task_service.health()
        if self.consolidator:
            components["memory"] = self.consolidator.health()
        degraded = [f"skills.{k}" for k, v in components["skills"].items() if not v.get("ok", True)]
        degraded += [f"channels.{k}" for k, v in components["channels"].items() if not v.get("ok", True)]
        degraded += [k for k in ("delivery",) if not components[k]["ok"]]
        if self.llm is not None and not llm["ok"]:
            degraded.append("llm")  # an unconfigured LLM is a choice, not a fault
        return {
            "status": "degraded" if degraded else "ok",
            "degraded": degraded,
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "turns_running": self.dispatcher.busy() if hasattr(self, "dispatcher") else 0,
            "components": components,
        }

    # -- serving ------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()

    async def serve(self, host: str, port: int, on_ready: Any = None) -> None:
        import uvicorn

        from claw.web.app import create_app
        from claw.web.server import Server

        await self.start()
        app = create_app(self)
        # Start-up builds a large, long-lived heap (intent grammars, schemas, config): move it out of the
        # collector's reach, or each full collection walks it and stalls every request for tens of ms.
        # Again a little later, for what skills load in the background (the intent grammars).
        gc.freeze()
        asyncio.get_running_loop().call_later(10, gc.freeze)
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off",
                                server_header=False, timeout_graceful_shutdown=3)
        server = Server(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        server_task = asyncio.create_task(server.serve(), name="http")
        while not server.started and not server_task.done():
            await asyncio.sleep(0.01)
        if server_task.done():
            await self.stop()
            server_task.result()
            raise RuntimeError(f"could not listen on {host}:{port}")
        if on_ready:
            on_ready(server)
        await self.skills.ready()
        stop_wait = asyncio.create_task(self._stop.wait())
        await asyncio.wait([stop_wait, server_task], return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        await self.stop()
        await asyncio.wait([server_task], timeout=4)
