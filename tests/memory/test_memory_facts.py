from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from memory import FactHit, MemoryStore

MAY = datetime(2024, 5, 10)
JUNE = datetime(2024, 6, 1)
NOW = datetime(2024, 7, 1)


def test_remember_and_search(store: MemoryStore) -> None:
    eid = store.add_episode("remember that the kitchen speaker is called Kitchen Sonos")
    fid = store.remember("Kitchen speaker is called Kitchen Sonos", subject="kitchen", source_episode_ids=[eid])
    store.remember("Prefers 21 C in the evening", subject="owner", pinned=True)
    hits = store.search_facts("what is the speaker in the kitchen called?")
    assert isinstance(hits[0], FactHit) and hits[0].id == fid
    assert hits[0].source_episode_ids == [eid] and hits[0].valid_to is None
    assert [f.statement for f in store.facts(pinned_only=True)] == ["Prefers 21 C in the evening"]
    assert store.remember("Kitchen speaker is called Kitchen Sonos", subject="kitchen") == fid  # no duplicate


def test_supersession_keeps_history(store: MemoryStore) -> None:
    old = store.remember("The owner's partner is Sam", subject="owner", at=datetime(2024, 1, 1))
    new = store.supersede(old, "The owner's partner is Alex", at=JUNE)
    now_hits = store.search_facts("who is the owner's partner?")
    assert [f.id for f in now_hits] == [new]
    may_hits = store.search_facts("who is the owner's partner?", at=MAY)
    assert [f.id for f in may_hits] == [old]
    closed = store.get_fact(old)
    assert closed is not None and closed.valid_to == JUNE.replace(tzinfo=UTC)
    assert closed.superseded_by == new
    assert {f.id for f in store.search_facts("partner", include_closed=True)} == {old, new}
    assert [f.id for f in store.facts(at=MAY)] == [old]
    assert [f.id for f in store.facts(at=NOW)] == [new]


def test_supersede_refuses_an_empty_statement(store: MemoryStore) -> None:
    """An empty replacement would close the old fact and leave nothing true in its place."""
    old = store.remember("The owner's partner is Sam")
    for blank in ("", "   "):
        with pytest.raises(ValueError, match="empty"):
            store.supersede(old, blank)
    fact = store.get_fact(old)
    assert fact is not None and fact.valid_to is None and fact.superseded_by is None
    assert len(store.facts()) == 1


def test_forget_facts_really_deletes(store: MemoryStore) -> None:
    a = store.remember("Alarm code is 4711 zebra")
    store.remember("Dentist on Friday")
    b = store.supersede(a, "Alarm code is 9000 zebra")
    assert store.forget(b)
    assert store.get_fact(a).superseded_by is None  # type: ignore[union-attr]
    assert store.forget_matching("ZEBRA") == [a]
    assert not store.search_facts("zebra", include_closed=True)
    with store.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM memory_facts_fts WHERE memory_facts_fts MATCH 'zebra'")).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM memory_facts WHERE statement LIKE '%zebra%'")).scalar() == 0
        c.execute(text("INSERT INTO memory_facts_fts(memory_facts_fts) VALUES ('integrity-check')"))
    assert [f.statement for f in store.facts()] == ["Dentist on Friday"]


def test_summaries_digests_and_marks(store: MemoryStore) -> None:
    assert store.get_summary("c1") is None and store.get_digest("2024-05-01") is None
    store.set_summary("c1", "v1", 3)
    store.set_summary("c1", "v2", 7)
    s = store.get_summary("c1")
    assert s is not None and (s.text, s.upto_episode_id) == ("v2", 7)
    store.set_digest(datetime(2024, 5, 1).date(), "quiet")
    assert store.get_digest("2024-05-01") == "quiet"
    assert store.get_mark("c1") == 0
    store.set_mark("c1", 9)
    assert store.get_mark("c1") == 9
