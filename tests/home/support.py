"""Helpers for the home tests (imported as ``tests.home.support``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from claw.skill import ToolContext


class FakeClock:
    """Monotonic time that only moves when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def eventually(condition: Callable[[], bool], what: str = "condition", limit: float = 15.0) -> None:
    """Wait until ``condition()`` holds (a deadline against hangs, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


async def noop(*args: object, **kwargs: object) -> None:
    return None


def tool_ctx() -> ToolContext:
    return ToolContext(conversation="c1", sender="owner", channel="test", is_owner=True)


class MemoryState:
    """``claw.skill.State`` in a dict, for skills set up without a database."""

    def __init__(self) -> None:
        self.data: dict[str, object] = {}

    async def get(self, key: str, default: object = None) -> object:
        return self.data.get(key, default)

    async def put(self, key: str, value: object) -> None:
        self.data[key] = value
