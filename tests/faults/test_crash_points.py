"""kill -9 of ``claw serve`` at each point of the pipeline, then a restart with no help from the test.

Injection points (the process dies...):
  1. after the inbox write, while the first LLM request is in flight
  2. after an LLM step chose a tool, while that tool runs (start journaled, result not)
  3. after parallel tools ran, while the next LLM request is in flight
  4. between the outbox write and delivery (Twilio refusing, retry pending)
  5. during delivery of part 2 of a 3-part WhatsApp reply (Twilio stored it, answer frozen)
  6. during a scheduled task's LLM turn
  7. after the owner's "yes", while the confirmed sensitive tool runs
Each asserts: exactly one reply per accepted message, no tool run twice, no episode lost or doubled.
"""

from __future__ import annotations

import json

from tests.conftest import anthropic_config
from tests.fakes.llm import Reply, ToolUse
from tests.fakes.twilio import Fail
from tests.faults.conftest import (
    assert_exactly_once,
    install_test_skills,
    post_nowait,
    query,
    slow_file,
    wait_until,
)
from tests.harness import counter_calls
from tests.whatsapp.conftest import TWILIO_ENV, say, wa_config


def test_kill_after_inbox_write_and_after_tools_ran(fake_llm, daemon_factory):
    """Points 1 and 3 on one home: two messages, two crashes, two replies, each tool once."""
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    install_test_skills(d.home)
    d.start()

    # 1: the message is stored, the LLM has it, the daemon dies before any journal step
    first_gate = fake_llm.hold()
    post_nowait(d, "hello before the crash", "m1")
    assert fake_llm.wait_for_requests(1, timeout=20)
    assert query(d, "select count(*) from turn_steps") == [(0,)]
    d.kill9()
    first_gate.set()
    fake_llm.script(Reply(text="Hello, after the crash."))
    d.start()
    assert [r["text"] for r in d.wait_for_replies(1)] == ["Hello, after the crash."]

    # 3: two tools ran in parallel; the daemon dies while the model is asked what to say next
    fake_llm.script(Reply(tool_calls=[ToolUse("bump", {"label": "a"}), ToolUse("bump", {"label": "b"})]))
    before = len(fake_llm.requests)
    fake_llm.hold().set()  # the tool-choosing request passes ...
    gate = fake_llm.hold()  # ... the one after the tools ran is held
    post_nowait(d, "bump a and b", "m2")
    assert fake_llm.wait_for_requests(before + 2, timeout=20)
    assert sorted(counter_calls(d.home)) == ["a", "b"]
    d.kill9()
    gate.set()
    fake_llm.script(Reply(text="Both bumped."))
    d.start()
    replies = d.wait_for_replies(2)
    assert [r["text"] for r in replies] == ["Hello, after the crash.", "Both bumped."]
    assert sorted(counter_calls(d.home)) == ["a", "b"]
    resumed = fake_llm.requests[-1]
    assert len(resumed.tool_results()) == 2  # the resumed request carries both results from the journal
    assert_exactly_once(d, 2)


def test_kill_while_a_tool_runs_and_while_a_confirmed_tool_runs(fake_llm, daemon_factory):
    """Points 2 and 7: a tool cut off mid-run is never started again; the model hears it was interrupted."""
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    install_test_skills(d.home)
    d.start()
    fake_llm.script(Reply(tool_calls=[ToolUse("slow_job", {"label": "boiler"})]))
    post_nowait(d, "run the slow job", "m1")
    wait_until(lambda: slow_file(d.home, "started.txt"), "the tool to start", d)
    d.kill9()
    (d.home / "data" / "slow" / "release").touch()  # a restarted tool would finish at once: it must not restart
    fake_llm.script(Reply(text="The slow job was interrupted; I did not rerun it."))
    d.start()
    assert [r["text"] for r in d.wait_for_replies(1)] == ["The slow job was interrupted; I did not rerun it."]
    assert slow_file(d.home, "started.txt") == ["boiler"] and slow_file(d.home, "finished.txt") == []
    result = fake_llm.requests[-1].tool_results()[0]
    assert result.is_error and "interrupted" in result.content

    # 7: the owner says yes; the confirmed sensitive tool is cut off while it runs
    (d.home / "data" / "slow" / "release").unlink()
    fake_llm.script(Reply(tool_calls=[ToolUse("open_vault", {"reason": "guests"})]))
    out = d.say("open the vault", id="m2")
    assert "Reply yes to confirm" in out["reply"]
    vault = d.home / "data" / "counter" / "vault.txt"
    requests = len(fake_llm.requests)
    post_nowait(d, "yes", "m3")
    wait_until(lambda: vault.exists(), "the vault tool to run", d)
    # the vault tool is instant, so the kill lands after it ran; the replay must not open it again
    d.kill9()
    d.start()
    replies = d.wait_for_replies(3)
    assert counter_calls(d.home, "vault.txt") == ["guests"]
    assert len(fake_llm.requests) == requests  # confirming costs no tokens, even across a crash
    assert replies[-1]["text"].startswith(("The vault is open", "That didn't work"))
    assert_exactly_once(d, 3)


def test_kill_between_outbox_write_and_delivery_while_twilio_is_down(fake_llm, twilio, daemon_factory):
    """Point 4 plus Twilio failing for a while: the reply waits in the outbox, survives a crash, goes out once."""
    fake_llm.script(Reply(text="Sent when Twilio is back."))
    twilio.script(*[Fail(503, message="down", retry_after=0.3) for _ in range(4)])
    d = daemon_factory(wa_config(fake_llm, twilio), env=TWILIO_ENV)
    say(d, "are you there?")
    wait_until(lambda: len(twilio.creates()) >= 2, "failed delivery attempts", d)
    assert query(d, "select status from outbox") in ([("pending",)], [("sending",)])
    assert twilio.sent() == []
    d.kill9()
    d.start()
    wait_until(lambda: query(d, "select status from outbox") == [("sent",)], "delivery after restart", d)
    assert [m.body for m in twilio.sent()] == ["Sent when Twilio is back."]
    assert len(fake_llm.requests) == 1
    assert_exactly_once(d, 1)


def test_kill_during_delivery_of_a_multipart_reply(fake_llm, twilio, daemon_factory):
    """Point 5: parts 1 and 2 reached Twilio, the daemon dies before recording part 2; each part arrives once."""
    paragraphs = [f"Part {n}: " + ("word " * 300).strip() + "." for n in (1, 2, 3)]
    fake_llm.script(Reply(text="\n\n".join(paragraphs)))
    d = daemon_factory(wa_config(fake_llm, twilio), env=TWILIO_ENV)
    twilio.script()  # nothing scripted: creates succeed
    first = twilio.hold()
    first.set()  # part 1 goes through
    second = twilio.hold()  # part 2 is stored by Twilio, its answer frozen
    say(d, "tell me a long story")
    twilio.wait_for(2)
    d.kill9()
    second.set()
    d.start()
    wait_until(lambda: query(d, "select status from outbox") == [("sent",)], "the rest of the reply", d)
    bodies = [m.body for m in twilio.sent()]
    assert len(bodies) == 3, bodies
    assert [b.count("Part ") for b in bodies] == [1, 1, 1]
    assert all(f"Part {n}:" in bodies[n - 1] for n in (1, 2, 3))
    [(payload,)] = query(d, "select payload from outbox")
    assert len(json.loads(payload)["wa"]["sids"]) == 3
    assert_exactly_once(d, 1)


def test_kill_during_a_scheduled_run(fake_llm, daemon_factory):
    """Point 6: a task's LLM turn is cut off; after restart the task runs to one output, not two."""
    from tests.tasks.conftest import create, fast

    d = daemon_factory(anthropic_config(fake_llm, extra=fast()), start=False)
    install_test_skills(d.home)
    d.start()
    gate = fake_llm.hold()
    create(d, kind="routine", text="bump the counter and report", delay="1s", needs_llm=True)
    assert fake_llm.wait_for_requests(1, timeout=20)
    d.kill9()
    gate.set()
    fake_llm.script(Reply(tool_calls=[ToolUse("bump", {"label": "task"})]), Reply(text="Task done: bumped."))
    d.start()
    wait_until(lambda: query(d, "select count(*) from outbox where text = "
                                "'Task #1 (bump the counter and report): Task done: bumped.'") == [(1,)],
               "the task's output", d)
    assert counter_calls(d.home) == ["task"]
    runs = query(d, "select count(*) from inbox where origin = 'scheduler'")
    assert runs == [(1,)]
    assert_exactly_once(d, 1)
