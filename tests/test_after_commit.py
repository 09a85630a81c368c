"""`after_commit`: what it runs sees the committed rows from any other connection, and a rollback runs nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from claw.store.db import Database, after_commit


def test_callbacks_run_after_the_commit_and_only_then(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    db.run_sync(lambda c: c.execute(text("CREATE TABLE t (x INTEGER)")))
    seen: list[int] = []

    def count() -> None:  # another connection, as a woken thread would have
        with sqlite3.connect(tmp_path / "c.db") as other:
            seen.append(other.execute("SELECT count(*) FROM t").fetchone()[0])

    def write(c) -> None:  # type: ignore[no-untyped-def]
        c.execute(text("INSERT INTO t VALUES (1)"))
        after_commit(count)

    db.run_sync(write)
    assert seen == [1]  # SQLAlchemy's "commit" event fires before the commit: it would see 0

    def fail(c) -> None:  # type: ignore[no-untyped-def]
        write(c)
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        db.run_sync(fail)
    db.run_sync(lambda c: c.execute(text("SELECT 1")))  # the same pooled connection, a new transaction
    assert seen == [1]  # neither the rolled-back callback nor a stale one ran
    with db.engine.begin() as conn, pytest.raises(RuntimeError, match="outside a Database transaction"):
        write(conn)  # a transaction nobody will report the commit of: refused, not kept for a later one
    db.close()


async def test_a_batch_runs_each_callback_once_and_never_the_failed_writes(tmp_path: Path) -> None:
    import asyncio

    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    db.run_sync(lambda c: c.execute(text("CREATE TABLE t (x INTEGER)")))
    ran: list[int] = []

    def write(i: int):  # type: ignore[no-untyped-def]
        def fn(c) -> int:  # type: ignore[no-untyped-def]
            c.execute(text("INSERT INTO t VALUES (:x)"), {"x": i})
            after_commit(lambda: ran.append(i))
            if i == 2:
                raise ValueError("bad write")
            return i
        return fn

    results = await asyncio.gather(*(db.tx_batched(write(i)) for i in range(4)), return_exceptions=True)
    assert [r if not isinstance(r, Exception) else "failed" for r in results] == [0, 1, "failed", 3]
    assert sorted(ran) == [0, 1, 3]  # the batch rolled back and each ran alone: no callback twice, none for 2
    db.close()
