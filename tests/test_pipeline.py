"""End to end through ``claw serve`` in a subprocess, with the real SDKs against the fake LLM."""

from __future__ import annotations

import signal
import sqlite3
import time

import httpx

from tests.conftest import anthropic_config
from tests.fakes.llm import Error, Reply, ToolUse
from tests.harness import counter_calls, install_counter_skill


def test_tool_called_twice_then_answer(fake_llm, daemon_factory):
    fake_llm.script(
        Reply(tool_calls=[ToolUse("bump", {"label": "first"})]),
        Reply(tool_calls=[ToolUse("bump", {"label": "second"})]),
        Reply(text="Bumped twice."),
    )
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    install_counter_skill(d.home)
    d.start()
    out = d.say("bump it twice")
    assert out["reply"] == "Bumped twice."
    assert out["handled_by"] == "llm"
    assert [(a["tool"], a["args"], a["ok"]) for a in out["actions"]] == [
        ("bump", {"label": "first"}, True), ("bump", {"label": "second"}, True)]
    assert counter_calls(d.home) == ["first", "second"]
    reqs = fake_llm.requests
    assert len(reqs) == 3
    assert "bump" in reqs[0].tool_names() and "current_time" in reqs[0].tool_names()
    assert reqs[0].last_user_text() == "bump it twice"
    assert reqs[1].tool_results()[0].content == '<untrusted source="tool:bump">\nbumped first\n</untrusted>'
    # Prompt caching: the stable prefix (tools, system) carries cache_control.
    assert reqs[0].body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert reqs[0].body["system"][0]["cache_control"] == {"type": "ephemeral"}


def test_parallel_tool_calls_openai(fake_llm, daemon_factory):
    fake_llm.script(
        Reply(tool_calls=[ToolUse("bump", {"label": "a"}), ToolUse("bump", {"label": "b"}),
                          ToolUse("current_time", {})]),
        Reply(text="All three done."),
    )
    config = f"""
[llm]
provider = "openai"
model = "gpt-4.1-mini"
api_key = "sk-openai-test-secret"
base_url = "{fake_llm.openai_url}"
"""
    d = daemon_factory(config, start=False)
    install_counter_skill(d.home)
    d.start()
    out = d.say("do three things")
    assert out["reply"] == "All three done."
    assert sorted(counter_calls(d.home)) == ["a", "b"]
    assert [a["tool"] for a in out["actions"]] == ["bump", "bump", "current_time"]
    results = fake_llm.requests[1].tool_results()
    assert len(results) == 3 and all(not r.is_error for r in results)
    assert fake_llm.requests[1].api == "openai"


def test_validation_error_goes_back_to_the_model(fake_llm, daemon_factory):
    fake_llm.script(
        Reply(tool_calls=[ToolUse("bump", {"wrong": 1})]),
        Reply(text="I could not bump that."),
    )
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    install_counter_skill(d.home)
    d.start()
    out = d.say("bump badly")
    assert out["reply"] == "I could not bump that."
    assert out["actions"][0]["ok"] is False
    result = fake_llm.requests[1].tool_results()[0]
    assert result.is_error and "label" in result.content and "invalid arguments" in result.content
    assert counter_calls(d.home) == []


def test_unknown_tool_and_malformed_arguments(fake_llm, daemon_factory):
    fake_llm.script(
        Reply(tool_calls=[ToolUse("launch_rocket", {}), ToolUse("bump", "{not json")]),
        Reply(text="Neither worked."),
    )
    config = f"""
[llm]
provider = "openai"
api_key = "sk-openai-test-secret"
base_url = "{fake_llm.openai_url}"
"""
    d = daemon_factory(config, start=False)
    install_counter_skill(d.home)
    d.start()
    out = d.say("go")
    assert out["reply"] == "Neither worked."
    errors = fake_llm.requests[1].tool_results()
    assert "unknown tool 'launch_rocket'" in errors[0].content
    assert "not valid JSON" in errors[1].content
    assert counter_calls(d.home) == []


def test_step_limit_ends_with_an_honest_reply(fake_llm, daemon_factory):
    fake_llm.responder = lambda req: Reply(tool_calls=[ToolUse("bump", {"label": "again"})])
    d = daemon_factory(anthropic_config(fake_llm, extra="[agent]\nmax_steps = 3"), start=False)
    install_counter_skill(d.home)
    d.start()
    out = d.say("loop forever")
    assert "stopped after 3 steps" in out["reply"]
    assert len(fake_llm.requests) == 3
    assert counter_calls(d.home) == ["again", "again"]  # the third step's calls are not run


def test_sensitive_tool_waits_for_confirmation_across_restart(fake_llm, daemon_factory):
    fake_llm.script(
        Reply(text="I'll open it.", tool_calls=[ToolUse("open_vault", {"reason": "guests"})]),
    )
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    install_counter_skill(d.home)
    d.start()
    out = d.say("open the vault")
    assert "Reply yes to confirm" in out["reply"] and "open_vault" in out["reply"]
    assert out["actions"][0].get("pending_confirmation") is True
    assert counter_calls(d.home, "vault.txt") == []
    assert len(fake_llm.requests) == 1  # the turn ends with the question, no second LLM call

    d.stop()
    d.start()
    out = d.say("yes")
    assert out["handled_by"] == "confirm"
    assert out["reply"] == "The vault is open"
    assert counter_calls(d.home, "vault.txt") == ["guests"]
    assert len(fake_llm.requests) == 1  # confirming costs no tokens
    again = d.say("yes")  # nothing pending any more: goes to the model
    assert counter_calls(d.home, "vault.txt") == ["guests"]
    assert again["handled_by"] == "llm"


def test_declined_confirmation_runs_nothing(fake_llm, daemon_factory):
    fake_llm.script(Reply(tool_calls=[ToolUse("open_vault", {"reason": "x"})]))
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    install_counter_skill(d.home)
    d.start()
    d.say("open the vault")
    out = d.say("no")
    assert out["reply"].startswith("OK, cancelled")
    assert counter_calls(d.home, "vault.txt") == []


def test_rate_limit_then_success(fake_llm, daemon_factory):
    fake_llm.script(Error(429, retry_after=0.2), Error(529), Reply(text="Here now."))
    d = daemon_factory(anthropic_config(fake_llm))
    out = d.say("hello?")
    assert out["reply"] == "Here now."
    assert len(fake_llm.requests) == 3


def test_fallback_answers_when_primary_fails(fake_llm, daemon_factory):
    fake_llm.script(Error(500), Reply(text="Fallback here."))
    config = anthropic_config(fake_llm, max_retries=0, extra=f"""
[llm.fallback]
provider = "openai"
model = "llama3.1"
base_url = "{fake_llm.openai_url}"
max_retries = 0
""")
    d = daemon_factory(config)
    out = d.say("anyone?")
    assert out["reply"] == "Fallback here."
    assert [r.api for r in fake_llm.requests] == ["anthropic", "openai"]


def test_unreachable_llm_gives_an_honest_reply_and_keeps_the_message(fake_llm, daemon_factory):
    config = """
[llm]
provider = "anthropic"
api_key = "sk-ant-test-secret-key"
base_url = "http://127.0.0.1:9"
max_retries = 0
timeout = 2
"""
    d = daemon_factory(config)
    out = d.say("are you there?")
    assert "can't think right now" in out["reply"] and "could not be reached" in out["reply"]
    history = d.messages()
    assert history[0]["role"] == "user" and history[0]["text"] == "are you there?"
    health = httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()
    assert health["status"] == "degraded" and "llm" in health["degraded"]
    assert "could not be reached" in health["components"]["llm"]["detail"]


def test_healthz_llm_recovers_after_an_outage(fake_llm, daemon_factory):
    fake_llm.script(Error(500), Reply(text="back"))
    d = daemon_factory(anthropic_config(fake_llm, max_retries=0))
    assert "can't think right now" in d.say("one")["reply"]
    assert "llm" in httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()["degraded"]
    assert d.say("two")["reply"] == "back"
    health = httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()
    assert "llm" not in health["degraded"] and health["components"]["llm"]["ok"] is True


def test_duplicate_external_id_is_processed_once(fake_llm, daemon_factory):
    fake_llm.script(Reply(text="once"))
    d = daemon_factory(anthropic_config(fake_llm))
    first = d.say("hi", id="msg-1")
    second = d.say("hi", id="msg-1")
    assert first["reply"] == second["reply"] == "once"
    assert second["duplicate"] is True
    assert len(fake_llm.requests) == 1
    assert len([m for m in d.messages() if m["role"] == "assistant"]) == 1


def test_kill9_mid_turn_resumes_without_rerunning_the_tool(fake_llm, daemon_factory):
    fake_llm.script(Reply(tool_calls=[ToolUse("bump", {"label": "only-once"})]))
    gate = fake_llm.hold()  # hold the first request while scripting the rest
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    install_counter_skill(d.home)
    d.start()
    gate.set()
    second_gate = fake_llm.hold()  # the request after the tool ran
    try:
        d.post("bump once", id="crash-1", timeout=2)
    except httpx.ReadTimeout:
        pass
    assert fake_llm.wait_for_requests(2, timeout=15)
    assert counter_calls(d.home) == ["only-once"]
    d.kill9()
    second_gate.set()
    fake_llm.script(Reply(text="Bumped, once."))
    d.start()
    replies = d.wait_for_replies(1)
    assert [r["text"] for r in replies] == ["Bumped, once."]
    assert counter_calls(d.home) == ["only-once"]
    time.sleep(0.5)
    assert len([m for m in d.messages() if m["role"] == "assistant"]) == 1
    con = sqlite3.connect(d.home / "claw.db")
    assert con.execute("select count(*) from outbox").fetchone()[0] == 1
    assert con.execute("select status from inbox").fetchall() == [("done",)]


def test_sigterm_exits_zero_quickly(fake_llm, daemon_factory):
    d = daemon_factory(anthropic_config(fake_llm))
    started = time.monotonic()
    assert d.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10


def test_without_api_key_every_message_gets_a_setup_answer(daemon_factory):
    d = daemon_factory("")
    out = d.say("what's the weather like?")
    assert out["handled_by"] == "setup"
    assert "ANTHROPIC_API_KEY" in out["reply"] and "[llm]" in out["reply"]


def test_usage_is_recorded(fake_llm, daemon_factory):
    fake_llm.script(Reply(text="ok", usage={"input_tokens": 100, "output_tokens": 20, "cache_read": 50}))
    d = daemon_factory(anthropic_config(fake_llm))
    d.say("count me")
    con = sqlite3.connect(d.home / "claw.db")
    row = con.execute("select input_tokens, output_tokens, cache_read_tokens, cost_usd from usage").fetchone()
    assert row[:3] == (100, 20, 50) and row[3] > 0
