"""The fast path itself: match a sentence, choose one certain reading, carry it out, word the reply.

Split in two so ``claw intents test`` and the benchmark can see exactly what
would happen without acting: ``analyse`` (pure) and ``execute`` (service calls).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from claw.skill import LocalReply, ServiceCall
from skills.home.provider import Entity, HomeError

from . import responses
from .handlers import Plan, Refusal, Resolver, Situation
from .matcher import SUPPORTED, Match, Matcher

_REFUSAL_ORDER = {"sensitive": 0, "invalid": 1, "ambiguous": 2, "unknown": 3, "unsupported": 4}


@dataclass
class Reading:
    match: Match
    outcome: Plan | Refusal


@dataclass
class Decision:
    """What the fast path makes of one message."""

    text: str
    readings: list[Reading] = field(default_factory=list)
    plan: Plan | None = None
    refusal: Refusal | None = None
    match_ms: float = 0.0

    @property
    def matched(self) -> bool:
        return bool(self.readings)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "local": self.plan is not None}
        if self.plan:
            out.update(intent=self.plan.intent, slots=self.plan.slots, entities=self.plan.entity_ids,
                       calls=[{"service": c.service, "entity_ids": c.entity_ids, "data": c.data} for c in self.plan.calls])
        if self.refusal:
            out["refused"] = {"reason": self.refusal.reason, "message": self.refusal.message}
        out["readings"] = [
            {**r.match.describe(), "outcome": "plan" if isinstance(r.outcome, Plan) else f"refusal: {r.outcome.reason}"}
            for r in self.readings
        ]
        return out


@dataclass
class _Memory:
    entity_ids: list[str]
    at: float


#: Intents that ask rather than act, and the words a question opens with, per language.
QUESTIONS = frozenset({"HassGetState", "HassClimateGetTemperature"})
QUESTION_WORDS = {"en": frozenset("""is are was were am do does did which what what's whats how how's hows who
    any tell show check has have can could will""".split())}

#: Slots that carry what to set: a sentence of a name and one of these is a command with no other word.
VALUE_SLOTS = frozenset({"color", "brightness", "temperature", "volume_level"})

#: Words that are not a device's name, though they fill the name slot of a sentence ("turn on all the ...").
NOT_NAMES = frozenset("""a an the all every each both my our your this that these those some any it them
    in on at of to for with and or please now here there everything everywhere whole entire house home
    apartment flat room rooms place""".split())


class FastPath:
    """One language's matcher over one home registry, with per-conversation memory of the last devices."""

    def __init__(self, matcher: Matcher, registry: Any, *, context_seconds: float = 900.0, max_conversations: int = 1000):
        self.matcher = matcher
        self.registry = registry
        self.context_seconds = context_seconds
        self.max_conversations = max_conversations
        self._last: OrderedDict[str, _Memory] = OrderedDict()

    @property
    def language(self) -> str:
        return self.matcher.language.code

    # ---- conversation memory ------------------------------------------------------------

    def last_entities(self, conversation: str) -> list[str]:
        mem = self._last.get(conversation)
        if mem is None or time.monotonic() - mem.at > self.context_seconds:
            return []
        return list(mem.entity_ids)

    def remember(self, conversation: str, entity_ids: list[str]) -> None:
        self._last[conversation] = _Memory(list(entity_ids), time.monotonic())
        self._last.move_to_end(conversation)
        while len(self._last) > self.max_conversations:
            self._last.popitem(last=False)

    # ---- deciding -----------------------------------------------------------------------

    def _asks(self, text: str) -> bool | None:
        """Whether the text is worded as a question (None: this language's question words are not known)."""
        words = QUESTION_WORDS.get(self.language.split("-")[0])
        if words is None:
            return None
        first = re.findall(r"[\w']+", text.casefold())[:1]
        return text.rstrip().endswith("?") or bool(first and first[0] in words)

    def analyse(self, text: str, conversation: str = "", area: str | None = None) -> Decision:
        started = time.perf_counter()
        self.matcher.refresh(self.registry)
        assert self.matcher.slots is not None
        sit = Situation(area=area, last=self.last_entities(conversation), language=self.language, text=text)
        resolver = Resolver(self.registry, self.matcher.slots)
        readings = []
        if len(text.split()) < 2 and not self.matcher.language.intents.settings.ignore_whitespace:
            return Decision(text)  # "stop", "pause": in a chat, too terse to act on without asking
        asks = self._asks(text)
        for m in self.matcher.recognize(text, area):
            if m.literal_chunks == 0 and not VALUE_SLOTS & m.slots.keys():
                continue  # a bare device name ("kitchen light") is not a command; "bedroom blue" is
            if m.intent in QUESTIONS and asks is False:
                continue  # "all lights off" is an order, not "are all lights off?"
            outcome = resolver.resolve(m, sit) if m.intent in SUPPORTED else Refusal("unsupported", f"{m.intent} is not handled locally")
            if outcome is not None:
                readings.append(Reading(m, outcome))
        decision = Decision(text, readings)
        if readings:
            top = max(r.match.priority for r in readings)
            best = [r for r in readings if r.match.priority == top]
            refusals = [r.outcome for r in best if isinstance(r.outcome, Refusal)]
            plans = [r.outcome for r in best if isinstance(r.outcome, Plan)]
            if refusals:
                decision.refusal = min(refusals, key=lambda r: _REFUSAL_ORDER.get(r.reason, 9))
            elif len({p.key() for p in plans}) > 1:
                names = sorted({self.registry.name_of(i) for p in plans for i in p.entity_ids})
                decision.refusal = Refusal("ambiguous", f"I'm not sure what you mean; it could be {', '.join(names)}.", names)
            else:
                decision.plan = plans[0]
        decision.match_ms = (time.perf_counter() - started) * 1000
        return decision

    def unknown_target(self, text: str, area: str | None = None) -> Refusal | None:
        """With no LLM to ask: is this a device command naming something that does not exist? A question ("what
        is the meaning of life") is not denied as a device: it is for the model, which the reply says is needed."""
        found = [
            m for m in self.matcher.recognize(text, area, unmatched=True)
            if m.intent in SUPPORTED and m.intent not in QUESTIONS and m.literal_chunks and "name" in m.slot_text and "name" not in m.slots
            and m.slot_text["name"].strip()
        ]
        if not found:
            return None
        best = max(found, key=lambda m: (m.literal_chunks, -len(m.slot_text["name"])))
        said = best.slot_text["name"].strip()
        content = [w for w in re.findall(r"\w+", said.casefold()) if w not in NOT_NAMES]
        if not content or self.matcher.knows_any(said):
            return None  # words of a real device or area, or no device at all: only the model can tell
        return Refusal("unknown", f"I don't know a device called {said!r}.")

    # ---- acting -------------------------------------------------------------------------

    async def execute(self, plan: Plan, conversation: str) -> LocalReply:
        services: list[ServiceCall] = []
        errors: list[str] = []
        if plan.kind == "control":
            for call in plan.calls:
                try:
                    sent = await self.registry.call_service(call.service, call.entity_ids, call.data)
                except HomeError as exc:
                    services.append(ServiceCall(call.service, list(call.entity_ids), dict(call.data), False, str(exc)))
                    errors.append(str(exc))
                    continue
                services.append(ServiceCall(call.service, list(call.entity_ids), dict(sent), True))
        self.remember(conversation, plan.entity_ids)
        reply = self.preview(plan)
        if errors:
            reply.text = f"That didn't work: {'; '.join(errors)}"
            reply.actions[0]["ok"] = False
        reply.services = services
        return reply

    def preview(self, plan: Plan) -> LocalReply:
        """The reply ``execute`` gives when every call succeeds, worded from the devices' states now."""
        entities = [e for e in (self.registry.get(i) for i in plan.entity_ids) if e is not None]
        action = {"tool": "home_control" if plan.kind == "control" else "home_status", "args": self._args(plan, entities),
                  "ok": True}
        return LocalReply(self.reply_text(plan, entities), "local", [action])

    def _args(self, plan: Plan, entities: list[Entity]) -> dict[str, Any]:
        args: dict[str, Any] = {"target": ", ".join(e.name for e in entities), "intent": plan.intent, "entity_ids": plan.entity_ids}
        if plan.kind == "control":
            args["services"] = [c.service for c in plan.calls]
            for c in plan.calls:
                args.update(c.data)
        return args

    def reply_text(self, plan: Plan, entities: list[Entity]) -> str:
        lang = self.matcher.language
        slots = self.matcher_slots(plan, entities)
        first = responses.StateView.of(entities[0]) if entities else None
        by_id = {e.entity_id: e for e in entities}
        query = None
        if plan.query:
            query = responses.QueryView(
                [responses.StateView.of(by_id[i]) for i in plan.query.get("matched", []) if i in by_id],
                [responses.StateView.of(by_id[i]) for i in plan.query.get("unmatched", []) if i in by_id],
            )

        def state_attr(entity_id: str, attr: str) -> Any:
            e = self.registry.get(entity_id)
            return e.attributes.get(attr) if e else None

        template = lang.responses.get(plan.intent, {}).get(plan.response)
        text = responses.render(template, {"slots": slots, "state": first, "query": query}, state_attr)
        if text is None:
            q = {"matched": [by_id[i] for i in plan.query.get("matched", []) if i in by_id]} if plan.query else None
            return responses.fallback(plan.intent, entities, plan.slots, q)
        names = [e.name for e in entities]
        if plan.kind == "control" and len(names) > 4 and lang.code.startswith("en"):
            return responses.counted(plan.intent, entities) or text
        if names and len(names) <= 4 and not any(n.casefold() in text.casefold() for n in names):
            if plan.kind == "control" or plan.response == "one_yesno":
                text = f"{text.rstrip('.')} ({', '.join(names)})"
        return text

    @staticmethod
    def matcher_slots(plan: Plan, entities: list[Entity]) -> dict[str, Any]:
        names = {"name": entities[0].name} if entities and "name" in plan.slots else {}
        return responses.slot_values(plan.slots, {}, names)
