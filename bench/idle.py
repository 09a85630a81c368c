"""Idle benchmark: LLM requests made by a running daemon while nobody talks to it.

    python bench/idle.py [--seconds 60] [--no-reminder]

Starts ``claw serve`` against the fake LLM server (tests/fakes/llm.py), with standing work running:
two device watchers on the demo home (one on a simulated sensor that changes all the time), a compiled
routine every 15 s, a camera watcher polling a fake camera every second that shows a static driveway with
sensor noise and brightness flicker, and a reminder that fires in the middle of the idle window.

The setup (one chat turn that creates the camera watcher, and that conversation's consolidation) is done
before the idle window opens; ``[memory] consolidate_after_minutes`` is short (3 s), so anything the daemon
writes to memory while idle would be consolidated inside the window and counted. Then nobody writes for
``--seconds`` and the fake counts what it receives, by purpose. Target 0 (DESIGN.md: "LLM calls while idle
(no messages, watchers running)"). The other rows show the standing work really ran meanwhile.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from table import print_table  # noqa: E402

from tests.fakes.camera import FakeCamera, driveway, noisy  # noqa: E402
from tests.fakes.llm import FakeLLM, RecordedRequest, Reply, ToolUse  # noqa: E402
from tests.harness import Daemon, wait_until  # noqa: E402

QUESTION = "Is a delivery truck in the driveway?"


def purpose(req: RecordedRequest) -> str:
    if "security camera" in req.system_text():
        return "vision"
    text = req.last_user_text()
    if "Answer with JSON only" in text and "New turns" in text:
        return "consolidation"
    if "running summary" in text:
        return "summary"
    return "turn"


def respond(req: RecordedRequest) -> Reply:
    kind = purpose(req)
    if kind == "vision":
        return Reply(text=json.dumps({"match": False, "confidence": 0.9, "description": "The driveway is empty."}))
    if kind == "consolidation":
        return Reply(text='{"decisions": []}')
    return Reply(text="OK.")


def config(fake: FakeLLM, camera: FakeCamera) -> str:
    return f"""
[llm]
provider = "anthropic"
model = "claude-sonnet-4-6"
api_key = "sk-ant-bench"
base_url = "{fake.url}"

[memory]
consolidate_after_minutes = 0.05

[tasks]
watch_poll_seconds = 1

[camera.driveway]
url = "{camera.url}"
"""


def api(d: Daemon, method: str, path: str, body: Any = None) -> Any:
    r = httpx.request(method, f"{d.url}{path}", json=body, headers=d.auth(), timeout=60)
    r.raise_for_status()
    return r.json()


def memory_health(d: Daemon) -> dict[str, Any]:
    return httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()["components"]["memory"]


def count(d: Daemon, sql: str, *args: Any) -> int:
    with sqlite3.connect(d.home / "claw.db", timeout=30) as conn:
        return int(conn.execute(sql, args).fetchone()[0])


def run(seconds: float, reminder: bool) -> list[tuple[str, str, str, bool | None]]:
    with FakeLLM() as fake, FakeCamera() as camera, tempfile.TemporaryDirectory() as tmp:
        fake.responder = respond
        camera.script(driveway(), *[noisy(i, brightness=(-8, 0, 8)[i % 3]) for i in range(40)])
        d = Daemon(Path(tmp) / "home", config(fake, camera))
        d.start()
        try:
            # setup, before the idle window: a camera watcher from chat, device watchers and a routine by API
            fake.script(Reply(tool_calls=[ToolUse("camera_watch", {"action": "create", "camera": "driveway",
                                                                   "question": QUESTION, "interval_seconds": 1})]),
                        Reply(text="I'm watching the driveway."))
            d.say("tell me when a delivery truck arrives")
            api(d, "POST", "/api/tasks", {"kind": "watcher", "text": "The garage door has been open for 10 minutes",
                                          "when": "cover.garage_door == open", "hold_for": "10m"})
            api(d, "POST", "/api/tasks", {"kind": "watcher", "text": "The spa is too hot",
                                          "when": "sensor.spa_temperature > 45"})
            routine = api(d, "POST", "/api/tasks", {
                "kind": "routine", "text": "keep the porch light off", "every": "15s",
                "actions": [{"tool": "home_control", "args": {"target": "porch light", "action": "off"}}]})["task"]
            tasks = api(d, "GET", "/api/tasks")["tasks"]
            wait_until(lambda: memory_health(d)["pending"] == 0 and memory_health(d)["llm_calls"] >= 1,
                       "the setup chat's consolidation", d, timeout=60)
            time.sleep(1.0)
            if reminder:
                api(d, "POST", "/api/tasks", {"kind": "reminder", "text": "take the bins out",
                                              "delay": f"{max(1, int(seconds / 3))}s"})

            before, hits, runs = len(fake.requests), camera.hits, count(
                d, "select count(*) from task_runs where task_id = ?", routine["id"])
            started = time.monotonic()
            time.sleep(seconds)
            idle = fake.requests[before:]
            elapsed = time.monotonic() - started
            polls = camera.hits - hits
            routine_runs = count(d, "select count(*) from task_runs where task_id = ? and status = 'ok'",
                                 routine["id"]) - runs
            told = count(d, "select count(*) from outbox where text = 'Reminder: take the bins out'") if reminder else 0
            health = httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()
        finally:
            d.stop()

    by_purpose: dict[str, int] = {}
    for req in idle:
        by_purpose[purpose(req)] = by_purpose.get(purpose(req), 0) + 1
    standing = sum(1 for t in tasks if t["status"] == "active")
    watchers = health["components"].get("tasks", {}).get("watchers", "?")
    breakdown = ", ".join(f"{k} {v}" for k, v in sorted(by_purpose.items())) or "none"
    return [
        (f"LLM requests while idle ({elapsed:.0f} s, {standing} standing tasks)", str(len(idle)), "0",
         len(idle) == 0),
        ("LLM requests while idle, by purpose", breakdown, "(report)", None),
        ("camera polls of a static scene while idle", str(polls), "(report)", None),
        ("device watchers evaluating home state", str(watchers), "(report)", None),
        ("compiled routine runs while idle (zero tokens)", str(routine_runs), "(report)", None),
        *([("reminder delivered while idle (no LLM)", str(told), "1", told == 1)] if reminder else []),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="how long the daemon idles")
    ap.add_argument("--no-reminder", action="store_true", help="no reminder firing inside the idle window")
    args = ap.parse_args()
    rows = run(args.seconds, reminder=not args.no_reminder)
    print_table(rows, "claw serve against the fake LLM")


if __name__ == "__main__":
    main()
