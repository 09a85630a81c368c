"""Budgets hold before each model call, with a model that always writes as much as it is allowed.

A call's worst case (its prompt, counted, plus max_tokens) must fit what is left: max_tokens shrinks, or the
call is not made and the owner is told. What is spent can pass a budget by at most what the prompt count
missed, which the usage table records beside each call (and `claw usage` reports).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from typing import Any

import httpx
import pytest

from skills.budget import parse
from tests.conftest import anthropic_config
from tests.fakes.llm import RecordedRequest, Reply
from tests.harness import Daemon
from tests.tasks.conftest import assistant_texts, cli, create, fast, wait_until

DEFAULT_MAX = 3000  # with 8000 for the goal: one full call, then one that must be shrunk


def greedy(seen: list[int]) -> Any:
    """A model that always uses its full max_tokens."""
    def respond(req: RecordedRequest) -> Reply:
        seen.append(int(req.body["max_tokens"]))
        return Reply(text="Tried the heating; will look again.", usage={"output_tokens": seen[-1]})
    return respond


def spent(d: Daemon, where: str = "1", checked: bool = True) -> tuple[int, int, int]:
    """(calls, tokens spent, what the prompt counts missed) over the usage rows matching ``where``; ``checked``:
    each of them was checked against a budget."""
    with sqlite3.connect(d.home / "claw.db") as conn:
        rows = conn.execute(f"SELECT input_tokens + cache_read_tokens + cache_write_tokens, output_tokens, "
                            f"estimated_input FROM usage WHERE {where}").fetchall()
    assert not checked or all(est is not None for _, _, est in rows), rows
    return len(rows), sum(i + o for i, o, _ in rows), sum(max(0, i - (est or i)) for i, _, est in rows)


def test_a_goal_stops_within_its_budget(fake_llm: Any, daemon_factory: Any) -> None:
    seen: list[int] = []
    fake_llm.responder = greedy(seen)
    d = daemon_factory(anthropic_config(fake_llm, extra=fast(), max_tokens=DEFAULT_MAX))
    goal = create(d, kind="goal", text="keep the bedroom at 20", every="1s", max_iterations=50, token_budget=8000)
    report = wait_until(lambda: [t for t in assistant_texts(d) if t.startswith(f"Goal #{goal['id']}")], d=d,
                        what="goal report")
    assert "token budget would be exceeded" in report[0] and "goal #1's budget of 8000 tokens" in report[0], report
    calls, total, missed = spent(d, f"task_id = {goal['id']}")
    assert calls >= 1 and total <= 8000 + missed, (calls, total, missed)
    assert seen[-1] < DEFAULT_MAX  # the last call was shrunk to fit, not refused outright
    usage = subprocess.run([sys.executable, "-m", "claw", "usage"], env=d.env, capture_output=True, text=True,
                           timeout=60)
    assert f"budget checks: {calls} calls" in usage.stdout, usage.stdout + usage.stderr


def test_the_day_budget_holds_across_the_owners_turns(fake_llm: Any, daemon_factory: Any) -> None:
    seen: list[int] = []
    fake_llm.responder = greedy(seen)
    d = daemon_factory(anthropic_config(fake_llm, extra="[agent]\ndaily_token_budget = 12000\nlocal_intents = false\n",
                                        max_tokens=DEFAULT_MAX))
    replies = [d.say(f"tell me something about the number {i}")["reply"] for i in range(8)]
    stopped = [r for r in replies if r.startswith("I stopped to stay within budget")]
    assert stopped and "today's token budget of 12000 tokens is used up" in stopped[0], replies
    assert replies.index(stopped[0]) >= 2  # turns ran until the budget, then none did
    assert all(r.startswith("I stopped") for r in replies[replies.index(stopped[0]):])
    calls, total, missed = spent(d)
    assert total <= 12000 + missed, (calls, total, missed)
    assert len(fake_llm.requests) == calls


def test_tasks_say_what_they_cost_and_need_a_model_to_think(fake_llm: Any, daemon_factory: Any) -> None:
    bare = daemon_factory(fast(), name="bare")  # no model configured: the fast path compiles device commands
    heat = cli(bare, "add", "--cron", "0 7 * * 1-5", "set the heat to 21").stdout
    assert "Does: runs 1 tool call(s) without the LLM: home_control(target='climate.thermostat', action='set', " \
           "temperature=21.0)" in heat and "Cost: no tokens per run" in heat, heat
    refused = cli(bare, "add", "--cron", "0 7 * * 1-5", "read me the news", ok=False)
    assert refused.returncode != 0 and "cannot run: it needs the language model" in refused.stderr, refused.stderr
    [stored] = json.loads(cli(bare, "list", "--json").stdout)["tasks"]  # the refused one is not stored
    cli(bare, "run", str(stored["id"]))
    wait_until(lambda: json.loads(cli(bare, "show", str(stored["id"]), "--json").stdout)["runs"], d=bare, what="run")
    [run] = json.loads(cli(bare, "show", str(stored["id"]), "--json").stdout)["runs"]
    assert run["status"] == "ok" and "21" in run["detail"], run
    home = httpx.get(f"{bare.url}/api/home", headers=bare.auth(), timeout=10).json()
    assert next(e for e in home["entities"] if e["entity_id"] == "climate.thermostat")["attributes"]["temperature"] == 21
    reminder = cli(bare, "add", "--in", "1h", "--remind", "stretch").stdout
    assert "Cost: no tokens per run" in reminder, reminder

    fake_llm.responder = lambda req: Reply(text="NOTHING TO REPORT")
    d = daemon_factory(anthropic_config(fake_llm, extra=fast()), name="thinking")
    d.say("hello")  # one model call measured
    thinking = cli(d, "add", "--every", "2s", "check the house and report").stdout
    assert "Cost: the language model runs each time: about" in thinking and "tokens per model call" in thinking
    d.stop()
    d.config_path.write_text(fast())  # the model is gone: its runs would do nothing
    d.start()
    told = wait_until(lambda: [t for t in assistant_texts(d) if "I paused task #1" in t], d=d, what="paused")
    assert "needs the language model and none is configured" in told[0]
    show = json.loads(cli(d, "show", "1", "--json").stdout)
    assert show["task"]["status"] == "paused"
    assert [r["status"] for r in show["runs"]][-1] == "failed"


@pytest.mark.parametrize(("text", "limits"), [
    ("spend at most 50k tokens a day", {"daily": 50_000}),
    ("Spend at most 50k tokens a day, and 10k per conversation", {"daily": 50_000, "conversation": 10_000}),
    ("no more than 20,000 tokens per conversation", {"conversation": 20_000}),
    ("tasks may use 10k tokens a day", {"tasks": 10_000}),
    ("limit each chat to 5k tokens", {"conversation": 5_000}),
    ("set the daily budget to 30000", {"daily": 30_000}),
    ("keep it under 1.5 million tokens a day", {"daily": 1_500_000}),
    ("remove the token limit", {"daily": 0}),
    ("no token budget for tasks", {"tasks": 0}),
    ("what are my budgets?", {}),
    ("how many tokens have you used today?", {}),
])
def test_budget_sentences(text: str, limits: dict[str, int]) -> None:
    said = parse(text)
    assert said is not None and said.limits == limits, (text, said)


@pytest.mark.parametrize("text", ["I have no idea what the token budget should be",
                                  "what happens when there is no token budget?", "is there no budget for tokens?",
                                  "remind me to raise the token budget to 50k tomorrow",
                                  "maybe we should spend at most 10k tokens a day", "can I spend 50k tokens a day?"])
def test_questions_and_musings_change_no_budget(text: str) -> None:
    said = parse(text)
    assert said is None or said.limits == {}, (text, said)


@pytest.mark.parametrize("text", ["remind me about the token budget in 2 hours", "what is a token?",
                                  "give me a budget for the trip", "the budget for 2027 is tight",
                                  "turn on the kitchen light", "token usage for task 3?"])
def test_other_sentences_are_not_budgets(text: str) -> None:
    assert parse(text) is None


def test_budgets_are_set_in_chat_with_no_model_too(daemon_factory: Any) -> None:
    d = daemon_factory(fast())  # no model: the device fast path must not take it for a device ("spend")
    out = d.say("spend at most 50k tokens a day")
    assert out["handled_by"] == "local" and "all calls, per day: 50,000 tokens" in out["reply"], out


def test_the_owner_sets_the_daily_budget_in_chat_and_it_holds_across_restarts(fake_llm: Any,
                                                                               daemon_factory: Any) -> None:
    d = daemon_factory(anthropic_config(fake_llm, max_tokens=DEFAULT_MAX))
    out = d.say("spend at most 50k tokens a day")
    assert out["handled_by"] == "local" and "all calls, per day: 50,000 tokens" in out["reply"], out
    assert fake_llm.requests == []  # answered locally: budgets cost no tokens to set
    d.stop()
    d.start()  # what the owner set outlives a restart, and wins over the config (which has no budget)
    assert "all calls, per day: 50,000 tokens" in d.say("what are my budgets?")["reply"]
    fake_llm.responder = lambda req: Reply(text="Noted.")
    d.say("hello there")  # some tokens spent today
    limit = spent(d, checked=False)[1] + 3000
    assert d.say(f"spend at most {limit} tokens a day")["handled_by"] == "local"
    fake_llm.responder = greedy([])
    replies = [d.say(f"tell me about the number {i}")["reply"] for i in range(4)]
    assert any(r.startswith("I stopped to stay within budget: today's token budget of") for r in replies), replies
    calls, total, missed = spent(d, checked=False)  # the first turn ran with no budget
    assert total <= limit + missed, (calls, total, missed, limit)
