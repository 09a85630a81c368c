"""Storage: SQLAlchemy Core tables in one SQLite database (WAL), and an async facade.

SQLite work is short and synchronous; the daemon runs it on one dedicated
thread so the event loop never blocks and writes never race each other.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    insert,
    select,

)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

SCHEMA_VERSION = 3

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

conversations = Table(
    "conversations",
    metadata,
    Column("id", String, primary_key=True),  # "<channel>:<peer>"
    Column("channel", String, nullable=False),
    Column("peer", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String, nullable=False),
    Column("external_id", String, nullable=False),
    Column("conversation_id", String, ForeignKey("conversations.id"), nullable=False),
    Column("sender", String, nullable=False),
    Column("origin", String, nullable=False, default="user"),  # user | scheduler
    Column("text", Text, nullable=False),
    Column("payload", JSON, nullable=False, default=dict),  # media, task id, channel extras
    Column("status", String, nullable=False, default="pending"),  # pending | done
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("result", JSON),  # {"handled_by", "actions", "services"}
    UniqueConstraint("channel", "external_id", name="uq_inbox_channel_external"),
)
Index("ix_inbox_status", inbox.c.status, inbox.c.id)
Index("ix_inbox_pending", inbox.c.status, inbox.c.conversation_id, inbox.c.id)  # the dispatcher's next-row lookup

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("inbox_id", Integer, ForeignKey("inbox.id")),
    Column("conversation_id", String, ForeignKey("conversations.id"), nullable=False),
    Column("channel", String, nullable=False),
    Column("recipient", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("payload", JSON, nullable=False, default=dict),  # media urls, parts, channel extras
    Column("status", String, nullable=False, default="pending"),  # pending | sending | sent | held | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("external_id", String),  # the channel's id for the sent message, for reconciliation
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)
Index("ix_outbox_status", outbox.c.status, outbox.c.id)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String, ForeignKey("conversations.id"), nullable=False),
    Column("role", String, nullable=False),  # user | assistant | event
    Column("text", Text, nullable=False),
    Column("inbox_id", Integer, ForeignKey("inbox.id")),
    Column("meta", JSON, nullable=False, default=dict),  # actions, handled_by, origin
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_messages_conversation", messages.c.conversation_id, messages.c.id)

turn_steps = Table(
    "turn_steps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("inbox_id", Integer, ForeignKey("inbox.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String, nullable=False),  # llm | tool_start | tool_result
    Column("data", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("inbox_id", "seq", name="uq_turn_steps_seq"),
)

pending_actions = Table(
    "pending_actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String, ForeignKey("conversations.id"), nullable=False),
    Column("tool", String, nullable=False),
    Column("args", JSON, nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String, nullable=False, default="waiting"),  # waiting | done | cancelled | expired
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

usage = Table(
    "usage",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("conversation_id", String),
    Column("inbox_id", Integer),
    Column("task_id", Integer),
    Column("purpose", String, nullable=False, default="turn"),  # turn | consolidation | vision | task
    Column("provider", String, nullable=False),
    Column("model", String, nullable=False),
    Column("input_tokens", Integer, nullable=False, default=0),
    Column("output_tokens", Integer, nullable=False, default=0),
    Column("cache_read_tokens", Integer, nullable=False, default=0),
    Column("cache_write_tokens", Integer, nullable=False, default=0),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("ok", Boolean, nullable=False, default=True),
)
Index("ix_usage_at", usage.c.at)

# Who may talk to the claw on a channel beyond the configured list (claw.core.pairing).
pairing_codes = Table(
    "pairing_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String, nullable=False),
    Column("address", String, nullable=False),  # e.g. "+15551234567"
    Column("name", String),  # the sender's profile name, as they gave it
    Column("code", String, nullable=False, unique=True),
    Column("status", String, nullable=False, default="pending"),  # pending | approved
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_pairing_codes_address", pairing_codes.c.channel, pairing_codes.c.address)

allowed_senders = Table(
    "allowed_senders",
    metadata,
    Column("channel", String, primary_key=True),
    Column("address", String, primary_key=True),
    Column("name", String),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("via", String, nullable=False),  # the pairing code, or "cli"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


def add_missing_columns(conn: Connection) -> list[str]:
    """Add columns the code knows but an older database lacks (``create_all`` only creates whole tables).

    SQLite can add a column in place when it is nullable or has a constant default; a NOT NULL column
    without one needs a hand-written step in ``MIGRATIONS``, so it stops start-up with a clear message.
    """
    added = []
    for table in metadata.sorted_tables:
        have = {row[1] for row in conn.exec_driver_sql(f'PRAGMA table_info("{table.name}")')}
        if not have:
            continue  # created whole by create_all
        for column in table.columns:
            if column.name in have:
                continue
            ddl = f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {column.type.compile(dialect=conn.dialect)}'
            default = column.default.arg if column.default is not None and column.default.is_scalar else None
            if default is not None:
                literal = json.dumps(default, ensure_ascii=False) if isinstance(default, (dict, list)) else default
                if isinstance(literal, bool):
                    literal = int(literal)
                ddl += " NOT NULL DEFAULT " + (f"'{literal}'" if isinstance(literal, str) else str(literal))
            elif not column.nullable:
                raise DatabaseError(f"cannot upgrade {table.name}: new column {column.name} is NOT NULL without a default")
            conn.exec_driver_sql(ddl)
            added.append(f"{table.name}.{column.name}")
    return added


def add_missing_indexes(conn: Connection) -> None:
    """Create indexes the code knows but an older database lacks (``create_all`` skips existing tables)."""
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


#: version -> the step that upgrades a database from version - 1. Steps run in order, in one transaction.
#: 2: columns added to existing tables since version 1 are added in place (new tables come from create_all).
#: 3: indexes added to existing tables (the dispatcher's per-conversation pending lookup).
MIGRATIONS: dict[int, Callable[[Connection], Any]] = {2: add_missing_columns, 3: add_missing_indexes}


def migrate(engine: Engine) -> None:
    """Create the schema, or upgrade an older one in place (one transaction: all steps or none)."""
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            version = conn.execute(select(schema_version.c.version)).scalar()
            if version is None:
                conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))
            elif version > SCHEMA_VERSION:
                raise DatabaseError(
                    f"the database was written by a newer claw (schema {version}, this one knows {SCHEMA_VERSION})"
                )
            elif version < SCHEMA_VERSION:
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    MIGRATIONS[step](conn)
                conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
    except OperationalError as exc:
        raise DatabaseError(f"cannot open the database at {engine.url}: {exc.orig}") from None
    except Exception as exc:  # a corrupt file surfaces as DatabaseError from the driver
        if isinstance(exc, DatabaseError):
            raise
        raise DatabaseError(f"cannot open the database at {engine.url}: {exc}") from None


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

    def migrate(self) -> None:
        migrate(self.engine)

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
        rolled back and each function re-runs in a transaction of its own, so
        one bad write cannot fail the others.
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
        try:
            with self.engine.begin() as conn:
                return [(True, fn(conn)) for fn in fns]
        except Exception:
            if len(fns) == 1:
                return [self._run_alone(fns[0])]
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


def ensure_conversation(conn: Connection, channel: str, peer: str) -> str:
    conv_id = f"{channel}:{peer}"
    now = utcnow()
    updated = conn.execute(_touch_conversation, {"conv_id": conv_id, "now": now})
    if updated.rowcount == 0:
        conn.execute(insert(conversations).values(id=conv_id, channel=channel, peer=peer, created_at=now, updated_at=now))
    return conv_id
