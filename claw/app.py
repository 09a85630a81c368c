"""The composition root: the one module that knows every concrete part of the daemon.

``App`` builds every component in its constructor, each given the narrow,
typed things it uses; ``start`` brings them up in order, ``stop`` takes them down
in reverse with each stop isolated, and ``serve`` runs the HTTP server around them.
Channels, providers and skills are plugins: the app asks ``claw.plugins`` for them.
"""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import Connection

from claw import heap, plugins, runfile
from claw.agent.persona import load_persona
from claw.agent.prompt import PromptBuilder
from claw.agent.turn import Agent, no_model_reply
from claw.channels.base import Channel, ChannelDeps, ChannelPlugin
from claw.config import Config, local_timezone
from claw.core import history
from claw.core.dispatcher import Dispatcher, Pending, TurnRunner
from claw.core.events import TurnInput, TurnOutcome
from claw.core.feed import Feed
from claw.core.gate import SenderGate
from claw.core.inbox import Inbox
from claw.core.notify import Notifier
from claw.core.outbox import Outbox
from claw.core.skill_state import SkillState
from claw.core.spool import Spool
from claw.logging import add_secrets
from claw.providers.budget import Budgets
from claw.providers.llm import LLM, build_llm
from claw.providers.models import SkillModels
from claw.recall.consolidation import Consolidator
from claw.recall.service import MemoryFacade, MemoryService
from claw.secrets import secret_values
from claw.skill import Shared, SkillContext
from claw.skillset import SkillSet
from claw.store.db import Database
from claw.store.migrations import migrate
from claw.tasks.facade import TasksFacade
from claw.tasks.service import TaskService
from claw.web.app import WebDeps, create_app

log = structlog.get_logger("claw")

SHUTDOWN_GRACE = 6.0
#: Seconds between asking an unreachable model again (see ``App._probe_llm``).
LLM_PROBE_SECONDS = 30.0
#: Seconds between returning free heap pages to the system, when idle (see ``claw.heap``).
TRIM_SECONDS = 30.0


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


def channel_plugins(config: Config) -> dict[str, tuple[ChannelPlugin, Any]]:
    """The channels to run: those with a table in the config, and those always on (the web chat)."""
    found, problems = plugins.load_all(plugins.CHANNELS)
    for p in problems:
        log.error("channel.load_failed", channel=p.name, error=p.error)
    return {name: (plugin, config.channels.get(name) or plugin.Config())
            for name, plugin in found.items() if name in config.channels or plugin.always_on}


class App:
    """Everything a running daemon holds, wired once."""

    def __init__(self, config: Config):
        self.config = config
        self.home = config.home
        self.tz = local_timezone(config)
        self.started_at = time.monotonic()
        self.web_token = ""
        self.db = Database(config.database_url)
        # Every model call fits what is left of its budgets before it is made (claw.providers.budget).
        self.budgets = Budgets(self.db, self.tz, daily=config.agent.daily_token_budget,
                               conversation_daily=config.agent.conversation_token_budget,
                               unattended_daily=config.tasks.daily_token_budget if config.tasks.enabled else 0)
        self.llm = build_llm(config.llm, config.llm.fallback, self.budgets)

        # Channels: who may talk on each, where the owner is reached, the inbox they publish to.
        chosen = channel_plugins(config)
        allowlists = {name: lst for name, (plugin, cfg) in chosen.items() if (lst := plugin.allowlist(cfg)) is not None}
        self.gate = SenderGate(allowlists)
        route = next(((name, lst.owner) for name, lst in allowlists.items() if lst.owner), ("web", "owner"))
        self.public_url = next((url for plugin, cfg in chosen.values() if (url := plugin.public_url(cfg))), None)
        self.channels: dict[str, Channel] = {}
        self.outbox = Outbox(self.db, self.channels)
        self.pending = Pending()
        self.inbox = Inbox(self.db, self.gate, self.pending.mark, self.outbox, Spool(self.home / "spool" / "inbox.jsonl"))
        deps = ChannelDeps(self.inbox, self.outbox)
        for name, (plugin, cfg) in chosen.items():
            self.channels[name] = plugin.build(cfg, deps)

        # Memory, and messages claw sends on its own.
        self.memory = MemoryService(self.db.engine, config.memory, self.tz, config.agent.history_messages,
                                    config.home / "models")
        self.feed = Feed()  # wakes the live streams (GET /api/events)
        self.notifier = Notifier(self.db, route, self.said, on_record=self.memory.on_notify)
        self.consolidator: Consolidator | None = None
        if config.memory.consolidate:
            self.consolidator = Consolidator(self.memory, self.llm, self.db, config.memory.consolidate_after_minutes * 60)
            self.memory.on_activity = self.consolidator.touch

        # Skills (set up in start), and what they are lent.
        self.shared = Shared()
        self.skills = SkillSet()
        self.models = SkillModels(self.db, self.llm, config.vision.provider_settings(config.llm),
                                  config.vision.allow_cloud_vision, self.budgets)
        self.tasks: TaskService | None = None
        if config.tasks.enabled:
            self.tasks = TaskService(self.db, config.tasks, self.tz, inbox=self.inbox, notify=self.notifier.notify_owner,
                                     owner=route, toolbox=self.skills, llm=self.llm, shared=self.shared,
                                     memory=MemoryFacade(self.memory), budgets=self.budgets)

        # The agent and the dispatcher that runs its turns.
        prompts = PromptBuilder(load_persona(self.home, config.claw.owner_name), self.tz, self.skills.specs,
                                [self.memory])
        hint = config.source if config.source != "(defaults)" else str(self.home / "config.toml")
        self.agent = Agent(self.db, config.agent, self.skills, self.llm, prompts, no_model_reply(config.llm, hint))
        runner: TurnRunner = self.tasks.wrap(self.agent) if self.tasks else self.agent
        transcript = frozenset(name for name, ch in self.channels.items() if ch.transcript_only)
        self.dispatcher = Dispatcher(self.db, runner, config.agent.max_parallel_turns, self.outbox.wake, self.pending,
                                     on_finish=self._finished, transcript_channels=transcript,
                                     on_change=self.feed.bump)
        self._loops: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    def _finished(self, conn: Connection, item: TurnInput, outcome: TurnOutcome) -> None:
        """Written in the transaction that closes a turn: its episodes, and a task report's web copy."""
        self.memory.on_finish(conn, item, outcome)
        self.notifier.copy_report(conn, item, outcome)

    def said(self) -> None:
        """claw queued something to say on its own: deliver it, and show it in the open chats."""
        self.outbox.wake()
        self.feed.bump()

    def skill_context(self, name: str) -> SkillContext:
        cfg = self.config
        return SkillContext(
            name=name, timezone=self.tz, data_dir=self.home / "data" / name,
            log=structlog.get_logger(f"skills.{name}"), notify_owner=self.notifier.notify_owner, shared=self.shared,
            models=self.models, tasks=TasksFacade(self.tasks) if self.tasks else None,
            memory=MemoryFacade(self.memory), state=SkillState(self.db, name), budgets=self.budgets,
            public_url=self.public_url, language=cfg.agent.language,
            local_intents=cfg.agent.local_intents)

    # -- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds the token and the owner's memories
        self.web_token = ensure_web_token(self.home)
        add_secrets([*secret_values(self.config), self.web_token])
        await asyncio.to_thread(migrate, self.db.engine)
        await asyncio.to_thread(self.db.check_writable)  # opening and reading is not enough: a full disk reads fine
        self.inbox.resume()  # messages acknowledged but not stored when the daemon last stopped
        await self.memory.start()
        await self.skills.load(self.config, self.skill_context)
        if self.shared.home is not None:  # the web chat's home panel follows every change
            self.shared.home.subscribe(lambda *change: self.feed.bump("home"))
        for channel in self.channels.values():
            await channel.start()
        self._loops = [asyncio.create_task(self.dispatcher.run(), name="dispatcher"),
                       asyncio.create_task(self.outbox.run(), name="delivery")]
        if self.llm:
            self._loops.append(asyncio.create_task(self._probe_llm(self.llm), name="llm-probe"))
        self._loops.append(asyncio.create_task(self._trim_when_idle(), name="heap-trim"))
        if self.tasks:
            await self.tasks.start()
        if self.consolidator:
            await self.consolidator.start()
        log.info("claw.started", llm=self.llm.label if self.llm else "none", skills=[s.name for s in self.skills.skills],
                 tools=len(self.skills.tools), channels=sorted(self.channels), timezone=self.tz.key)

    async def stop(self) -> None:
        """Reverse order of start; one part failing to stop does not keep the others running."""
        log.info("claw.stopping")
        self.feed.close()  # the live streams end, so the server can
        steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
        if self.consolidator:
            steps.append(("consolidation", self.consolidator.stop))
        if self.tasks:
            steps.append(("tasks", self.tasks.stop))
        steps.append(("dispatcher", lambda: self.dispatcher.stop(SHUTDOWN_GRACE)))
        steps.append(("delivery", self._stop_loops))
        steps += [(f"channel {name}", ch.stop) for name, ch in reversed(self.channels.items())]
        steps.append(("inbox", self.inbox.stop))
        steps += [("skills", self.skills.close), ("models", self.models.close)]
        if self.llm:
            steps.append(("llm", self.llm.close))
        steps += [("memory", self.memory.stop), ("database", lambda: asyncio.to_thread(self.db.close))]
        for what, stop in steps:
            try:
                await stop()
            except Exception as exc:
                log.warning("claw.stop_failed", part=what, error=str(exc))
        log.info("claw.stopped")

    @staticmethod
    async def _probe_llm(llm: LLM) -> None:
        """/healthz says what ``claw doctor`` would about the model from the start, not only after a message;
        an unreachable one (a local server not up yet) is asked again until it answers."""
        while True:
            if await llm.probe():
                return
            await asyncio.sleep(LLM_PROBE_SECONDS)

    async def _trim_when_idle(self) -> None:
        """Hand freed memory back to the system when no turn runs, so RSS stays flat over months of use."""
        while True:
            await asyncio.sleep(TRIM_SECONDS)
            if not self.dispatcher.busy():
                heap.trim()

    async def _stop_loops(self) -> None:
        self.outbox.stop()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)

    def health(self) -> dict[str, Any]:
        if self.llm is None:
            llm = {"ok": False, "detail": "not configured"}
        elif self.llm.last_error:
            llm = {"ok": False, "detail": f"{self.llm.label}: {self.llm.last_error}"}
        else:
            llm = {"ok": True, "detail": self.llm.label}
        backlog = self.outbox.backlog
        database = self.db.storage_health()  # a real write, re-probed every few seconds
        if self.inbox.spooled:
            database = {"ok": False, "detail": f"{database['detail']}; {len(self.inbox.spooled)} message(s) "
                        "acknowledged and spooled, waiting for the database's lock"}
        components: dict[str, Any] = {
            "database": database,
            "llm": llm,
            "delivery": {"ok": not backlog, "detail": f"{len(backlog)} message(s) waiting to be sent"
                         + (f"; last error: {next(reversed(backlog.values()))}" if backlog else "")},
            "channels": {name: ch.health() for name, ch in self.channels.items()},
            "skills": self.skills.health(),
        }
        if self.tasks:
            components["tasks"] = self.tasks.health()
        if self.consolidator:
            components["memory"] = self.consolidator.health()
        degraded = [f"skills.{k}" for k, v in components["skills"].items() if not v.get("ok", True)]
        degraded += [f"channels.{k}" for k, v in components["channels"].items() if not v.get("ok", True)]
        degraded += [k for k in ("database", "delivery", "memory") if not components.get(k, {"ok": True})["ok"]]
        if self.llm is not None and not llm["ok"]:
            degraded.append("llm")  # an unconfigured LLM is a choice, not a fault
        return {
            "status": "degraded" if degraded else "ok",
            "degraded": degraded,
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "turns_running": self.dispatcher.busy(),
            "components": components,
        }

    # -- serving ------------------------------------------------------------

    def web_deps(self) -> WebDeps:
        routes = [route for channel in self.channels.values() for route in channel.routes()] + self.skills.routes()
        return WebDeps(token=self.web_token, inbox=self.inbox, replies=self.dispatcher, transcript=self.transcript,
                       home=self.home_snapshot, health=self.health, server=self.config.server, tasks=self.tasks,
                       call_tool=self.agent.call_tool, routes=routes, feed=self.feed)

    async def transcript(self, conversation: str, after: int) -> list[dict[str, Any]]:
        return await self.db.tx(lambda c: history.since(c, conversation, after))

    def home_snapshot(self) -> dict[str, Any]:
        home = self.shared.home
        return home.snapshot() if home is not None else {"areas": [], "entities": []}

    def request_stop(self) -> None:
        self._stop.set()

    async def serve(self, host: str, port: int, on_ready: Callable[[str], None] | None = None) -> None:
        """Run until SIGTERM/SIGINT. One daemon per home: the home's lock is taken first; once the server
        listens, ``$CLAW_HOME/serve.json`` says where (the CLI and the tests read it)."""
        from claw.web.server import listen_socket

        lock = runfile.claim(self.home)
        heap.limit_arenas()  # before any worker thread allocates (claw.heap)
        try:
            sock = listen_socket(host, port)  # a busy port ends here, before anything starts
            await self.start()
            url, server, server_task = await self._listen(host, sock)
            runfile.publish(self.home, url)
            if on_ready:
                on_ready(url)
            await self.skills.ready()
            stop_wait = asyncio.create_task(self._stop.wait())
            await asyncio.wait([stop_wait, server_task], return_when=asyncio.FIRST_COMPLETED)
            server.should_exit = True
            await self.stop()
            await asyncio.wait([server_task], timeout=4)
        finally:
            runfile.clear(self.home)
            lock.close()

    async def _listen(self, host: str, sock: socket.socket) -> tuple[str, Any, asyncio.Task[None]]:
        """Start uvicorn on the app and the bound socket; the URL it listens at, the server and its task."""
        from claw.web.server import Config, Server

        public_urls = [url for name, cfg in self.config.channels.items()
                       if (url := plugins.load(plugins.CHANNELS, name).public_url(cfg))]
        app = create_app(self.web_deps(), bound=host, public_urls=public_urls)
        # Start-up builds a large, long-lived heap (intent grammars, schemas, config): move it out of the
        # collector's reach, or each full collection walks it and stalls every request for tens of ms.
        # Again a little later, for what skills load in the background (the intent grammars).
        gc.freeze()
        asyncio.get_running_loop().call_later(10, gc.freeze)
        # Header and body deadlines, size limits and the connection cap: see claw.web.server and FrontDoor.
        port = sock.getsockname()[1]
        server = Server(Config(app, self.config.server, host, port, log_config=None, access_log=False, lifespan="off",
                               server_header=False, timeout_graceful_shutdown=3))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        server_task = asyncio.create_task(server.serve(sockets=[sock]), name="http")
        started = asyncio.create_task(server.started_event.wait())
        await asyncio.wait([started, server_task], return_when=asyncio.FIRST_COMPLETED)
        if server_task.done():
            started.cancel()
            await self.stop()
            server_task.result()
            raise RuntimeError(f"could not listen on {host}:{port}")
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}", server, server_task
