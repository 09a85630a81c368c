"""Memory wired into the daemon, end to end: `claw serve` subprocesses, the real SDK, the fake LLM."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import anthropic_config
from tests.fakes.llm import RecordedRequest, Reply, ToolUse
from tests.harness import Daemon

TOPICS = ["the weather in town", "a new pasta recipe", "the football scores", "buying light bulbs",
          "the train timetable", "a podcast episode", "the garden hose", "a library book",
          "the car's tyre pressure", "a chess opening", "the dishwasher salt", "a jazz record"]


def cli(d: Daemon, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "claw", "memory", *args], env=d.env, input=stdin, check=False,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc


def export(d: Daemon) -> list[dict[str, Any]]:
    return [json.loads(line) for line in cli(d, "export").stdout.splitlines() if line.strip()]


def health(d: Daemon) -> dict[str, Any]:
    return httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=5).json()["components"]["memory"]


def wait_health(d: Daemon, key: str, at_least: int, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = health(d)
        if h[key] >= at_least:
            return h
        time.sleep(0.1)
    raise AssertionError(f"memory health never reached {key} >= {at_least}: {health(d)}\n{d.logs()[-3000:]}")


def test_fact_recalled_after_300_unrelated_messages(fake_llm, daemon_factory):
    fake_llm.script(Reply(text="Noted: Alice's birthday is on 12 March."))
    d = daemon_factory(anthropic_config(fake_llm))
    d.say("my sister Alice's birthday is on 12 March")
    fake_llm.responder = lambda req: Reply(text="ok")

    def post(i: int) -> int:
        return d.post(f"note {i}: something about {TOPICS[i % len(TOPICS)]}", id=f"n{i}", timeout=120).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(post, range(300))) == {200}
    fake_llm.script(Reply(text="It's on 12 March."))
    assert d.say("when is Alice's birthday?")["reply"] == "It's on 12 March."
    req = fake_llm.requests[-1]
    assert req.last_user_text() == "when is Alice's birthday?"
    # Not in the recent window (the messages), but recalled into the system context as memory.
    assert "12 March" not in json.dumps(req.messages[:-1])
    system = req.system_text()
    assert "Memory (notes recalled" in system
    assert "my sister Alice's birthday is on 12 March" in system
    # Nothing was dropped: every message is an episode.
    episodes = [r for r in export(d) if r["type"] == "episode"]
    assert len(episodes) == 2 * 302


def _consolidation_responder(state: dict[str, Any]):
    def respond(req: RecordedRequest) -> Reply:
        text = req.last_user_text()
        if "Answer with JSON only" not in text:
            if "running summary" in text:
                return Reply(text="The owner talked about partners.")
            return Reply(text="ok")
        state["prompts"].append(text)
        turns = re.findall(r"^(\d+) \| .*$", text, re.MULTILINE)
        if "I'm with Alex now" in text:
            old = re.search(r"^(\d+): Owner's partner is Sam$", text, re.MULTILINE)
            assert old, text
            decision = {"action": "supersede", "id": int(old.group(1)), "statement": "Owner's partner is Alex",
                        "source": [int(turns[0])]}
        elif "my partner is Sam" in text:
            decision = {"action": "add", "statement": "Owner's partner is Sam", "subject": "owner",
                        "pinned": True, "source": [int(turns[0])]}
        else:
            decision = {"action": "ignore"}
        return Reply(text=json.dumps({"decisions": [decision]}))
    return respond


def test_consolidation_extracts_supersedes_and_is_free_when_nothing_is_new(fake_llm, daemon_factory):
    state: dict[str, Any] = {"prompts": []}
    fake_llm.responder = _consolidation_responder(state)
    d = daemon_factory(anthropic_config(fake_llm, extra="[memory]\nconsolidate_after_minutes = 0.02\n"))
    d.say("my partner is Sam")
    wait_health(d, "facts_added", 1)
    facts = cli(d, "facts", "--json").stdout
    assert "Owner's partner is Sam" in facts and '"pinned": true' in facts

    d.say("actually I'm with Alex now")
    wait_health(d, "facts_superseded", 1)
    current = [json.loads(line)["statement"] for line in cli(d, "facts", "--json").stdout.splitlines()]
    assert current == ["Owner's partner is Alex"]
    history = {r["statement"]: r for r in export(d) if r["type"] == "fact"}
    assert history["Owner's partner is Sam"]["valid_to"] is not None  # closed, kept as history
    assert len(state["prompts"]) == 2
    # The consolidation calls are accounted for like turns.
    with sqlite3.connect(d.home / "claw.db") as db:
        purposes = dict(db.execute("SELECT purpose, count(*) FROM usage GROUP BY purpose").fetchall())
    assert purposes == {"turn": 2, "consolidation": 2}

    # Nothing new: after a restart nothing is pending, and quiet periods pass without any LLM request.
    d.stop()
    d.start()
    before = len(fake_llm.requests)
    assert health(d)["pending"] == 0
    time.sleep(3)  # a few debounce periods (1.2 s); not a timing assertion, just room for a wrong call
    assert len(fake_llm.requests) == before
    assert health(d)["llm_calls"] == 0

    # The pinned profile fact is in the next turn's context.
    d.say("hello")
    assert "Owner's partner is Alex" in fake_llm.requests[before].system_text()
    assert "Owner's partner is Sam" not in fake_llm.requests[before].system_text()


def test_memory_tools_remember_recall_forget(fake_llm, daemon_factory):
    d = daemon_factory(anthropic_config(fake_llm))
    fake_llm.script(Reply(tool_calls=[ToolUse("remember", {"statement": "The garage code is 4711", "pinned": True})]),
                    Reply(text="Stored."))
    out = d.say("remember that the garage code is 4711")
    assert out["actions"][0]["tool"] == "remember" and out["actions"][0]["ok"], out
    assert "garage code is 4711" in cli(d, "facts").stdout

    fake_llm.script(Reply(text="Hi!"))
    d.say("hello")
    assert "The garage code is 4711" in fake_llm.requests[-1].system_text()

    fake_llm.script(Reply(tool_calls=[ToolUse("recall", {"query": "garage code", "speaker": "owner"})]),
                    Reply(text="You told me."))
    d.say("what did I say about the garage?")
    result = fake_llm.requests[-1].tool_results()[0]
    assert not result.is_error and "remember that the garage code is 4711" in result.content

    fake_llm.script(Reply(tool_calls=[ToolUse("recall", {"query": "garage", "after": "not a date"})]),
                    Reply(text="Bad date."))
    d.say("anything about the garage since yesterday?")
    result = fake_llm.requests[-1].tool_results()[0]
    assert result.is_error and "not a date" in result.content

    fake_llm.script(Reply(tool_calls=[ToolUse("forget", {"what": "garage code"})]), Reply(text="Forgotten."))
    out = d.say("forget the garage code")
    assert out["actions"][0]["ok"], out
    dump = json.dumps(export(d))
    assert "garage code" not in dump  # facts, episodes (this turn's too, redacted) and tool calls
    assert "garage code" not in cli(d, "search", "garage code", "--json").stdout


def test_cli_export_import_forget_and_no_secrets(fake_llm, daemon_factory, tmp_path: Path):
    fake_llm.responder = lambda req: Reply(text="ok")
    d = daemon_factory(anthropic_config(fake_llm))
    token = d.token
    d.say("we went camping at Lake Tahoe in July")
    d.say(f"here is my web token {token} and my key sk-ant-test-secret-key, keep it")
    cli(d, "remember", "The owner's dog is called Rex")

    records = export(d)
    dump = json.dumps(records)
    assert token not in dump and "sk-ant-test-secret-key" not in dump
    assert "[secret]" in dump
    assert any(r["type"] == "fact" and r["statement"] == "The owner's dog is called Rex" for r in records)

    # Round trip into a fresh home, daemon not running there.
    other = Daemon(tmp_path / "other")
    exported = cli(d, "export").stdout
    added = cli(other, "import", "-", stdin=exported).stdout
    assert "1 fact(s)" in added
    assert "Lake Tahoe" in cli(other, "search", "camping", "trip").stdout
    assert cli(other, "import", "-", stdin=exported).stdout.startswith("0 episode(s), 0 fact(s)")
    assert json.loads(json.dumps(export(other))) == records  # idempotent, ids kept

    # forget --match really deletes (search and export), fact by id too.
    assert "1 episode(s)" in cli(other, "forget", "--match", "Lake Tahoe").stdout
    assert "Lake Tahoe" not in cli(other, "search", "camping", "Tahoe").stdout
    assert "Lake Tahoe" not in json.dumps(export(other))
    fact_id = next(r["id"] for r in records if r["type"] == "fact")
    assert "1 fact(s)" in cli(other, "forget", str(fact_id)).stdout
    assert "Rex" not in cli(other, "facts").stdout + cli(other, "facts").stderr


def test_turns_without_the_llm_are_episodes_too(daemon_factory):
    d = daemon_factory("")  # no LLM configured: the setup answer is a local turn
    out = d.say("hello there")
    assert out["handled_by"] == "setup"
    texts = [r["text"] for r in export(d) if r["type"] == "episode"]
    assert texts[0] == "hello there" and "no language model is configured" in texts[1]
    h = health(d)
    assert h["llm"] is False
