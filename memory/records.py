"""Plain result records returned by the store; no ORM objects leak out of the library."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Hit:
    """One episode returned by `MemoryStore.search` (or `recent`/`episodes_since`).

    `at` is always an aware UTC datetime; `meta` is exactly what was stored;
    `score` is relative within one result list (higher is better, 0.0 when not ranked);
    `context` holds neighbouring turns when `search(..., neighbors=n)` asks for them.
    """

    id: int
    text: str
    speaker: str
    conversation: str
    at: datetime
    meta: Any = None
    score: float = 0.0
    context: list[Hit] = field(default_factory=list)


@dataclass
class FactHit:
    """One semantic fact. `valid_to` is None while the fact is current."""

    id: int
    statement: str
    subject: str | None
    pinned: bool
    valid_from: datetime
    valid_to: datetime | None
    source_episode_ids: list[int]
    superseded_by: int | None = None
    score: float = 0.0
