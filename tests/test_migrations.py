"""Named migrations: a first-release database is upgraded in place to exactly the schema a fresh one gets."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from claw.store import migrations
from claw.store.db import DatabaseError, make_engine
from tests.conftest import anthropic_config
from tests.fakes.llm import Reply
from tests.test_ops import rows

V1 = Path(__file__).parent / "fixtures" / "claw-v1.sql"


def v1_database(path: Path) -> Path:
    """What schema 1 (commit e3f945b) wrote, with one finished exchange and one message still pending."""
    con = sqlite3.connect(path)
    con.executescript(V1.read_text())
    con.close()
    return path


def shape(path: Path) -> dict[str, object]:
    """Tables, their columns (type, nullability) and indexes, as the database reports them."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        insp = inspect(engine)
        return {t: ({c["name"]: (str(c["type"]), c["nullable"]) for c in insp.get_columns(t)},
                    sorted((i["name"], tuple(i["column_names"])) for i in insp.get_indexes(t)))
                for t in insp.get_table_names() if t != "claw_migrations"}
    finally:
        engine.dispose()


def test_a_first_release_database_upgrades_to_the_fresh_schema(tmp_path: Path) -> None:
    old = v1_database(tmp_path / "old.db")
    engine = make_engine(f"sqlite:///{old}")
    ran = migrations.migrate(engine)
    engine.dispose()
    assert ran == [fn.__name__ for fn in migrations.MIGRATIONS]
    fresh_engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrations.migrate(fresh_engine)
    fresh_engine.dispose()
    assert shape(old) == shape(tmp_path / "fresh.db")
    assert "schema_version" not in shape(old)
    assert rows(old, "select name from claw_migrations order by name") == sorted((n,) for n in ran)
    assert rows(old, "select id, status from inbox order by id") == [(1, "done"), (2, "pending")]


def test_each_step_runs_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'claw.db'}")
    assert len(migrations.migrate(engine)) == len(migrations.MIGRATIONS)
    assert migrations.migrate(engine) == []
    engine.dispose()


@pytest.fixture
def extra_step() -> Iterator[list[migrations.Step]]:
    """Steps appended to the list for one test, as a later release would."""
    added: list[migrations.Step] = []
    yield added
    for step in added:
        migrations.MIGRATIONS.remove(step)


def test_a_failing_step_leaves_the_database_as_it_was(tmp_path: Path, extra_step: list[migrations.Step]) -> None:
    path = v1_database(tmp_path / "claw.db")
    before = shape(path)

    def m900_half_done(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE half_done (id INTEGER)")
        raise RuntimeError("disk on fire")

    extra_step.append(migrations.migration(m900_half_done))
    engine = make_engine(f"sqlite:///{path}")
    with pytest.raises(DatabaseError, match="disk on fire"):
        migrations.migrate(engine)
    engine.dispose()
    assert shape(path) == before  # no step of this run is kept, not even the ones before the failure


def test_a_database_from_a_newer_claw_is_refused_untouched(tmp_path: Path, extra_step: list[migrations.Step]) -> None:
    def m901_from_the_future(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE future (id INTEGER)")

    extra_step.append(migrations.migration(m901_from_the_future))
    engine = make_engine(f"sqlite:///{tmp_path / 'claw.db'}")
    migrations.migrate(engine)
    migrations.MIGRATIONS.remove(m901_from_the_future)
    extra_step.clear()
    before = shape(tmp_path / "claw.db")
    with pytest.raises(DatabaseError, match="newer claw.*m901_from_the_future"):
        migrations.migrate(engine)
    engine.dispose()
    assert shape(tmp_path / "claw.db") == before


def test_the_daemon_upgrades_a_first_release_database_and_carries_on(fake_llm, daemon_factory) -> None:
    fake_llm.responder = lambda req: Reply(text="Yes, still here.")
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    v1_database(d.home / "claw.db")
    d.start()
    replies = d.wait_for_replies(2)
    assert [r["text"] for r in replies] == ["Noted: boiler code 1234.", "Yes, still here."]
    assert len(fake_llm.requests) == 1  # the finished exchange was not replayed
    assert {"pairing_codes", "tasks", "memory_episodes"} <= {r[0] for r in rows(
        d.home / "claw.db", "select name from sqlite_master where type = 'table'")}
