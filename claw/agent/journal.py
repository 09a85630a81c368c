"""The turn journal: every model answer and every tool call is written before the turn goes on.

The helpers return what was recorded when a turn is replayed after a crash, and
do and record the step otherwise, so a model call is not paid twice and a tool
never runs twice. A tool whose start was recorded but whose result was not is
not run again: its result becomes "interrupted", because running an unlock or a
heater twice is worse than asking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Connection

from claw.logging import scrub_data
from claw.providers.base import Message, ToolCall
from claw.store.db import Database, utcnow
from claw.store.schema import turn_steps

INTERRUPTED = ("interrupted: the daemon restarted while this tool ran, so its outcome is unknown; "
               "check the state before trying again")

Also = Callable[[Connection], Any]

# Built once: these run on every turn, and building a statement costs more than running it.
_steps = (select(turn_steps.c.seq, turn_steps.c.kind, turn_steps.c.data)
          .where(turn_steps.c.inbox_id == bindparam("inbox_id")).order_by(turn_steps.c.seq))
_next_seq = select(func.coalesce(func.max(turn_steps.c.seq), -1) + 1).where(turn_steps.c.inbox_id == bindparam("inbox_id"))
_insert = insert(turn_steps)


def load(conn: Connection, inbox_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(_steps, {"inbox_id": inbox_id})
    return [{"seq": r.seq, "kind": r.kind, "data": r.data} for r in rows]


def append(conn: Connection, inbox_id: int, kind: str, data: dict[str, Any]) -> int:
    """Write one step, scrubbed of secrets (a tool's output may quote a token); the turn keeps its own copy."""
    data = scrub_data(data)
    seq = int(conn.execute(_next_seq, {"inbox_id": inbox_id}).scalar_one())
    conn.execute(_insert, {"inbox_id": inbox_id, "seq": seq, "kind": kind, "data": data, "at": utcnow()})
    return seq


@dataclass
class ModelStep:
    """One model answer as recorded: the assistant message (with its tool calls)."""

    message: Message
    stop_reason: str = ""


class Journal:
    """One turn's steps, kept in memory; a step counts once it is in the database."""

    def __init__(self, db: Database, inbox_id: int, steps: list[dict[str, Any]]):
        self.db = db
        self.inbox_id = inbox_id
        self.steps = steps
        self._model_steps_read = 0
        #: The final answer's write, left to the transaction that finishes the turn.
        self.tail: Also | None = None
        #: A call of this turn already waits for the owner's yes: one question at a time.
        self.asking = False

    @property
    def fresh(self) -> bool:
        return not self.steps

    @property
    def confirmed(self) -> dict[str, Any] | None:
        """The owner's approved action this turn carries out, if it is one."""
        return self.steps[0]["data"] if self.steps and self.steps[0]["kind"] == "confirm" else None

    def adopt(self, kind: str, data: dict[str, Any]) -> None:
        """A step the caller wrote itself in a transaction of its own (the confirmation)."""
        self.steps.append({"seq": len(self.steps), "kind": kind, "data": data})

    async def _append(self, kind: str, data: dict[str, Any], also: Also | None = None) -> None:
        def write(conn: Connection) -> None:
            append(conn, self.inbox_id, kind, data)
            if also is not None:
                also(conn)

        await self.db.tx(write)
        self.steps.append({"seq": len(self.steps), "kind": kind, "data": data})

    # -- model answers --------------------------------------------------------------------

    def recorded_model_step(self) -> ModelStep | None:
        """The next model answer recorded before a restart, if any (they replay in order)."""
        answers = [s for s in self.steps if s["kind"] == "llm"]
        if self._model_steps_read >= len(answers):
            return None
        data = answers[self._model_steps_read]["data"]
        self._model_steps_read += 1
        return ModelStep(Message.from_json(data["message"]), data.get("stop_reason", ""))

    async def record_model_step(self, step: ModelStep, also: Also | None = None, defer: bool = False) -> None:
        """Write the answer (and ``also``, e.g. its usage, in the same transaction). ``defer``: leave the
        write to the turn's last transaction (``tail``); a crash before it asks the model again."""
        data = {"message": step.message.to_json(), "stop_reason": step.stop_reason}
        self._model_steps_read += 1
        if not defer:
            await self._append("llm", data, also)
            return
        self.steps.append({"seq": len(self.steps), "kind": "llm", "data": data})

        def tail(conn: Connection) -> None:
            append(conn, self.inbox_id, "llm", data)
            if also is not None:
                also(conn)

        self.tail = tail

    # -- tool calls -----------------------------------------------------------------------

    def result(self, call_id: str) -> dict[str, Any] | None:
        return next((s["data"] for s in self.steps if s["kind"] == "tool_result" and s["data"]["call_id"] == call_id),
                    None)

    def started(self, call_id: str) -> bool:
        return any(s["kind"] == "tool_start" and s["data"]["call_id"] == call_id for s in self.steps)

    async def start(self, call: ToolCall) -> None:
        await self._append("tool_start", {"call_id": call.id, "name": call.name})

    async def record_result(self, data: dict[str, Any]) -> dict[str, Any]:
        await self._append("tool_result", data)
        return data

    def results(self) -> list[dict[str, Any]]:
        return [s["data"] for s in self.steps if s["kind"] == "tool_result"]

    def actions(self) -> list[dict[str, Any]]:
        return [r["action"] for r in self.results()]

    def services(self) -> list[dict[str, Any]]:
        return [s for r in self.results() for s in r.get("services", [])]
