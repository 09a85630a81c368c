"""Helpers for fault injection: a tool that blocks until released, database queries, invariant checks.

Faults are injected from outside the product (SIGKILL, the fakes' hold gates and
scripted errors, another process locking the database), never through hooks in claw.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.harness import Daemon, install_counter_skill, wait_until

SLOW_SKILL = '''
"""A tool that records its start, then blocks until the test creates a release file: a window to kill -9 in."""
import asyncio
from pathlib import Path
from claw.skill import Skill, tool


class Slow(Skill):
    name = "slow"

    @tool
    async def slow_job(self, label: str) -> str:
        """Do a slow job.

        Args:
            label: what to record.
        """
        data = self.ctx.data_dir
        data.mkdir(parents=True, exist_ok=True)
        with (data / "started.txt").open("a") as f:
            f.write(label + "\\n")
        while not (data / "release").exists():
            await asyncio.sleep(0.05)
        with (data / "finished.txt").open("a") as f:
            f.write(label + "\\n")
        return f"slow job {label} finished"
'''


def install_test_skills(home: Path) -> None:
    install_counter_skill(home)
    (home / "skills" / "slow.py").write_text(SLOW_SKILL)


def slow_file(home: Path, name: str) -> list[str]:
    path = home / "data" / "slow" / name
    return path.read_text().splitlines() if path.exists() else []


def query(d: Daemon, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(d.home / "claw.db", timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()




def assert_exactly_once(d: Daemon, accepted: int) -> None:
    """Every accepted message is done, with one reply row and one queued/sent outbox row; nothing doubled."""
    inbox = query(d, "select id, status from inbox order by id")
    assert len(inbox) == accepted, inbox
    assert {s for _, s in inbox} == {"done"}, inbox
    per_inbox = query(d, "select inbox_id, count(*) from outbox where inbox_id is not null group by inbox_id")
    assert sorted(per_inbox) == [(i, 1) for i, _ in inbox], per_inbox
    replies = query(d, "select inbox_id, count(*) from messages where role = 'assistant' and inbox_id is not null "
                       "group by inbox_id")
    assert sorted(replies) == [(i, 1) for i, _ in inbox], replies
    users = query(d, "select inbox_id, count(*) from messages where role in ('user', 'task') group by inbox_id")
    assert sorted(users) == [(i, 1) for i, _ in inbox], users
    # memory: one episode of what was said per message, never lost or doubled by a replay
    said = query(d, "select json_extract(meta, '$.inbox_id'), count(*) from memory_episodes "
                    "where json_extract(meta, '$.role') in ('user', 'task') group by 1")
    assert sorted(said) == [(i, 1) for i, _ in inbox], said


def post_nowait(d: Daemon, text: str, id: str) -> None:
    """Send a message and return once it is accepted (the turn goes on in the daemon)."""
    import httpx

    try:
        d.post(text, id=id, timeout=1.5)
    except httpx.ReadTimeout:
        pass
    wait_until(lambda: query(d, "select 1 from inbox where external_id = ?", id), "the inbox row", d)


from tests.whatsapp.conftest import twilio  # noqa: E402,F401  (the fake Twilio fixture, shared)
