from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memory import MemoryStore, StoreError


def test_corrupt_file_gives_store_error(tmp_path: Path) -> None:
    p = tmp_path / "bad.db"
    p.write_bytes(b"this is not an sqlite database at all" * 200)
    with pytest.raises(StoreError, match="corrupt or not an SQLite database"):
        MemoryStore(f"sqlite:///{p}")


def test_locked_database_gives_store_error(tmp_path: Path) -> None:
    p = tmp_path / "locked.db"
    s = MemoryStore(f"sqlite:///{p}", timeout=0.1)
    holder = sqlite3.connect(p, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            s.add_episode("blocked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    s.add_episode("fine now")
    s.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    MemoryStore(url).close()
    con = sqlite3.connect(tmp_path / "m.db")
    con.execute("UPDATE memory_schema SET version = 999")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer"):
        MemoryStore(url)


def test_bad_input_is_a_value_error(store: MemoryStore) -> None:
    with pytest.raises(ValueError):
        store.add_episode("x", meta={"bad": object()})
    with pytest.raises(ValueError):
        store.remember("   ")
    with pytest.raises(KeyError):
        store.supersede(12345, "nothing to supersede")
