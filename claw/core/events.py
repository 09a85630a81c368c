"""What flows through the pipeline: a message taken from the inbox for a turn, and what the turn produced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from claw.providers.base import ImagePart


@dataclass
class TurnInput:
    """One inbox row, as the turn sees it."""

    inbox_id: int
    conversation_id: str
    channel: str
    sender: str
    text: str
    origin: str = "user"  # user | scheduler
    is_owner: bool = True
    images: list[ImagePart] = field(default_factory=list)
    received_at: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class TurnOutcome:
    reply: str
    handled_by: str  # llm | local | confirm | setup | error
    actions: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    #: The last journal write, left to the transaction that finishes the turn (one trip to the DB, not two).
    journal_tail: Callable[[Connection], Any] | None = field(default=None, repr=False, compare=False)

    def result(self) -> dict[str, Any]:
        """What the inbox row and ``POST /api/messages`` report."""
        return {"reply": self.reply, "handled_by": self.handled_by, "actions": self.actions, "services": self.services}
