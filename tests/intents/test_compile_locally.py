"""With no model, a routine's device command is compiled by the fast path: the stored calls, run later through
the home skill's tools, leave the house exactly as the fast path acting on the sentence does."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
import structlog

from claw.skill import IncomingMessage, Shared, SkillContext
from skills.home import Home, HomeConfig
from skills.intents import LocalIntents
from skills.intents.skill import IntentsConfig
from tests.home.support import noop, tool_ctx

CHANGES = [
    "set the heat to 21",
    "turn off the kitchen light",
    "turn on the lights in the bedroom",
    "turn off all the lights",
    "set the kitchen light to 40%",
    "make the floor lamp red",
    "turn on the ceiling fan",
    "turn on the pool pump",
    "resume the living room speaker",
    "set the kitchen speaker volume to 35",
    "mute the kitchen speaker",
]
NOT_COMPILED = ["unlock the front door", "is the kitchen light on", "what is the meaning of life",
                "turn on the toaster"]


async def house(tmp_path, name: str) -> tuple[Home, LocalIntents]:
    shared = Shared()

    def ctx(skill: str) -> SkillContext:
        return SkillContext(skill, ZoneInfo("UTC"), tmp_path / name / skill, structlog.get_logger(), noop, shared)

    home = Home(HomeConfig(), ctx("home"))
    await home.setup()
    intents = LocalIntents(IntentsConfig(), ctx("intents"))
    await intents.setup()
    return home, intents


def states(home: Home) -> dict[str, tuple[str, dict]]:
    return {e["entity_id"]: (e["state"], e["attributes"]) for e in home.registry.snapshot()["entities"]
            if not e["entity_id"].startswith("sensor.")}  # sensors drift on their own


@pytest.mark.parametrize("text", CHANGES)
async def test_compiled_calls_do_what_the_fast_path_does(tmp_path, text):
    acting, acting_intents = await house(tmp_path, "acting")
    compiled, compiled_intents = await house(tmp_path, "compiled")
    try:
        before = states(compiled)
        reply = await acting_intents.intercept(IncomingMessage(text, "c", "owner", "web", True, False))
        assert reply is not None and reply.handled_by == "local" and all(s.ok for s in reply.services), reply
        calls = await compiled_intents.compile(text)
        assert calls, text
        tools = {t.name: t for t in compiled.tools()}
        for call in calls:
            tool = tools[call["tool"]]
            await tool.invoke(tool.validate(call["args"]), tool_ctx())
        assert states(compiled) == states(acting) != before
    finally:
        await acting.close()
        await compiled.close()


async def test_questions_unlocks_and_unknown_devices_are_not_compiled(tmp_path):
    home, intents = await house(tmp_path, "h")
    try:
        for text in NOT_COMPILED:
            assert await intents.compile(text) is None, text
    finally:
        await home.close()
