"""Malformed model output, each ending the turn with an honest reply and no tool run it should not have.

(Unknown tools, non-JSON arguments, a schema error and the step limit are in tests/test_pipeline.py.)
"""

from __future__ import annotations

import pytest

from tests.fakes.llm import Reply, ToolUse
from tests.harness import counter_calls

CASES = {
    "empty response": ([Reply(text="")], "I don't have an answer to that."),
    "only whitespace": ([Reply(text="  \n\t ")], "I don't have an answer to that."),
    "cut off by max_tokens, no text": ([Reply(text="", stop_reason="max_tokens")], "I don't have an answer to that."),
    "arguments of the wrong types": (
        [Reply(tool_calls=[ToolUse("bump", {"label": {"nested": [1, 2]}})]), Reply(text="")],
        "I don't have an answer to that."),
    "arguments that are a JSON array": (
        [Reply(tool_calls=[ToolUse("bump", "[1, 2, 3]")]), Reply(text="That failed.")], "That failed."),
    "a tool name that is empty-ish": (
        [Reply(tool_calls=[ToolUse("bump ", {"label": "x"})]), Reply(text="No such tool.")], "No such tool."),
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_model_output_ends_honestly(live, name):
    script, reply = CASES[name]
    live.llm.script(*script)
    calls_before = counter_calls(live.d.home)
    out = live.d.say(f"case: {name}", id=f"llm-{name}")
    assert out["reply"] == reply
    assert counter_calls(live.d.home) == calls_before  # nothing malformed ever ran
    assert all(not a["ok"] for a in out["actions"])


def test_duplicate_tool_call_ids_in_one_response(live):
    """A model repeating a call id must not make one call's result stand in for the other's, or run a tool twice."""
    live.llm.script(
        Reply(tool_calls=[ToolUse("bump", {"label": "dup-1"}, id="toolu_same"),
                          ToolUse("bump", {"label": "dup-2"}, id="toolu_same")]),
        Reply(text="Handled."),
    )
    before = counter_calls(live.d.home)
    out = live.d.say("bump twice with one id", id="dup-ids")
    assert out["reply"] == "Handled." or out["handled_by"] == "error"
    new = counter_calls(live.d.home)[len(before):]
    assert len(new) <= 2 and len(set(new)) == len(new)


def test_endless_tool_loop_with_parallel_calls_stops_at_the_limit(live):
    live.llm.responder = lambda req: Reply(tool_calls=[ToolUse("bump", {"label": "loop"}),
                                                       ToolUse("current_time", {})])
    try:
        before = len(live.llm.requests)
        calls_before = len(counter_calls(live.d.home))
        out = live.d.say("loop", id="endless")
    finally:
        live.llm.responder = lambda req: Reply(text="ok")
    assert "stopped after 4 steps" in out["reply"]
    assert len(live.llm.requests) - before == 4
    assert len(counter_calls(live.d.home)) - calls_before == 3  # the last step's calls are not run
