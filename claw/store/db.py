"""The database: one SQLite file in WAL mode (any SQLAlchemy URL works).

SQLite work is short and synchronous; the daemon runs its own on one dedicated
thread (``Database.tx``), so the event loop never blocks and the pipeline's
writes never race each other. Memory writes from its own threads; SQLite
serialises writers, and ``busy_timeout`` makes one wait for the other.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, overload

from sqlalchemy import Engine, bindparam, create_engine, event, insert
from sqlalchemy.engine import Connection, CursorResult

from claw.store.schema import conversations


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...


@overload
def as_utc(value: None) -> None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT just gave its row."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class DatabaseError(Exception):
    """The database cannot be opened or written, phrased for the owner."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, json_serializer=lambda v: json.dumps(v, ensure_ascii=False, default=str))
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process crash
            cur.execute("PRAGMA busy_timeout=5000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


T = TypeVar("T")

#: Most writes committed together by ``tx_batched``.
BATCH_MAX = 256


class Database:
    """The engine plus one worker thread: ``await db.tx(fn)`` runs ``fn(conn)`` in a transaction."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claw-db")
        self._batch: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._flushing = False

    async def tx(self, fn: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, fn)

    def _run(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.begin() as conn:
            return fn(conn)

    async def tx_batched(self, fn: Callable[[Connection], T]) -> T:
        """Like ``tx``, but concurrent callers share one transaction (group commit).

        For hot, small writes such as webhooks: one commit and one thread hop
        per batch instead of per call. Each caller still returns only after its
        write is committed. If any function in a batch raises, the batch is
        rolled back and each function runs again in a transaction of its own, so
        one bad write cannot fail the others: ``fn`` must therefore only touch
        the connection, and leave effects outside the database to its caller,
        after the commit.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._batch.append((fn, future))
        if not self._flushing:
            self._flushing = True
            loop.create_task(self._flush_batches())
        return await future

    async def _flush_batches(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._batch:
                batch, self._batch = self._batch[:BATCH_MAX], self._batch[BATCH_MAX:]
                outcomes = await loop.run_in_executor(self._executor, self._run_batch, [fn for fn, _ in batch])
                for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if not future.done():
                        future.set_result(value) if ok else future.set_exception(value)
        finally:
            self._flushing = False

    def _run_batch(self, fns: list[Callable[[Connection], Any]]) -> list[tuple[bool, Any]]:
        if len(fns) == 1:
            return [self._run_alone(fns[0])]
        try:
            with self.engine.begin() as conn:
                return [(True, fn(conn)) for fn in fns]
        except Exception:  # rolled back: each again, alone
            return [self._run_alone(fn) for fn in fns]

    def _run_alone(self, fn: Callable[[Connection], Any]) -> tuple[bool, Any]:
        try:
            return True, self._run(fn)
        except Exception as exc:
            return False, exc

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """For the CLI and start-up, outside the event loop."""
        return self._run(fn)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()


#: Built once: on the webhook hot path, building and cache-keying the statement per call costs more than running it.
_touch_conversation = conversations.update().where(conversations.c.id == bindparam("conv_id")).values(
    updated_at=bindparam("now"))
_new_conversation = insert(conversations)


def ensure_conversation(conn: Connection, channel: str, peer: str) -> str:
    conv_id = f"{channel}:{peer}"
    now = utcnow()
    updated = conn.execute(_touch_conversation, {"conv_id": conv_id, "now": now})
    if updated.rowcount == 0:
        conn.execute(_new_conversation, {"id": conv_id, "channel": channel, "peer": peer, "created_at": now,
                                         "updated_at": now})
    return conv_id
