"""End to end through ``claw serve`` subprocesses with the fake LLM: reminders, routines, watchers, goals."""

from __future__ import annotations

import time

from tests.conftest import anthropic_config
from tests.fakes.llm import Reply, ToolUse
from tests.harness import counter_calls, install_counter_skill
from tests.tasks.conftest import api, assistant_texts, cli, create, fast, wait_until


def test_reminder_and_compiled_routine_survive_restart_and_fire_once(fake_llm, daemon_factory):
    d = daemon_factory(anthropic_config(fake_llm, extra=fast()), start=False)
    install_counter_skill(d.home)
    d.start()
    create(d, kind="reminder", text="call mom", delay="3s")
    routine = create(d, kind="routine", text="bump the counter", delay="3s",
                     actions=[{"tool": "bump", "args": {"label": "routine"}}])
    assert routine["spec"]["actions"] == [{"tool": "bump", "args": {"label": "routine"}}]
    d.stop()
    d.start()
    wait_until(lambda: "Reminder: call mom" in assistant_texts(d) and counter_calls(d.home), what="both runs", d=d)
    time.sleep(1.5)
    assert assistant_texts(d).count("Reminder: call mom") == 1
    assert counter_calls(d.home) == ["routine"]
    d.stop()
    d.start()
    time.sleep(1.5)
    assert assistant_texts(d).count("Reminder: call mom") == 1 and counter_calls(d.home) == ["routine"]
    assert fake_llm.requests == []  # reminders and compiled routines cost nothing
    tasks = api(d, "GET", "/api/tasks").json()["tasks"]
    assert {t["status"] for t in tasks} == {"done"}


def test_missed_run_within_grace_runs_once_outside_is_reported(daemon_factory):
    d = daemon_factory(fast(grace=60), name="within", start=False)
    d.start()
    d.stop()
    cli(d, "add", "--in", "1s", "--remind", "within grace")
    time.sleep(2.0)
    d.start()
    wait_until(lambda: "Reminder: within grace" in assistant_texts(d), what="late run", d=d)
    time.sleep(1.0)
    assert assistant_texts(d).count("Reminder: within grace") == 1

    late = daemon_factory(fast(grace=1), name="outside", start=False)
    late.start()
    late.stop()
    cli(late, "add", "--in", "1s", "--remind", "too late")
    time.sleep(3.5)
    late.start()
    missed = wait_until(lambda: [t for t in assistant_texts(late) if "I missed task #1" in t], what="missed", d=late)
    assert len(missed) == 1
    time.sleep(1.0)
    assert "too late" not in assistant_texts(late)
    show = cli(late, "show", "1").stdout
    assert "missed" in show


def test_routine_created_in_chat_is_compiled_and_runs_without_the_llm(fake_llm, daemon_factory):
    fake_llm.script(
        Reply(tool_calls=[ToolUse("tasks", {"action": "create", "kind": "routine", "text": "bump the counter",
                                            "every": "2s"})]),
        Reply(tool_calls=[ToolUse("bump", {"label": "tick"})]),  # the compile request
        Reply(text="Done: every 2 seconds I'll bump the counter."),
    )
    d = daemon_factory(anthropic_config(fake_llm, extra=fast()), start=False)
    install_counter_skill(d.home)
    d.start()
    out = d.say("every 2 seconds bump the counter")
    result = fake_llm.requests[2].tool_results()[0].content
    assert "Created task #1 (routine)" in result and "Next runs" in result and "bump" in result
    assert out["actions"][0]["tool"] == "tasks" and out["actions"][0]["ok"]
    compile_req = fake_llm.requests[1]
    assert "bump" in compile_req.tool_names() and "tasks" not in compile_req.tool_names()
    requests = len(fake_llm.requests)
    wait_until(lambda: len(counter_calls(d.home)) >= 2, what="two compiled runs", d=d)
    assert len(fake_llm.requests) == requests == 3  # zero tokens per run
    assert set(counter_calls(d.home)) == {"tick"}
    task = api(d, "GET", "/api/tasks/1").json()["task"]
    assert task["spec"]["actions"] == [{"tool": "bump", "args": {"label": "tick"}}]


def test_watcher_fires_once_per_episode_with_cooldown_and_no_llm(fake_llm, daemon_factory):
    d = daemon_factory(anthropic_config(fake_llm, extra=fast()))
    create(d, kind="watcher", text="Garage door open (episodes)", when="cover.garage_door == open", hold_for="1s",
           cooldown="0s")
    create(d, kind="watcher", text="Garage door open (cooldown)", when="cover.garage_door == open", cooldown="1h")
    opening = {"kind": "routine", "text": "open the garage", "delay": "1d",
               "actions": [{"tool": "home_control", "args": {"target": "garage door", "action": "open"}}]}
    refused = api(d, "POST", "/api/tasks", opening)  # opening the garage unattended needs the owner's leave
    assert refused.status_code == 422 and "confirmation" in refused.text
    opener = create(d, **opening, allow_opening=True)
    closer = create(d, kind="routine", text="close the garage", delay="1d",
                    actions=[{"tool": "home_control", "args": {"target": "garage door", "action": "close"}}])

    def count(text: str) -> int:
        return assistant_texts(d).count(f"Alert: {text}")

    assert api(d, "POST", f"/api/tasks/{opener['id']}/run").json()["status"] == "ok"
    wait_until(lambda: count("Garage door open (episodes)") == 1, what="first episode", d=d)
    time.sleep(1.5)  # still open, polled several times: no second message
    assert count("Garage door open (episodes)") == 1 and count("Garage door open (cooldown)") == 1
    api(d, "POST", f"/api/tasks/{closer['id']}/run")
    time.sleep(0.5)
    api(d, "POST", f"/api/tasks/{opener['id']}/run")
    wait_until(lambda: count("Garage door open (episodes)") == 2, what="second episode", d=d)
    time.sleep(1.0)
    assert count("Garage door open (cooldown)") == 1
    assert fake_llm.requests == []


def test_goal_stops_at_iteration_limit_and_budget_with_journal(fake_llm, daemon_factory):
    fake_llm.responder = lambda req: Reply(text="Tried Jazz FM; the owner seemed to like it.")
    d = daemon_factory(anthropic_config(fake_llm, extra=fast()))
    goal = create(d, kind="goal", text="find which radio station I like in the morning", every="1s",
                  max_iterations=2, measure=["media_player.kitchen"])
    report = wait_until(lambda: [t for t in assistant_texts(d) if t.startswith(f"Goal #{goal['id']}")], d=d,
                        what="goal report")
    assert "limit of 2 iterations" in report[0]
    time.sleep(1.5)
    assert len(fake_llm.requests) == 2
    second = fake_llm.requests[1].last_user_text()
    assert "Iteration 2" in second and "Tried Jazz FM" in second and "media_player.kitchen" in second
    body = api(d, "GET", f"/api/tasks/{goal['id']}").json()
    assert [j["iteration"] for j in body["journal"]] == [1, 2] and body["task"]["status"] == "done"
    # Iterations are quiet: only the report reached the owner, never an iteration's note.
    assert not [t for t in assistant_texts(d) if t.startswith("Tried Jazz")]

    capped = create(d, kind="goal", text="keep the bedroom at 20", every="1s", max_iterations=50, token_budget=50)
    report = wait_until(lambda: [t for t in assistant_texts(d) if t.startswith(f"Goal #{capped['id']}")], d=d,
                        what="budget report")
    assert "token budget would be exceeded" in report[0]
    time.sleep(1.5)
    assert len(fake_llm.requests) == 2  # no prompt fits 50 tokens: the model is never asked
    assert api(d, "GET", f"/api/tasks/{capped['id']}").json()["task"]["status"] == "done"


def test_task_output_is_not_a_user_message_and_task_cannot_create_tasks_unconfirmed(fake_llm, daemon_factory):
    fake_llm.script(
        Reply(text="Setting up a reminder.", tool_calls=[ToolUse("tasks", {
            "action": "create", "kind": "reminder", "text": "loop again", "delay": "1h"})]),
    )
    d = daemon_factory(anthropic_config(fake_llm, extra=fast()))
    routine = create(d, kind="routine", text="check the house and report", needs_llm=True, delay="1d")
    assert api(d, "POST", f"/api/tasks/{routine['id']}/run").json()["status"] == "queued"
    wait_until(lambda: any("Reply yes to confirm" in t for t in assistant_texts(d)), what="confirmation", d=d)
    assert len(api(d, "GET", "/api/tasks").json()["tasks"]) == 1  # nothing created yet
    msgs = d.messages()
    assert {m["role"] for m in msgs} == {"assistant"}  # the task's prompt is the model's, never a chat line
    assert [m["text"].split(":")[0] for m in msgs] == [f"Task #{routine['id']} (check the house and report)"]
    assert fake_llm.requests[0].last_user_text().startswith("[scheduled task]")
    # The owner says yes: now the task is created.
    out = d.say("yes")
    assert out["handled_by"] == "confirm" and "Created task #2" in out["reply"]
    assert len(api(d, "GET", "/api/tasks").json()["tasks"]) == 2


def test_cli_add_list_run(daemon_factory):
    d = daemon_factory(fast())
    out = cli(d, "add", "--in", "1h", "--remind", "hello", "there").stdout
    assert "Added task #1 (reminder)" in out and "Next run:" in out
    listed = cli(d, "list").stdout
    assert "#1" in listed and "hello there" in listed
    assert "Ran task #1: ok" in cli(d, "run", "1").stdout
    wait_until(lambda: "Reminder: hello there" in assistant_texts(d), what="manual run", d=d)
    bad = cli(d, "add", "--every", "0 minutes", "nope", ok=False)
    assert bad.returncode != 0 and "longer than zero" in bad.stderr and "Traceback" not in bad.stderr
    r = api(d, "POST", "/api/tasks", {"kind": "routine", "text": "x", "cron": "not a cron"})
    assert r.status_code == 422 and "cron" in r.json()["error"]
    # Added while the daemon is down, picked up when it starts; `run` is honoured at start.
    d.stop()
    cli(d, "add", "--every", "1h", "--remind", "hourly")
    assert "will run when" in cli(d, "run", "2").stdout
    d.start()
    wait_until(lambda: "Reminder: hourly" in assistant_texts(d), what="requested run", d=d)
    tasks = {t["id"]: t for t in api(d, "GET", "/api/tasks").json()["tasks"]}
    assert tasks[2]["next_run_local"] and tasks[2]["status"] == "active"


def test_tool_refuses_bad_schedules_with_a_clear_tool_error(fake_llm, daemon_factory):
    fake_llm.script(
        Reply(tool_calls=[ToolUse("tasks", {"action": "create", "text": "ping", "every": "0 minutes"}),
                          ToolUse("tasks", {"action": "create", "text": "ping", "at": "2020-01-01 10:00"})]),
        Reply(text="Those schedules don't work."),
    )
    d = daemon_factory(anthropic_config(fake_llm, extra=fast()))
    out = d.say("ping me every 0 minutes, and on new year 2020")
    assert out["reply"] == "Those schedules don't work."
    errors = fake_llm.requests[1].tool_results()
    assert all(e.is_error for e in errors)
    assert "longer than zero" in errors[0].content and "in the past" in errors[1].content
    assert api(d, "GET", "/api/tasks").json()["tasks"] == []
