"""The database: one SQLite file in WAL mode (any SQLAlchemy URL works).

SQLite work is short and synchronous; the daemon runs its own on one dedicated
thread (``Database.tx``), so the event loop never blocks and the pipeline's
writes never race each other. Memory writes from its own threads; SQLite
serialises writers, and ``busy_timeout`` makes one wait for the other.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, overload

import structlog
from sqlalchemy import Engine, bindparam, create_engine, event, insert, make_url
from sqlalchemy.engine import Connection, CursorResult, ExceptionContext

from claw.store.schema import conversations, health_probe

log = structlog.get_logger("claw.db")


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


#: Less free space than this on the database's disk counts as full: SQLite needs room to grow its WAL and checkpoint.
LOW_SPACE = 1 << 20

#: SQLite result codes that mean the storage, not the statement, is at fault (extended codes share the prefix).
STORAGE_ERRORS = {
    "SQLITE_FULL": "the disk is full",
    "SQLITE_READONLY": "it is read-only",
    "SQLITE_IOERR": "disk I/O error",
    "SQLITE_CANTOPEN": "it cannot be opened",
    "SQLITE_PERM": "permission denied",
    "SQLITE_CORRUPT": "the file is damaged",
    "SQLITE_NOTADB": "it is not a SQLite database",
}


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL; None for an in-memory or non-SQLite database."""
    if not url.startswith("sqlite:///") or url.startswith("sqlite:///:memory:"):
        return None
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0])


def storage_problem(exc: BaseException) -> str | None:
    """What a driver error says about the storage, or None when the statement or a busy lock is at fault."""
    orig = getattr(exc, "orig", None) or exc
    name = getattr(orig, "sqlite_errorname", None)
    if not isinstance(name, str):
        return None
    return next((f"{what} ({orig})" for prefix, what in STORAGE_ERRORS.items() if name.startswith(prefix)), None)


def is_busy(exc: BaseException) -> bool:
    """Whether another connection's lock, not the statement or the storage, made this write fail."""
    orig = getattr(exc, "orig", None) or exc
    name = getattr(orig, "sqlite_errorname", None)
    return isinstance(name, str) and name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def free_bytes(folder: Path) -> int | None:
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def diagnose(path: Path) -> str | None:
    """What is wrong around a database file, in the owner's words: the folder, the file's mode, the disk."""
    folder = path.parent
    if not folder.is_dir():
        return f"its folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is not writable"  # SQLite creates claw.db-wal and -shm beside it
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    free = free_bytes(folder)
    if free is not None and free < LOW_SPACE:
        return f"the disk is full ({free // 1024} KiB free)"
    return None


def where(url: str) -> str:
    """The database's file, or its URL without the password."""
    path = sqlite_path(url)
    return str(path) if path else make_url(url).render_as_string(hide_password=True)


def problem_of(url: str, exc: BaseException) -> str:
    """Why a database operation failed, in one line (no traceback, no SQLAlchemy boilerplate)."""
    path = sqlite_path(url)
    orig = getattr(exc, "orig", None) or exc
    return (diagnose(path) if path else None) or storage_problem(exc) or (str(orig).splitlines() or [repr(orig)])[0]


def describe(url: str, exc: BaseException) -> str:
    """One line naming the database and the problem, for the owner at a terminal."""
    return f"the database {where(url)}: {problem_of(url, exc)}"


def make_private(path: Path) -> None:
    """Take group and other bits off the database and its -wal/-shm (never adding any: a read-only file stays so).

    SQLite gives -wal and -shm the mode of the database file, so once claw.db is 0600 they are too; files made
    before (by an older claw, or under a loose umask) are fixed at the next connection.
    """
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(os.stat(p).st_mode)
            if mode & 0o077:
                os.chmod(p, mode & 0o700)
        except FileNotFoundError:
            continue
        except OSError as exc:  # owned by another user: `claw security audit` reports it
            log.warning("database.chmod_failed", path=str(p), error=exc.strerror or str(exc))


def make_engine(url: str) -> Engine:
    """The engine, with the database's folder and file created private (0700/0600) when claw creates them.

    Raises DatabaseError, in one line, when the folder cannot be made.
    """
    path = sqlite_path(url)
    if path is not None:
        try:
            if not path.parent.is_dir():
                path.parent.mkdir(mode=0o700, parents=True)
            if not path.exists():  # SQLite would create it with the umask's mode; an empty file is an empty database
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        except FileExistsError:
            pass  # made at the same moment by another process
        except OSError as exc:
            raise DatabaseError(f"cannot create the database {path}: {exc.strerror or exc}"
                                + (f" ({exc.filename})" if exc.filename and exc.filename != str(path) else "")) from None
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
            if path is not None:
                make_private(path)

    return engine


T = TypeVar("T")

#: Most writes committed together by ``tx_batched``.
BATCH_MAX = 256
_after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar("claw_after_commit", default=None)


def after_commit(fn: Callable[[], None]) -> None:
    """Run ``fn`` once the `Database` transaction running on this thread has committed (never after a rollback).

    SQLAlchemy's own "commit" event fires just before the commit: a thread woken from it could read the
    database before the rows it was told about are there, and miss them until the next wake."""
    callbacks = _after_commit.get()
    if callbacks is None:
        raise RuntimeError("after_commit() outside a Database transaction (tx, tx_batched, run_sync)")
    callbacks.append(fn)


def _committed(callbacks: list[Callable[[], None]]) -> None:
    for fn in callbacks:
        try:
            fn()
        except Exception:  # the transaction stands: a failed notification must not make it look failed
            log.exception("db.after_commit_failed")


#: How long a write probe's answer stands before the next health check asks for a new one (shorter while
#: failing, so a freed disk shows soon).
PROBE_TTL = 2.0
PROBE_TTL_FAILING = 1.0
#: A probe still queued behind the writer thread after this long means the storage hangs.
PROBE_STALL = 30.0

_probe_touch = health_probe.update().where(health_probe.c.id == 1).values(
    writes=health_probe.c.writes + 1, at=bindparam("now"))


class Database:
    """The engine plus one worker thread: ``await db.tx(fn)`` runs ``fn(conn)`` in a transaction.

    It also knows whether the storage takes writes (``probe``, ``storage_health``): a database that opens and
    reads fine can still refuse every write (disk full, read-only, I/O errors), and /healthz must say so.
    """

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claw-db")
        self._batch: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._flushing = False
        self._path = sqlite_path(url)
        self._health_lock = threading.Lock()
        self._problem: str | None = None  # the last storage problem seen, by a probe or by any failed statement
        self._probed_at = -math.inf
        self._probe_since: float | None = None
        self._failing_logged = False
        event.listen(self.engine, "handle_error", self._on_error)

    def _on_error(self, ctx: ExceptionContext) -> None:
        """Any failing statement on the engine (the pipeline's, memory's threads') that blames the storage: the
        health check says so at once (the caller reports its own failure; the next probe logs the state)."""
        problem = storage_problem(ctx.original_exception)
        if problem is not None:
            with self._health_lock:
                self._problem = problem

    def probe(self, quiet: bool = False) -> str | None:
        """Commit one tiny write (the path every write takes) and check free space; None if storage is fine,
        else the problem in words. Blocking: the daemon runs it on its writer thread, behind real writes.
        Logs when storage starts failing and when it recovers, unless ``quiet``."""
        try:
            with self.engine.begin() as conn:
                if conn.execute(_probe_touch, {"now": utcnow()}).rowcount == 0:
                    conn.execute(insert(health_probe).values(id=1, writes=1, at=utcnow()))
            problem = diagnose(self._path) if self._path else None
        except Exception as exc:
            problem = problem_of(self.url, exc)
        with self._health_lock:
            self._problem, self._probed_at, self._probe_since = problem, time.monotonic(), None
            changed = not quiet and (problem is not None) != self._failing_logged
            if changed:
                self._failing_logged = problem is not None
        if changed and problem is not None:
            log.error("database.storage_failed", database=where(self.url), problem=problem)
        elif changed:
            log.info("database.storage_recovered", database=where(self.url))
        return problem

    def check_writable(self) -> None:
        """For start-up: refuse storage that cannot take a write, in one line naming the file and the problem."""
        problem = self.probe(quiet=True)
        if problem is not None:
            raise DatabaseError(f"cannot write the database {where(self.url)}: {problem}")

    def storage_health(self) -> dict[str, Any]:
        """The last probe's answer, for /healthz. Never blocks (the event loop asks): when the answer is older
        than PROBE_TTL a fresh probe is queued on the writer thread, and the next check reports it."""
        now = time.monotonic()
        with self._health_lock:
            since, problem = self._probe_since, self._problem
            if since is None and now - self._probed_at > (PROBE_TTL_FAILING if problem else PROBE_TTL):
                try:
                    self._executor.submit(self.probe)
                    self._probe_since = now
                except RuntimeError:  # shut down: the daemon is stopping
                    pass
        name = self._path.name if self._path else "database"  # the file name only: health reports travel to monitors
        if since is not None and now - since > PROBE_STALL:
            return {"ok": False, "detail": f"{name}: a test write has waited {now - since:.0f} s (the disk hangs, "
                                           "or a long write holds the database)"}
        if problem is not None:
            return {"ok": False, "detail": f"{name}: {problem}"}
        return {"ok": True, "detail": f"{name}: writable"}

    async def tx(self, fn: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, fn)

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A transaction whose ``after_commit`` callbacks run once it has committed (none if it rolls back)."""
        callbacks: list[Callable[[], None]] = []
        token = _after_commit.set(callbacks)
        try:
            with self.engine.begin() as conn:
                yield conn
        finally:
            _after_commit.reset(token)
        _committed(callbacks)

    def _run(self, fn: Callable[[Connection], T]) -> T:
        with self._begin() as conn:
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
            with self._begin() as conn:
                return [(True, fn(conn)) for fn in fns]
        except Exception as exc:
            if is_busy(exc):  # another process holds the lock: alone, each would wait busy_timeout again
                return [(False, exc)] * len(fns)
            return [self._run_alone(fn) for fn in fns]  # rolled back: each again, alone (its callbacks too)

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
