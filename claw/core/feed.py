"""What wakes the live streams (``GET /api/events``): a version per topic, bumped when it changes.

A stream reads what changed itself (transcript lines after its last id, the home's
state); the feed only says when to look, so no client polls and nothing is copied
into memory per listener. Topics: ``messages`` (a transcript grew), ``home`` (a
device changed state).
"""

from __future__ import annotations

import asyncio
import contextlib


class Feed:
    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.closed = False
        self._changed = asyncio.Event()

    def bump(self, topic: str = "messages") -> None:
        """Called on the event loop, after the change is committed."""
        self.versions[topic] = self.versions.get(topic, 0) + 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()  # every waiter wakes once; the next wait needs the next change

    async def wait(self, seen: dict[str, int], within: float) -> bool:
        """Until a topic moves past ``seen`` (True) or ``within`` seconds pass (False)."""
        if self.versions != seen or self.closed:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), within)
            return True
        return False

    def close(self) -> None:
        """The daemon is stopping: every stream ends, so the server can."""
        self.closed = True
        self.bump("closed")
