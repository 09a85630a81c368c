"""Camera watchers are tasks: `claw tasks list` shows them, pause/resume/rm hold their vision checks, and the
vision tokens are booked on the task. Through ``claw serve`` with the fake camera; no timing assertions."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from claw.store.db import Database
from claw.store.migrations import migrate
from claw.tasks import models as m
from skills.camera.watch import Watcher
from tests.camera.conftest import (
    camera_config,
    camera_health,
    vision_requests,
    wait_until,
)
from tests.camera.test_camera_e2e import create_watch
from tests.fakes.camera import FakeCamera, driveway, truck
from tests.fakes.llm import FakeLLM
from tests.harness import Daemon
from tests.tasks.conftest import cli

TRUCK = "Is a delivery truck in the driveway?"
PARKED = "Is anything parked in the driveway?"


def checks(fake: FakeLLM, question: str) -> int:
    return len([r for r in vision_requests(fake) if question in r.last_user_text()])


def listed(d: Daemon) -> dict[int, dict[str, Any]]:
    return {t["id"]: t for t in json.loads(cli(d, "list", "--json").stdout)["tasks"]}


def wait_check(d: Daemon, fake: FakeLLM, question: str) -> None:
    n = checks(fake, question)
    wait_until(lambda: checks(fake, question) > n, what=f"a vision check for {question!r}", d=d)


def test_camera_watchers_are_tasks_listed_paused_deleted_and_budgeted(
        vision_llm: FakeLLM, camera: FakeCamera, daemon_factory: Callable[..., Daemon]) -> None:
    """The CLI's pause, resume and delete go through the daemon, which stops and restarts the loops at once;
    the service's ``may_run``, asked before each vision request, holds a check already under way."""
    camera.show(driveway())
    d = daemon_factory(camera_config(vision_llm, {"driveway": {"url": camera.url}}))
    results = create_watch(d, vision_llm, *({"camera": "driveway", "question": q, "interval_seconds": 0.2}
                                            for q in (TRUCK, PARKED)))
    assert all("created" in r for r in results), results
    tasks = listed(d)
    [truck_id] = [i for i, t in tasks.items() if TRUCK in t["title"]]
    [parked_id] = [i for i, t in tasks.items() if PARKED in t["title"]]
    for t in tasks.values():
        assert t["kind"] == "camera" and t["status"] == "active" and t["next_run_local"] == "on change", t
        assert "driveway" in t["schedule"] and "when the picture changes" in t["schedule"], t
    assert f"#{truck_id}" in cli(d, "list").stdout

    # The truck arrives: each watcher asks once, and the usage rows carry the task ids.
    camera.show(truck())
    wait_until(lambda: checks(vision_llm, TRUCK) and checks(vision_llm, PARKED), what="both checks", d=d)

    def vision_usage() -> list[int]:
        with sqlite3.connect(d.home / "claw.db") as conn:
            return [r[0] for r in conn.execute("SELECT task_id FROM usage WHERE purpose = 'vision'")]

    rows = wait_until(lambda: (u := vision_usage()) and set(u) == {truck_id, parked_id} and u,
                      what="vision usage booked on both tasks", d=d)
    assert len(rows) == len(vision_requests(vision_llm))
    by_task = subprocess.run([sys.executable, "-m", "claw", "usage", "--by", "task"], check=False, env=d.env,
                             capture_output=True, text=True, timeout=60)
    assert by_task.returncode == 0 and f"  {truck_id} " in by_task.stdout, by_task.stdout + by_task.stderr

    # Paused from the CLI: the scene changes twice, the other watcher looks, the paused one does not.
    truck_checks = checks(vision_llm, TRUCK)
    cli(d, "pause", str(truck_id))
    assert listed(d)[truck_id]["status"] == "paused"
    for frame in (driveway(), truck()):
        camera.show(frame)
        wait_check(d, vision_llm, PARKED)
    assert checks(vision_llm, TRUCK) == truck_checks
    wait_until(lambda: camera_health(d)["watchers"] == 1, what="the paused watcher's loop to stop", d=d)

    # Resumed (its loop starts again and takes the current frame), then the other one deleted from the CLI:
    # only the resumed watcher looks from now on.
    cli(d, "resume", str(truck_id))
    wait_until(lambda: camera_health(d)["watchers"] == 2, what="the resumed watcher's loop", d=d)
    assert camera.wait_hits(camera.hits + 4)
    parked_checks = checks(vision_llm, PARKED)
    cli(d, "rm", str(parked_id))
    assert set(listed(d)) == {truck_id} and listed(d)[truck_id]["status"] == "active"
    for frame in (driveway(), truck()):
        camera.show(frame)
        wait_check(d, vision_llm, TRUCK)
    assert checks(vision_llm, PARKED) == parked_checks
    wait_until(lambda: camera_health(d)["watchers"] == 1, what="the deleted watcher's loop to stop", d=d)


def test_watchers_from_the_old_camera_watchers_table_become_camera_tasks(tmp_path: Path) -> None:
    """The named migration moves a 0.1 database's camera_watchers rows into the tasks table, once."""
    with sqlite3.connect(tmp_path / "claw.db") as conn:
        conn.execute("CREATE TABLE camera_watchers (id INTEGER PRIMARY KEY, camera VARCHAR NOT NULL, question TEXT "
                     "NOT NULL, trigger VARCHAR NOT NULL, interval FLOAT NOT NULL, labels JSON NOT NULL, min_confidence "
                     "FLOAT NOT NULL, cooldown FLOAT NOT NULL, created_at DATETIME NOT NULL, state JSON NOT NULL)")
        conn.execute("INSERT INTO camera_watchers VALUES (7, 'drive', ?, 'frigate', 5, '[\"truck\"]', 0.6, 600, "
                     "'2026-01-01 00:00:00', '{\"alerts\": 2}')", (TRUCK,))
    db = Database(f"sqlite:///{tmp_path / 'claw.db'}")
    assert "m006_camera_watchers_are_tasks" in migrate(db.engine)
    [task] = db.run_sync(lambda c: m.list_tasks(c))
    w = Watcher.from_task(task.info())
    assert (task.kind, task.instruction) == ("camera", TRUCK)
    assert (w.camera, w.question, w.labels, w.state.alerts) == ("drive", TRUCK, ["truck"], 2)
    with sqlite3.connect(tmp_path / "claw.db") as conn:
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'camera_watchers'").fetchall()
    assert migrate(db.engine) == []
    db.close()
