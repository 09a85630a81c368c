"""The wall clock jumping while ``claw serve`` runs (an NTP step, someone fixing the date by hand).

How the jump is made: libfaketime (Debian package ``faketime``, which brings ``libfaketime``) is preloaded
into the daemon only, with its offset read from a file that it re-reads every second
(``FAKETIME_CACHE_DURATION``), so the test moves the daemon's wall clock by rewriting that file, then
waits until the daemon's HTTP ``Date`` header shows the new time. The monotonic clock is left alone
(``FAKETIME_DONT_FAKE_MONOTONIC``), as a real clock step leaves it: asyncio timers, timeouts and the
scheduler's sleeps keep real time while ``time.time()`` / ``datetime.now()`` and SQLite see the jump.
Nothing in claw knows about it: no clock seam, no test hook.

Each case asserts: a scheduled reminder or routine fires once (not twice, not never, not "missed"), a
message in flight during the jump gets exactly one reply, and no run is ever doubled.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import anthropic_config
from tests.fakes.llm import Reply
from tests.faults.conftest import assert_exactly_once, post_nowait, query
from tests.harness import Daemon, counter_calls, install_counter_skill, wait_until
from tests.tasks.conftest import api, assistant_texts, create, fast

HOURS = 3600
LIB_PATTERNS = ["/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
                "/usr/local/lib/faketime/libfaketime.so.1"]


def libfaketime() -> str | None:
    for pattern in LIB_PATTERNS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


class WallClock:
    """The daemon's wall-clock offset from real time, in whole seconds, changeable while it runs."""

    def __init__(self, lib: str, path: Path):
        self.lib, self.path = lib, path
        self.write(0)

    def write(self, seconds: int) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(f"{seconds:+d}\n")
        os.replace(tmp, self.path)  # atomic: the daemon never reads a half-written offset

    def jump(self, d: Daemon, seconds: int) -> None:
        """Set the offset and return once the daemon's clock shows it (libfaketime re-reads it each second)."""
        self.write(seconds)
        wait_until(lambda: abs(daemon_offset(d) - seconds) < 30, f"the daemon's clock to move to {seconds:+d} s", d)

    @property
    def env(self) -> dict[str, str]:
        return {"LD_PRELOAD": self.lib, "FAKETIME_TIMESTAMP_FILE": str(self.path), "FAKETIME_CACHE_DURATION": "1",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1", "NO_FAKE_STAT": "1"}


def daemon_offset(d: Daemon) -> float:
    """How far the daemon's wall clock is from ours, read from its HTTP Date header (whole seconds)."""
    date = httpx.get(f"{d.url}/healthz", timeout=10).headers["date"]
    return parsedate_to_datetime(date).timestamp() - time.time()


@pytest.fixture
def wall_clock(tmp_path: Path) -> Iterator[WallClock]:
    lib = libfaketime()
    if lib is None:
        message = "libfaketime is not installed (Debian package 'faketime')"
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must install it")  # never a silent skip where the suite is meant to run
        pytest.skip(message)
    yield WallClock(lib, tmp_path / "clock-offset")


def db_time(value: str) -> datetime:
    """A timestamp as the daemon stored it (SQLAlchemy on SQLite: naive UTC text)."""
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def runs_of(d: Daemon, task_id: int) -> list[tuple[str, str, datetime]]:
    rows = query(d, "select run_key, status, started_at from task_runs where task_id = ? order by id", task_id)
    return [(key, status, db_time(started)) for key, status, started in rows]


def start_daemon(daemon_factory: Callable[..., Daemon], fake_llm, clock: WallClock) -> Daemon:
    fake_llm.responder = lambda req: Reply(text=f"re: {req.last_user_text()}")
    d = daemon_factory(anthropic_config(fake_llm, extra=fast(grace=60)), env=clock.env, start=False)
    install_counter_skill(d.home)
    return d.start()


def missed_notices(d: Daemon) -> list[str]:
    return [t for t in assistant_texts(d) if "I missed task" in t]


def test_clock_jumps_forward_by_hours(fake_llm, daemon_factory, wall_clock):
    """A reminder the jump carried us past fires once, late (not "missed", not never); an hourly routine
    whose three due runs were jumped over runs once; a reminder still ahead waits; the in-flight message
    gets one reply."""
    d = start_daemon(daemon_factory, fake_llm, wall_clock)
    real_start = datetime.now(UTC)
    gate = fake_llm.hold()
    post_nowait(d, "hello across the jump", "m1")
    assert fake_llm.wait_for_requests(1, timeout=20)
    passed = create(d, kind="reminder", text="call mom", delay="1h")
    ahead = create(d, kind="reminder", text="water the plants", delay="5h")
    hourly = create(d, kind="routine", text="hourly bump", every="1h",
                    actions=[{"tool": "bump", "args": {"label": "hourly"}}])

    wall_clock.jump(d, 3 * HOURS)
    gate.set()
    wait_until(lambda: "Reminder: call mom" in assistant_texts(d) and counter_calls(d.home), "the jumped-over runs", d)
    wait_until(lambda: "re: hello across the jump" in assistant_texts(d), "the in-flight reply", d)
    assert d.say("after the jump", id="m2")["reply"] == "re: after the jump"
    time.sleep(1.5)  # several scheduler syncs: room for a second run to show up

    texts = assistant_texts(d)
    assert texts.count("Reminder: call mom") == 1 and "water the plants" not in texts, texts
    assert missed_notices(d) == []
    assert counter_calls(d.home) == ["hourly"]  # three due runs coalesced into one
    [(_, status, started)] = runs_of(d, passed["id"])
    assert status == "ok"
    assert started - real_start > timedelta(hours=2)  # it ran in the daemon's jumped clock: the jump was real
    assert [s for _, s, _ in runs_of(d, hourly["id"])] == ["ok"]
    assert runs_of(d, ahead["id"]) == []
    [(late_received,)] = query(d, "select received_at from inbox where external_id = 'm2'")
    assert db_time(late_received) - real_start > timedelta(hours=2)
    assert_exactly_once(d, 2)
    assert len(fake_llm.requests) == 2  # the two messages; reminders and compiled routines cost no tokens


def test_clock_jumps_back_by_minutes(fake_llm, daemon_factory, wall_clock):
    """Runs already made are not made again when the clock shows their times a second time; a message in
    flight gets one reply; a reminder set after the jump fires once; when the clock is put right again the
    routine goes on without a burst or a doubled run, and nothing is reported missed."""
    d = start_daemon(daemon_factory, fake_llm, wall_clock)
    fired = create(d, kind="reminder", text="stand up", delay="1s")
    ticker = create(d, kind="routine", text="tick", every="1s", actions=[{"tool": "bump", "args": {"label": "tick"}}])
    wait_until(lambda: "Reminder: stand up" in assistant_texts(d) and len(counter_calls(d.home)) >= 2, "runs before the jump", d)

    gate = fake_llm.hold()
    post_nowait(d, "hello across the jump", "m1")
    assert fake_llm.wait_for_requests(1, timeout=20)
    ticks_before = len(runs_of(d, ticker["id"]))
    wall_clock.jump(d, -5 * 60)
    gate.set()
    wait_until(lambda: "re: hello across the jump" in assistant_texts(d), "the in-flight reply", d)
    after = create(d, kind="reminder", text="drink water", delay="2s")
    wait_until(lambda: "Reminder: drink water" in assistant_texts(d), "a reminder set after the jump back", d)
    assert d.say("still there?", id="m2")["reply"] == "re: still there?"
    time.sleep(1.5)  # several scheduler syncs with the clock showing the reminder's time again
    assert assistant_texts(d).count("Reminder: stand up") == 1

    wall_clock.jump(d, 0)  # the clock is put right again
    wait_until(lambda: len(runs_of(d, ticker["id"])) > ticks_before + 1, "the routine to go on", d)
    api(d, "POST", f"/api/tasks/{ticker['id']}/pause")
    time.sleep(1.0)  # a run that had begun finishes

    texts = assistant_texts(d)
    assert texts.count("Reminder: stand up") == 1 and texts.count("Reminder: drink water") == 1, texts
    assert missed_notices(d) == []
    assert [s for _, s, _ in runs_of(d, fired["id"])] == ["ok"]
    assert [s for _, s, _ in runs_of(d, after["id"])] == ["ok"]
    ticks = runs_of(d, ticker["id"])
    keys = [datetime.fromisoformat(k) for k, _, _ in ticks]
    assert keys == sorted(set(keys)), keys  # every scheduled time ran at most once, in order
    assert {s for _, s, _ in ticks} == {"ok"}
    assert len(counter_calls(d.home)) == len(ticks)  # each run called its tool exactly once
    assert_exactly_once(d, 2)
