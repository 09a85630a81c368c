"""The turn journal: every LLM response and tool call is written before the next step.

Replaying the journal rebuilds a turn after a crash. A tool whose start was
journaled but whose result was not is never run again: its result becomes
"interrupted", because running an unlock or a heater twice is worse than asking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from collections.abc import Callable

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Connection

from claw.store.db import Database, turn_steps, utcnow
from claw.providers.base import Message, ToolCall, ToolResult

INTERRUPTED = "interrupted: the daemon restarted while this tool ran, so its outcome is unknown; check the state before trying again"


@dataclass
class Replay:
    """A turn's state as the journal tells it."""

    messages: list[Message] = field(default_factory=list)  # assistant and tool messages after the prompt
    pending: list[ToolCall] = field(default_factory=list)  # calls of the last LLM step without results yet
    started: set[str] = field(default_factory=set)  # call ids whose start is journaled
    done: set[str] = field(default_factory=set)  # call ids whose result is journaled
    llm_steps: int = 0
    final_text: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    confirmations: list[str] = field(default_factory=list)
    next_seq: int = 0


# Built once: these run on every turn, and building a statement costs more than running it.
_steps = (select(turn_steps.c.seq, turn_steps.c.kind, turn_steps.c.data)
          .where(turn_steps.c.inbox_id == bindparam("inbox_id")).order_by(turn_steps.c.seq))
_next_seq = select(func.coalesce(func.max(turn_steps.c.seq), -1) + 1).where(turn_steps.c.inbox_id == bindparam("inbox_id"))


def load(conn: Connection, inbox_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(_steps, {"inbox_id": inbox_id})
    return [{"seq": r.seq, "kind": r.kind, "data": r.data} for r in rows]


def append(conn: Connection, inbox_id: int, kind: str, data: dict[str, Any]) -> int:
    seq = conn.execute(_next_seq, {"inbox_id": inbox_id}).scalar_one()
    conn.execute(insert(turn_steps), {"inbox_id": inbox_id, "seq": seq, "kind": kind, "data": data, "at": utcnow()})
    return seq


def replay(steps: list[dict[str, Any]]) -> Replay:
    state = Replay(next_seq=len(steps))
    results: dict[str, ToolResult] = {}
    for step in steps:
        kind, data = step["kind"], step["data"]
        if kind == "llm":
            _flush(state, results)
            msg = Message.from_json(data["message"])
            state.messages.append(msg)
            state.llm_steps += 1
            if msg.tool_calls:
                state.pending = list(msg.tool_calls)
            else:
                state.final_text = msg.text
        elif kind == "tool_start":
            state.started.add(data["call_id"])
        elif kind == "tool_result":
            state.done.add(data["call_id"])
            results[data["call_id"]] = ToolResult(data["call_id"], data["name"], data["content"], not data["ok"])
            state.actions.append(data["action"])
            state.services.extend(data.get("services", []))
            if data.get("needs_confirmation"):
                state.confirmations.append(data["needs_confirmation"])
    _flush(state, results, final=False)
    return state


def _flush(state: Replay, results: dict[str, ToolResult], final: bool = True) -> None:
    """Close the previous LLM step's calls: append the tool message once every call has a result."""
    if not state.pending:
        return
    if all(c.id in results for c in state.pending):
        state.messages.append(Message(role="tool", tool_results=[results[c.id] for c in state.pending]))
        state.pending = []
    elif final:
        # A later LLM step exists, so the missing results were resolved before it; should not happen.
        state.pending = []


class TurnJournal:
    """One turn's journal: kept in memory, every append written to the database before it counts."""

    def __init__(self, db: Database, inbox_id: int, steps: list[dict[str, Any]]):
        self.db = db
        self.inbox_id = inbox_id
        self.steps = steps

    async def append(self, kind: str, data: dict[str, Any], also: Callable[[Connection], Any] | None = None) -> None:
        """Write the step (and ``also``, in the same transaction), then add it to the in-memory copy."""

        def write(conn: Connection) -> int:
            seq = append(conn, self.inbox_id, kind, data)
            if also is not None:
                also(conn)
            return seq

        seq = await self.db.tx(write)
        self.steps.append({"seq": seq, "kind": kind, "data": data})

    def defer(self, kind: str, data: dict[str, Any], also: Callable[[Connection], Any] | None = None,
              ) -> Callable[[Connection], None]:
        """Add the step to the in-memory copy now; the caller writes it later with the returned function."""
        self.steps.append({"seq": len(self.steps), "kind": kind, "data": data})

        def write(conn: Connection) -> None:
            append(conn, self.inbox_id, kind, data)
            if also is not None:
                also(conn)

        return write

    def replay(self, skip: int = 0) -> Replay:
        return replay(self.steps[skip:])
