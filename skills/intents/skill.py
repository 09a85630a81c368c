"""The ``intents`` skill: common home commands answered before the planner, with no LLM and no tokens.

It finds the home registry lazily (``ctx.shared.home``), loads the
language's sentences once, off the event loop, and answers only when exactly
one reading fits; everything else goes to the planner (or, with no LLM
configured, gets a plain "I'm not sure which ..." reply).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from typing import Any

from claw.skill import Confirm, IncomingMessage, LocalReply, Skill, SkillConfig

from .actions import tool_calls
from .engine import Decision, FastPath
from .handlers import Plan
from .matcher import LanguageNotSupported, Matcher, _templates, load_language

SIMULATED_NOTE = ("\n(That was claw's simulated demo house: no real device was touched. Ask me to find your "
                  "devices, or run `claw discover --adopt`, to use yours.)")


class IntentsConfig(SkillConfig):
    """``[skills.intents]``; ``[agent] language`` and ``local_intents`` apply too."""

    language: str | None = None  # default: [agent] language, else "en"
    #: sender (or "channel:sender") -> area id, so "turn on the lights" from the kitchen tablet means the kitchen
    areas: dict[str, str] = {}
    #: how long "it"/"them" keeps pointing at the last devices of a conversation
    context_minutes: float = 15.0


class LocalIntents(Skill):
    """Answers "turn off the kitchen light", "set the heat to 21", "pause the music" locally."""

    name = "intents"
    intercept_priority = 10
    Config = IntentsConfig

    def __init__(self, config: IntentsConfig, ctx: Any):
        super().__init__(config, ctx)
        self.config: IntentsConfig = config
        self.path: FastPath | None = None
        self.language = "en"
        self.enabled = True
        self.load_seconds: float | None = None
        self._loading: asyncio.Task[Matcher] | None = None
        self._error: str | None = None
        self._told_simulated = False

    async def setup(self) -> None:
        self.enabled = self.ctx.local_intents
        self.language = self.config.language or self.ctx.language or "en"
        if not self.enabled:
            self.ctx.log.info("intents.disabled", reason="[agent] local_intents = false")

    async def ready(self) -> None:
        self._start_loading()

    def _start_loading(self) -> None:
        """Parsing the sentences takes a few hundred ms: in a thread, once the daemon serves (or at first use)."""
        if self.enabled and self._loading is None:
            self._loading = asyncio.create_task(asyncio.to_thread(self._load, self.language), name="intents-load")

    def _load(self, language: str) -> Matcher:
        started = time.perf_counter()
        load_language(language)
        _templates(language)
        matcher = Matcher(language)
        self.load_seconds = time.perf_counter() - started
        return matcher

    async def _fast_path(self) -> FastPath | None:
        if self.path is not None:
            return self.path
        registry = self.ctx.shared.home
        self._start_loading()
        if registry is None or self._loading is None or self._error:
            return None
        try:
            matcher = await self._loading
        except LanguageNotSupported as exc:
            self._error = str(exc)
            self.ctx.log.error("intents.language_unsupported", language=self.language, error=str(exc))
            return None
        started = time.perf_counter()
        matcher.refresh(registry)
        matcher.recognize("turn on the light")  # first match builds hassil's tries; pay it now, not on a command
        self.path = FastPath(matcher, registry, context_seconds=self.config.context_minutes * 60)
        self.ctx.log.info("intents.ready", language=matcher.language.code, load_s=round(self.load_seconds or 0, 3),
                          slots_s=round(time.perf_counter() - started, 3), entities=len(registry.entities()))
        return self.path

    @staticmethod
    def _backends_ok(path: FastPath, entity_ids: list[str]) -> bool:
        providers = path.registry.health().get("providers", {})
        for eid in entity_ids:
            entity = path.registry.get(eid)
            if entity is not None and not providers.get(entity.provider, {}).get("ok", True):
                return False
        return True

    def area_of(self, message: IncomingMessage) -> str | None:
        areas = self.config.areas
        return areas.get(f"{message.channel}:{message.sender}") or areas.get(message.sender)

    async def intercept(self, message: IncomingMessage) -> LocalReply | None:
        reply, _ = await self._answer(message, act=True)
        return reply

    async def _answer(self, message: IncomingMessage, act: bool) -> tuple[LocalReply | None, Decision | None]:
        """The local answer to a message (None: the planner's turn) and the decision behind it; ``act=False``
        words the same reply without calling any device (``claw intents test``)."""
        if not self.enabled or not message.is_owner:
            return None, None
        path = await self._fast_path()
        if path is None:
            return None, None
        area = self.area_of(message)
        decision = path.analyse(message.text, message.conversation, area)
        plan = decision.plan
        if plan is not None and message.llm_available and not self._backends_ok(path, plan.entity_ids):
            self.ctx.log.info("intents.deferred", reason="backend_down", entities=plan.entity_ids)
            return None, decision  # the planner gives the honest "can't reach Home Assistant" answer and can retry
        if plan is not None and plan.kind == "confirm":
            return self._confirm(path, plan), decision
        if plan is not None:
            reply = await path.execute(plan, message.conversation) if act else path.preview(plan)
            if not self._told_simulated and any(
                    (e := path.registry.get(i)) is not None and e.attributes.get("simulated") for i in plan.entity_ids):
                # The first reply of this daemon that touches the demo house says what it is; a dry run tells
                # nobody, so it leaves the flag for the real one.
                self._told_simulated = act
                reply.text += SIMULATED_NOTE
            if act:
                self.ctx.log.info("intents.handled", intent=plan.intent, entities=plan.entity_ids,
                                  ms=round(decision.match_ms, 2), ok=all(s.ok for s in reply.services))
            return reply, decision
        refusal = decision.refusal
        if refusal is None and not message.llm_available:
            refusal = path.unknown_target(message.text, area)
        if refusal is None:
            return None, decision
        self.ctx.log.info("intents.deferred", reason=refusal.reason, detail=refusal.message, llm=message.llm_available)
        if message.llm_available or refusal.reason == "unsupported":
            return None, decision
        return LocalReply(self._no_llm_text(refusal), "local"), decision

    async def compile(self, text: str) -> list[dict[str, Any]] | None:
        """A routine's instruction as tool calls when no model is configured: only a plain device command the
        fast path is sure of ("set the heat to 21"); a question, an ambiguity or an unlock is not compiled."""
        if not self.enabled:
            return None
        path = await self._fast_path()
        if path is None:
            return None
        plan = path.analyse(text).plan
        return tool_calls(plan) if plan is not None else None

    def _confirm(self, path: FastPath, plan: Plan) -> LocalReply:
        """A sensitive command (unlock): the daemon asks the owner, and their yes runs the home's own tool."""
        [call] = plan.calls
        [entity_id] = call.entity_ids
        action = call.service.split(".", 1)[1]  # lock.unlock -> unlock
        name = path.registry.name_of(entity_id)
        self.ctx.log.info("intents.confirm", service=call.service, entity=entity_id)
        return LocalReply("", "local", confirm=Confirm("home_control", {"target": entity_id, "action": action},
                                                      f"{action.capitalize()} the {name}"))

    @staticmethod
    def _no_llm_text(refusal: Any) -> str:
        if refusal.reason == "sensitive":
            return (f"I can't do that without your confirmation ({refusal.message}), and asking for it needs a "
                    "language model, which is not configured.")
        if refusal.reason == "invalid":
            return f"I can't do that: {refusal.message}."
        return refusal.message

    async def explain(self, text: str, sender: str = "owner", channel: str = "cli", llm: bool = True) -> dict[str, Any]:
        """What the daemon's fast path would answer to the owner's ``text``, acting on nothing (``claw intents
        test``): the decision as readings, and ``answer`` (None: the message goes on to the model, if any)."""
        if not self.enabled:
            return {"text": text, "local": False, "answer": None,
                    "refused": {"reason": "disabled", "message": "[agent] local_intents = false"}}
        if await self._fast_path() is None:
            return {"text": text, "local": False, "answer": None,
                    "refused": {"reason": "unavailable", "message": self._error or "no home registry"}}
        reply, decision = await self._answer(IncomingMessage(text, "cli", sender, channel, True, llm), act=False)
        out = decision.describe() if decision is not None else {"text": text, "local": False}
        if decision is not None:
            out["match_ms"] = round(decision.match_ms, 2)
        out["language"] = self.language
        out["answer"] = None if reply is None else {
            "text": reply.text, "handled_by": reply.handled_by,
            "confirm": None if reply.confirm is None else asdict(reply.confirm)}
        return out

    def health(self) -> dict[str, Any]:
        if self._error:
            return {"ok": False, "detail": self._error}
        if not self.enabled:
            return {"ok": True, "detail": "disabled ([agent] local_intents = false)"}
        return {"ok": True, "detail": f"language {self.language}", "load_s": self.load_seconds}
