"""The budget skill: the owner reads or sets claw's token budgets in chat, answered locally.

"spend at most 50k tokens a day", "no more than 20k tokens per conversation", "tasks may
use 10k tokens a day", "remove the token limit", "what are my budgets?". The sentences
are answered before the planner (no tokens, and with no model at all), because a tool
the model may call would cost its schema on every turn. Only the owner's own words
reach this (``intercept`` sees the owner's messages; nothing a model reads can call
it). What the owner sets is kept (claw.db) and wins over the config from then on,
across restarts, until set again; 0 removes a limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from claw.skill import IncomingMessage, LocalReply, Skill

WHAT = {"daily": "all calls, per day", "conversation": "your turns in one conversation, per day",
        "tasks": "unattended tasks, per day"}

_ABOUT = re.compile(r"\b(tokens?|budgets?)\b", re.I)
_AMOUNT = r"(\d[\d,]*(?:\.\d+)?)\s*(k|thousand|m|million)?"
#: "50k tokens", "a budget of 50,000", "another 10k a day" after an amount in the same sentence
_SETS = (re.compile(_AMOUNT + r"\s*tokens?\b", re.I),
         re.compile(r"\b(?:budgets?|tokens?)\s*(?:of|to|at|is|=|:)?\s*" + _AMOUNT, re.I))
_MORE = re.compile(r"^\W*(?:and\s+)?" + _AMOUNT + r"\b.*\b(?:per|a|each|every)\s+(?:day|conversation|chat|task)", re.I)
_SCOPES = (("conversation", re.compile(r"\b(conversations?|chats?)\b", re.I)),
           ("tasks", re.compile(r"\b(tasks?|routines?|unattended|goals?)\b", re.I)))
#: An order to lift a limit, said as one: "remove the token limit", "no token budget for tasks"
_NO_LIMIT = re.compile(r"^\W*(?:please\s+)?(?:remove|drop|lift|clear|disable|turn off|no)\b.*\b(?:limit|budget|cap)s?\b"
                       r"|^\W*(?:please\s+)?(?:make|let)\b.*\bunlimited\b", re.I)
_ASKS = re.compile(r"^\s*(what|how|show|tell me|list|is|are|do|does|can|could|should|would|why|when|which)\b|\?\s*$",
                   re.I)
#: Not an order for now: thinking aloud, or something to do later ("remind me to raise the budget tomorrow")
_NOT_NOW = re.compile(r"^\W*(?:remind|i\b|i'm|we\b|maybe|perhaps)|\b(?:tomorrow|later|next week|should|might)\b",
                      re.I)
_SHOWS = re.compile(r"\bbudgets?\b|\bhow many tokens\b", re.I)
_CLAUSES = re.compile(r",\s|;|\band\b", re.I)  # "20,000" stays one number


@dataclass
class Said:
    """What the owner's sentence asks: budgets to set (empty: show them)."""

    limits: dict[str, int]


def _tokens(number: str, unit: str | None) -> int:
    scale = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}.get((unit or "").lower(), 1)
    return round(float(number.replace(",", "")) * scale)  # commas separate thousands


def _scope(clause: str) -> str:
    return next((name for name, words in _SCOPES if words.search(clause)), "daily")


def parse(text: str) -> Said | None:
    """The budgets a sentence sets or asks about; None when it is not about claw's token budgets."""
    if not _ABOUT.search(text):
        return None
    if _NOT_NOW.search(text):
        return None
    if _ASKS.search(text):  # a question sets nothing; about the budgets, it shows them
        return Said({}) if _SHOWS.search(text) else None
    limits: dict[str, int] = {}
    for clause in _CLAUSES.split(text):
        found = next((m for pattern in _SETS if (m := pattern.search(clause))), None)
        if found is None and limits:
            found = _MORE.search(clause)
        if found is not None:
            limits[_scope(clause)] = _tokens(found.group(1), found.group(2))
        elif _NO_LIMIT.search(clause) and _ABOUT.search(clause):
            limits[_scope(clause)] = 0
    return Said(limits) if limits else None


def _figure(n: int) -> str:
    return f"{n:,} tokens" if n else "no limit"


class Budget(Skill):
    """Token budgets, read and set in the owner's own words."""

    name = "budget"
    intercept_priority = 5  # before the device fast path: these sentences name tokens or budgets, never a device

    async def setup(self) -> None:
        if self.ctx.budgets is not None and self.ctx.state is not None:
            saved = await self.ctx.state.get("limits")
            if saved:
                self.ctx.budgets.set_limits({k: int(v) for k, v in saved.items() if k in WHAT})

    async def intercept(self, message: IncomingMessage) -> LocalReply | None:
        if not message.is_owner or self.ctx.budgets is None or self.ctx.state is None:
            return None
        said = parse(message.text)
        if said is None:
            return None
        if said.limits:
            saved = dict(await self.ctx.state.get("limits") or {})
            saved.update(said.limits)
            await self.ctx.state.put("limits", saved)
            self.ctx.budgets.set_limits(said.limits)
            self.ctx.log.info("budget.set", **said.limits)
        limits = self.ctx.budgets.limits()
        spent = await self.ctx.budgets.spent_today(message.conversation)
        lines = [f"- {WHAT[k]}: {_figure(limits[k])}, {spent.get(k, 0):,} spent today" for k in WHAT]
        head = "Token budgets now:" if said.limits else "Token budgets:"
        return LocalReply("\n".join([head, *lines]), "local",
                          [{"tool": "token_budget", "args": said.limits, "ok": True}] if said.limits else [])

    def health(self) -> dict[str, Any]:
        if self.ctx.budgets is None:
            return {"ok": True, "detail": "no model budgets here"}
        return {"ok": True, "limits": self.ctx.budgets.limits()}
