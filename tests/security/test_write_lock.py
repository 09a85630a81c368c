"""Another process holding claw.db's write lock longer than Twilio waits does not cost a message.

Twilio counts a webhook failed after 15 s and sends it again. With a backup tool or ``sqlite3`` holding the
database's write lock for 17 s, every webhook is still answered well within that (the message goes to the
fsynced spool after a few seconds), /healthz says messages wait, and once the lock is gone every message is
stored exactly once, in order, and answered once. A kill -9 while messages are spooled loses none of them, and
an append the kill cut short (never acknowledged, so Twilio sends it again) is skipped.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.fakes.llm import FakeLLM, Reply
from tests.fakes.twilio import FakeTwilio, webhook_params
from tests.harness import Daemon, wait_until
from tests.whatsapp.conftest import OWNER, TWILIO_ENV, post_webhook, query, wa_config

TWILIO_LIMIT = 15.0


@pytest.fixture
def wa(tmp_path: Path) -> Iterator[tuple[Daemon, FakeTwilio]]:
    with FakeLLM() as llm, FakeTwilio() as twilio:
        llm.responder = lambda req: Reply(text="noted")
        d = Daemon(tmp_path / "home", wa_config(llm, twilio, rate_limit_per_minute=0), TWILIO_ENV)
        d.start()
        try:
            yield d, twilio
        finally:
            d.stop()


@contextmanager
def write_lock(db: Path) -> Iterator[None]:
    """What another process does: take the write lock and sit on it."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=30)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def timed_post(d: Daemon, params: dict[str, str]) -> float:
    start = time.monotonic()
    r = post_webhook(d, params)
    assert r.status_code == 200, r.text
    return time.monotonic() - start


def stored(d: Daemon) -> list[str]:
    return [sid for (sid,) in query(d, "select external_id from inbox where sender = ? order by id", OWNER)]


def test_webhooks_are_acknowledged_and_kept_through_a_long_external_lock(wa: tuple[Daemon, FakeTwilio]) -> None:
    d, twilio = wa
    sent = [webhook_params(f"note number {i}", OWNER) for i in range(8)]
    sids = [p["MessageSid"] for p in sent]
    took: list[float] = []
    with write_lock(d.home / "claw.db"):
        held = time.monotonic()
        took.append(timed_post(d, sent[0]))  # waits for the database a little, then is spooled
        with ThreadPoolExecutor(4) as pool:  # a burst arriving behind it
            took += pool.map(lambda p: timed_post(d, p), sent[1:5])
        took.append(timed_post(d, sent[1]))  # Twilio's retry of one already spooled
        health = httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()
        assert health["status"] == "degraded" and "spooled" in health["components"]["database"]["detail"]
        time.sleep(max(0.0, 12 - (time.monotonic() - held)))
        took += [timed_post(d, p) for p in sent[5:]]  # still locked, 12 s and more in
        assert query(d, "select count(*) from inbox where sender = ?", OWNER) == [(0,)]
        time.sleep(max(0.0, TWILIO_LIMIT + 2 - (time.monotonic() - held)))
        assert (d.home / "spool" / "inbox.jsonl").stat().st_mode & 0o777 == 0o600
    assert max(took) < TWILIO_LIMIT / 2, took

    wait_until(lambda: len(query(d, "select id from inbox where sender = ?", OWNER)) == 8, "spool stored", d)
    order = stored(d)  # each once, in the order acknowledged (the burst's four in any order among themselves)
    assert order[0] == sids[0] and set(order[1:5]) == set(sids[1:5]) and order[5:] == sids[5:], (order, sids)
    assert len(twilio.wait_for(8, to=OWNER, timeout=30)) == 8  # one answer each
    wait_until(lambda: (d.home / "spool" / "inbox.jsonl").stat().st_size == 0, "spool emptied", d)
    wait_until(lambda: httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()["components"]["database"]
               ["ok"], "health back", d)
    time.sleep(1)
    assert len([m for m in twilio.sent() if m.to == f"whatsapp:{OWNER}"]) == 8  # and no more


def test_a_kill_while_messages_are_spooled_loses_none(wa: tuple[Daemon, FakeTwilio]) -> None:
    d, twilio = wa
    sent = [webhook_params(f"remember item {i}", OWNER) for i in range(3)]
    with write_lock(d.home / "claw.db"):
        for params in sent:
            assert timed_post(d, params) < TWILIO_LIMIT / 2
        assert (d.home / "spool" / "inbox.jsonl").read_text().count("\n") == 3
        d.kill9()
    with open(d.home / "spool" / "inbox.jsonl", "a") as f:
        f.write('{"channel": "whatsapp", "external_id": "SMtorn", "te')  # an append the kill cut short
    d.start()
    sids = [p["MessageSid"] for p in sent]
    wait_until(lambda: len(query(d, "select id from inbox where sender = ?", OWNER)) == 3, "spool stored", d)
    assert stored(d) == sids
    assert len(twilio.wait_for(3, to=OWNER, timeout=30)) == 3
    assert "inbox.spool_found" in d.logs() and "spool.bad_line" in d.logs()
