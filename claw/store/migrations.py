"""Named, append-only schema migrations, recorded in ``claw_migrations`` (after simonw/llm's ``migrations.py``).

Each step runs once, in order, in one transaction with the record of its name,
so an upgrade is all or nothing and ``claw_migrations`` says which ran. Never
edit, rename or reorder a step that has shipped: append a new one.

Steps create tables from the current definitions in ``claw.store.schema``
(``checkfirst``). A step that changes an existing table adds only what is
missing (a column, an index), so it is a no-op on a fresh database, whose
tables were created with it already. A fresh database and one upgraded from the
first release end up with the same schema: ``tests/test_migrations.py`` checks
exactly that. Everything here is SQLAlchemy Core, so another database behind
``database_url`` stays possible.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Engine, Index, MetaData, String, Table, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateColumn

from claw.store import schema
from claw.store.db import DatabaseError, describe, utcnow

Step = Callable[[Connection], None]
MIGRATIONS: list[Step] = []

applied = Table("claw_migrations", MetaData(), Column("name", String, primary_key=True),
                Column("applied_at", String, nullable=False))


def migration(fn: Step) -> Step:
    MIGRATIONS.append(fn)
    return fn


def _create(conn: Connection, *tables: Table) -> None:
    for table in tables:
        table.create(conn, checkfirst=True)


def _add_index(conn: Connection, index: Index) -> None:
    index.create(conn, checkfirst=True)


def _add_column(conn: Connection, table: Table, name: str) -> None:
    """Add ``table``'s column ``name`` (as defined now) unless it is there (a fresh database has it)."""
    if name in {c["name"] for c in inspect(conn).get_columns(table.name)}:
        return
    column = CreateColumn(table.c[name]).compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column}")


@migration
def m001_core_tables(conn: Connection) -> None:
    """The first release: conversations, inbox, outbox, transcript, turn journal, confirmations, usage."""
    _create(conn, schema.conversations, schema.inbox, schema.outbox, schema.messages, schema.turn_steps,
            schema.pending_actions, schema.usage)


@migration
def m002_pairing(conn: Connection) -> None:
    """Who may talk to claw beyond a channel's configured list."""
    _create(conn, schema.pairing_codes, schema.allowed_senders)


@migration
def m003_inbox_pending_index(conn: Connection) -> None:
    """The dispatcher's per-conversation lookup of the next pending message."""
    for index in schema.inbox.indexes:
        _add_index(conn, index)


@migration
def m004_tasks(conn: Connection) -> None:
    """Standing tasks, their runs, goal journals and notes."""
    _create(conn, schema.tasks, schema.task_runs, schema.task_journal, schema.task_notes)


@migration
def m005_tasks_table_is_the_schedule(conn: Connection) -> None:
    """APScheduler kept its own pickled job store; the tasks table is now the only record of the schedule."""
    for legacy in ("task_jobs", "schema_version"):  # schema_version: replaced by this table
        if inspect(conn).has_table(legacy):
            Table(legacy, MetaData()).drop(conn)


@migration
def m006_camera_watchers_are_tasks(conn: Connection) -> None:
    """Camera watchers kept in their own table (0.1 before tasks owned them) become tasks of kind "camera"."""
    if not inspect(conn).has_table("camera_watchers"):
        return
    legacy = Table("camera_watchers", MetaData(), autoload_with=conn)
    now = utcnow()
    for row in conn.execute(select(legacy)):
        spec = {k: getattr(row, k) for k in ("camera", "question", "trigger", "interval", "labels", "min_confidence",
                                             "cooldown")}
        spec["labels"] = list(spec["labels"] or [])
        conn.execute(insert(schema.tasks).values(
            kind="camera", title=f"{row.camera}: {row.question}"[:120], instruction=row.question, trigger=None,
            spec=spec, state=row.state or {}, status="active", created_by="chat", created_at=now, updated_at=now,
            rev=1, run_count=0, run_requests=0))
    legacy.drop(conn)


@migration
def m007_skill_state(conn: Connection) -> None:
    """Skills' own small records (adopted devices), so the owner's choices survive a restart without a config edit."""
    _create(conn, schema.skill_state)


@migration
def m008_pending_action_origin(conn: Connection) -> None:
    """What outside words came before a waiting action, so its question and its run both know."""
    _add_column(conn, schema.pending_actions, "origin")


@migration
def m009_health_probe(conn: Connection) -> None:
    """A one-row table the health check rewrites: a database can open and read while refusing every write."""
    _create(conn, schema.health_probe)


@migration
def m010_pairing_limits(conn: Connection) -> None:
    """When a stranger was sent their code and when the owner heard of them: the hourly limits read both."""
    _add_column(conn, schema.pairing_codes, "replied_at")
    _add_column(conn, schema.pairing_codes, "notified_at")


@migration
def m011_usage_estimate(conn: Connection) -> None:
    """The prompt tokens a budget check counted before the call, so `claw usage` shows the count's error."""
    _add_column(conn, schema.usage, "estimated_input")


def migrate(engine: Engine) -> list[str]:
    """Run the steps not yet recorded (blocking); returns their names. A newer database is refused untouched."""
    try:
        with engine.begin() as conn:
            applied.create(conn, checkfirst=True)
            done = set(conn.execute(select(applied.c.name)).scalars())
            known = {fn.__name__ for fn in MIGRATIONS}
            if unknown := sorted(done - known):
                raise DatabaseError(f"the database was written by a newer claw (migrations {', '.join(unknown)} "
                                    "are unknown to this one); upgrade claw")
            ran = []
            for step in MIGRATIONS:
                if step.__name__ not in done:
                    step(conn)
                    conn.execute(insert(applied).values(name=step.__name__, applied_at=utcnow().isoformat()))
                    ran.append(step.__name__)
            return ran
    except DatabaseError:
        raise
    except Exception as exc:  # a locked folder, a read-only or corrupt file, a full disk: from the driver
        url = engine.url.render_as_string(hide_password=False)
        raise DatabaseError(f"cannot open {describe(url, exc)}") from None
