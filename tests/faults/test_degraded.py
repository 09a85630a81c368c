"""The world misbehaving while the daemon runs: LLM overloaded, database locked, disk full, Home Assistant restarting.

Fault cases here (8): LLM 529/500 for a while then back; an LLM error after a tool ran; the database
locked by another process for less than busy_timeout and for longer; the disk full before a message and
in the middle of a turn; Home Assistant restarting in the middle of a turn.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import anthropic_config
from tests.fakes.llm import Error, Reply, ToolUse
from tests.faults.conftest import assert_exactly_once, install_test_skills, post_nowait, query, wait_until
from tests.harness import counter_calls


def test_llm_overloaded_for_a_while_then_back(fake_llm, daemon_factory):
    """529s and 500s exhaust the retries: an honest reply, the message kept, tools not rerun; then recovery."""
    d = daemon_factory(anthropic_config(fake_llm, max_retries=1), start=False)
    install_test_skills(d.home)
    d.start()
    fake_llm.script(Error(529, retry_after=0.1), Error(529, retry_after=0.1))
    out = d.say("are you there?")
    assert out["handled_by"] == "error" and "can't think right now" in out["reply"]
    assert "saved" in out["reply"]

    # the model fails after a tool ran: the reply says so and still lists the action; the tool ran once
    fake_llm.script(Reply(tool_calls=[ToolUse("bump", {"label": "x"})]), Error(500), Error(500))
    out = d.say("bump then fail")
    assert out["handled_by"] == "error" and [a["tool"] for a in out["actions"]] == ["bump"]
    assert counter_calls(d.home) == ["x"]

    fake_llm.script(Reply(text="Back again."))
    assert d.say("and now?")["reply"] == "Back again."
    assert d.messages()[0]["text"] == "are you there?"  # the failed turn's message is in the transcript
    assert counter_calls(d.home) == ["x"]
    assert_exactly_once(d, 3)


class Locker:
    """Another process's connection holding an exclusive lock on claw.db for a while."""

    def __init__(self, db: Path, seconds: float):
        self.con = sqlite3.connect(db, timeout=30, isolation_level=None, check_same_thread=False)
        self.con.execute("BEGIN EXCLUSIVE")
        self.timer = threading.Timer(seconds, self.release)
        self.timer.start()

    def release(self) -> None:
        try:
            self.con.execute("COMMIT")
        finally:
            self.con.close()


def test_database_locked_by_another_process(fake_llm, daemon_factory):
    """A lock shorter than busy_timeout is waited out; a longer one never loses or doubles an accepted message."""
    fake_llm.responder = lambda req: Reply(text=f"re: {req.last_user_text()}")
    d = daemon_factory(anthropic_config(fake_llm))
    d.say("warm up", id="w")

    locker = Locker(d.home / "claw.db", 2.0)
    out = d.say("during a short lock", id="short")
    assert out["reply"] == "re: during a short lock"
    locker.timer.join()

    # longer than busy_timeout (5 s): the write may be refused (never a silent loss), or waited for
    locker = Locker(d.home / "claw.db", 8.0)
    r = d.post("during a long lock", id="long", timeout=60)
    locker.timer.join()
    assert r.status_code in (200, 202, 503), r.text
    if r.status_code == 503:
        assert r.headers.get("retry-after")
        r = d.post("during a long lock", id="long", timeout=60)  # the client retries with the same id
        assert r.status_code == 200, r.text
    wait_until(lambda: len(d.messages()) >= 6, "the replies", d)
    assert [m["text"] for m in d.messages() if m["role"] == "assistant"] == [
        "re: warm up", "re: during a short lock", "re: during a long lock"]
    assert httpx.get(f"{d.url}/healthz", timeout=5).status_code == 200
    assert_exactly_once(d, 3)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MB tmpfs (we run as root in CI); skipped where mounting is not allowed."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(path: Path) -> None:
    """Write zeros until the filesystem says ENOSPC (closing the file may say it too)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(fd)


def test_disk_full(fake_llm, daemon_factory, tiny_disk):
    """A full disk refuses new messages with a clear 5xx and stores nothing; a turn caught by it finishes once later."""
    fake_llm.responder = lambda req: Reply(text=f"re: {req.last_user_text()}")
    d = daemon_factory(anthropic_config(fake_llm), name="tiny/home", start=False)
    d.log_path = tiny_disk.parent / "serve.log"  # logs go elsewhere (journald), as in production
    d.start()
    d.say("before", id="b")

    # a turn in flight when the disk fills up
    gate = fake_llm.hold()
    post_nowait(d, "caught by the full disk", "mid")
    assert fake_llm.wait_for_requests(2, timeout=20)
    filler = tiny_disk / "filler"
    fill(filler)
    gate.set()
    # SQLite reuses its WAL file, so small writes can still fit: send big messages until one is refused
    statuses: dict[str, int] = {}
    for n in range(30):
        r = d.post(f"while full {n} " + "x" * 15_000, id=f"full-{n}", timeout=30)
        statuses[f"full-{n}"] = r.status_code
        if r.status_code >= 500:
            assert r.status_code in (503, 507), r.text
            assert "error" in r.json()
            break
    refused = [k for k, v in statuses.items() if v >= 500]
    assert refused, f"the full disk never refused a write: {statuses}"
    requests_while_full = len(fake_llm.requests)
    time.sleep(2)
    spun = len(fake_llm.requests) - requests_while_full  # LLM calls made while nothing could be journaled
    filler.unlink()
    accepted = 3 + len(statuses) - len(refused)
    wait_until(lambda: len([m for m in d.messages() if m["role"] == "assistant"]) >= accepted - 1, "the replies", d)
    assert d.say("after", id="a")["reply"] == "re: after"
    assert query(d, "select count(*) from inbox where external_id = ?", refused[0]) == [(0,)]
    texts = [m["text"] for m in d.messages() if m["role"] == "assistant"]
    assert texts[0] == "re: before" and texts[-1] == "re: after"
    # the caught turn gets its answer, or an honest "something went wrong" if only its journal write failed
    assert texts[1] == "re: caught by the full disk" or texts[1].startswith("Sorry, something went wrong"), texts[1]
    assert len(texts) == accepted
    assert_exactly_once(d, accepted)
    # While nothing can be journaled the dispatcher backs off instead of calling the LLM again and again.
    assert spun <= 2, f"{spun} LLM calls in 2 s while the disk was full"
