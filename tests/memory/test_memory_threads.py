"""Caches shared by the writer thread and search threads: a writer resetting them at the worst
moment (forced here deterministically) must not break a search or leave stale data behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from memory import MemoryStore
from memory.query import QTerm
from memory.text import Analyzer


def embed(texts: list[str]) -> list[list[float]]:
    """Toy embedder: "automobile" and the car words share a dimension, the rest another."""
    return [[1.0, 0.1] if {"automobile", "sedan", "minivan"} & set(t.lower().split()) else [0.1, 1.0]
            for t in texts]


def similar(s: MemoryStore, query: list[float]) -> dict[int, float]:
    """What a search asks of the vectors: the nearest, given the change count it read."""
    with s.engine.connect() as c:
        return s._similar(query, 10, None, MemoryStore._vector_changes(c))


class _Interleaved(dict[str, int]):
    """A document-frequency cache that lets the "writer" run right after every lookup: the
    thread switch that can happen between a search's `in` check and its read."""

    def __init__(self, data: dict[str, int], writer: Callable[[], None]) -> None:
        super().__init__(data)
        self.writer = writer

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key)
        self.writer()
        return found

    def get(self, key: str, default: Any = None) -> Any:
        got = super().get(key, default)
        self.writer()
        return got


def test_df_cache_reset_by_the_writer_mid_lookup(store: MemoryStore) -> None:
    store.add_episodes([{"text": f"camping trip number {i} by the lake"} for i in range(40)]
                       + [{"text": "a quiet day at home"}] * 10)
    assert store.search("camping lake", k=3)  # fills the statistics and the df cache
    r = store.ranker
    terms = [QTerm("camping", "camp", 1.0), QTerm("lake", "lake", 1.0), QTerm("quiet", "quiet", 1.0)]
    with store.engine.connect() as c:
        want = r.df(c, terms)
        assert want == {"camp": 40, "lake": 40, "quiet": 10}
        resets = 0

        def writer() -> None:  # another thread's add_episodes: +10% episodes resets the df cache
            nonlocal resets
            resets += 1
            r.added(r._stats[1] // 10 + 1, ())

        for _ in range(3):
            r._df = _Interleaved(dict(want), writer)
            assert r.df(c, terms) == want
        assert resets >= 3


def test_vector_cache_loaded_while_a_vector_is_committed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A search reads the vectors; before it keeps them, the filler thread commits a new one: the new vector
    joins the kept matrix (once), so the next search finds it."""
    s = MemoryStore(f"sqlite:///{tmp_path / 'v.db'}", embeddings=embed)
    s.add_episode("The kitten knocked over a plant")
    s.embed_pending()
    car = s.add_episode("Traded the old sedan for a minivan")
    query = embed(["automobile"])[0]
    real_tx = s._tx
    filler: list[threading.Thread] = []

    def stored() -> int:
        with s.engine.connect() as c:
            return int(c.exec_driver_sql("SELECT count(*) FROM memory_vectors").scalar() or 0)

    @contextmanager
    def tx(conn: Connection | None = None) -> Iterator[Connection]:
        with real_tx(conn) as c:
            yield c
        if not filler:  # the search has read the vectors and not kept them yet
            filler.append(threading.Thread(target=s.embed_pending))
            filler[0].start()
            deadline = time.monotonic() + 10
            while stored() < 2 and time.monotonic() < deadline:  # committed; now it waits to add it
                time.sleep(0.01)

    reads: list[int] = []
    real_read = s._read_vectors
    monkeypatch.setattr(s, "_read_vectors", lambda: reads.append(1) or real_read())
    monkeypatch.setattr(s, "_tx", tx)
    assert car not in similar(s, query)  # read before the commit: fine for this search...
    monkeypatch.setattr(s, "_tx", real_tx)
    filler[0].join(10)
    assert car in similar(s, query)  # ...and the next one has it
    assert reads == [1]  # joined the matrix, not read again
    v = s._vec_cache
    assert v is not None and sorted(v.ids[:v.n].tolist()) == [1, car]  # not twice
    assert s.search("what automobile do we have?", k=1)[0].id == car
    s.close()


def test_a_vector_the_search_already_read_is_not_added_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other order: the filler commits, a search reads the vectors (the new one among them), then the filler
    adds what it committed."""
    s = MemoryStore(f"sqlite:///{tmp_path / 'v.db'}", embeddings=embed)
    s.add_episode("The kitten knocked over a plant")
    s.embed_pending()
    similar(s, embed(["cat"])[0])  # the matrix is loaded
    car = s.add_episode("Traded the old sedan for a minivan")
    late: list[Any] = []
    monkeypatch.setattr(s, "_vectors_added", lambda *args: late.append(args))
    assert s.embed_pending() == 1
    monkeypatch.undo()
    s._vectors_changed()  # e.g. a forget elsewhere: the next search reads every vector, the new one too
    similar(s, embed(["automobile"])[0])
    s._vectors_added(*late[0])
    v = s._vec_cache
    assert v is not None and sorted(v.ids[:v.n].tolist()) == [1, car]
    s.close()


def test_stem_cache_reset_keeps_the_words_already_looked_up() -> None:
    # A full stem cache is reset while a call still needs words it found there (a search thread's
    # lookup and the writer's reset interleave the same way): they must not go missing.
    an = Analyzer(max_cache=2)
    assert an.stems(["camping", "lakes", "guitars"]) == {"camping": "camp", "lakes": "lake", "guitars": "guitar"}
    assert an.stems(["camping", "pianos"]) == {"camping": "camp", "pianos": "piano"}
    assert an.tokens("Camping by the lakes") == ["camp", "by", "the", "lake"]
    an.close()
