from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import create_engine, text

from memory import Hit, MemoryStore
from memory.schema import SCHEMA_VERSION

T0 = datetime(2024, 5, 1, 12, 0)


def test_add_and_search_round_trip(store: MemoryStore) -> None:
    meta = {"k": "v", "n": [1, 2.5, None, True], "nested": {"ü": "ß"}}
    eid = store.add_episode("We went camping at Lake Tahoe", conversation="c1", speaker="owner", at=T0, meta=meta)
    assert isinstance(eid, int)
    hits = store.search("when did we go camping?", k=10, conversation="c1", after=None, before=None)
    assert [h.id for h in hits] == [eid]
    h = hits[0]
    assert isinstance(h, Hit)
    assert (h.text, h.speaker, h.conversation) == ("We went camping at Lake Tahoe", "owner", "c1")
    assert h.meta == meta
    assert h.at == T0.replace(tzinfo=UTC) and h.at.tzinfo is not None
    assert h.score > 0


def test_meta_round_trips_exactly(store: MemoryStore) -> None:
    for meta in (None, {}, [], "s", 3, 0.1, {"a": {"b": [1, {"c": "d"}]}, "emoji": "🦀"}):
        eid = store.add_episode("x", meta=meta)
        assert store.get_episode(eid).meta == meta  # type: ignore[union-attr]


def test_naive_means_utc_and_aware_is_converted(store: MemoryStore) -> None:
    naive = store.add_episode("naive", at=datetime(2024, 1, 1, 10, 0))
    aware = store.add_episode("aware", at=datetime(2024, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))))
    a, b = store.get_episode(naive), store.get_episode(aware)
    assert a.at == b.at == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)  # type: ignore[union-attr]
    assert a.at.utcoffset() == timedelta(0)  # type: ignore[union-attr]


def test_add_episodes_bulk_and_filters(store: MemoryStore) -> None:
    ids = store.add_episodes([
        {"text": f"the heating was set to {20 + i} degrees", "conversation": "c1" if i % 2 else "c2",
         "speaker": "owner", "at": T0 + timedelta(days=i), "meta": {"i": i}} for i in range(6)])
    assert len(ids) == 6 and ids == sorted(ids)
    assert {h.conversation for h in store.search("heating", conversation="c1")} == {"c1"}
    hits = store.search("heating", after=T0 + timedelta(days=2), before=T0 + timedelta(days=4))
    assert sorted(h.meta["i"] for h in hits) == [2, 3]
    assert store.add_episodes([]) == []


def test_speaker_is_searchable_and_filterable(store: MemoryStore) -> None:
    store.add_episode("I love jazz in the evening", speaker="Sam")
    store.add_episode("play some jazz please", speaker="owner")
    assert store.search("what did Sam say about jazz?")[0].speaker == "Sam"  # name is indexed
    assert [h.speaker for h in store.search("jazz", speaker="owner")] == ["owner"]


def test_question_is_not_an_and_query_and_stems(store: MemoryStore) -> None:
    target = store.add_episode("Dropped the kids off at swimming lessons", at=T0)
    store.add_episode("The weather is nice", at=T0)
    hits = store.search("Where do the children swim on Saturdays?")
    assert hits and hits[0].id == target


def test_date_expressions_relative_to_now(store: MemoryStore) -> None:
    now = datetime(2024, 5, 15, 18, 0, tzinfo=UTC)  # a Wednesday
    tue = store.add_episode("ordered pizza for dinner", at=datetime(2024, 5, 14, 19, 0))
    old = store.add_episode("ordered pizza for dinner", at=datetime(2024, 3, 2, 19, 0))
    assert store.search("what did we eat for dinner last Tuesday?", now=now)[0].id == tue
    assert store.search("pizza in March", now=now)[0].id == old
    ids = [h.id for h in store.search("what happened yesterday?", now=now)]
    assert ids == [tue]


def test_latest_prefers_newest(store: MemoryStore) -> None:
    store.add_episode("the wifi password is hunter2 for the guest network", at=T0)
    new = store.add_episode("wifi password changed, it is now swordfish", at=T0 + timedelta(days=60))
    assert store.search("what is the latest wifi password?")[0].id == new


def test_recent_since_and_neighbors(store: MemoryStore) -> None:
    ids = store.add_episodes([{"text": f"turn {i} about the garden" if i == 5 else f"turn {i}",
                               "conversation": "c", "at": T0 + timedelta(minutes=i)} for i in range(10)])
    assert [h.id for h in store.recent("c", limit=3)] == ids[-3:]
    assert [h.id for h in store.episodes_since(ids[6])] == ids[7:]
    hit = store.search("garden", neighbors=2)[0]
    assert [h.id for h in hit.context] == [ids[3], ids[4], ids[6], ids[7]]


def test_unicode_and_very_long_text(store: MemoryStore) -> None:
    long_text = ("lorem ipsum " * 20000) + "zanzibar"
    eid = store.add_episode(long_text)
    u = store.add_episode("Ich war im Café in Zürich 🇨🇭 — 東京 trip", meta={"ключ": "значение"})
    assert store.get_episode(eid).text == long_text  # type: ignore[union-attr]
    assert store.search("zanzibar")[0].id == eid
    assert store.search("cafe zurich")[0].id == u
    assert store.search("東京")[0].id == u
    assert store.get_episode(u).meta == {"ключ": "значение"}  # type: ignore[union-attr]


def test_odd_queries_do_not_crash(store: MemoryStore) -> None:
    store.add_episode('a "quoted" thing AND OR NOT (x) * ^ -y')
    for q in ['"', "AND", "(", "*", "NEAR(", "", "   ", "what?", 'x" OR "y', "-y"]:
        store.search(q)
    assert store.search("x", k=0) == []


def test_forget_episode_removes_from_every_index(store: MemoryStore) -> None:
    keep = store.add_episode("the spare key is under the blue flowerpot")
    gone = store.add_episode("my bank pin is quixotic4321 secret")
    store.add_episode("another quixotic remark")
    assert store.forget_episode(gone)
    assert not store.forget_episode(gone)
    assert store.get_episode(gone) is None
    assert store.forget_episodes_matching("QUIXOTIC") and not store.search("quixotic")
    with store.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM memory_episodes_fts WHERE memory_episodes_fts MATCH 'quixotic'")).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM memory_episodes_vocab WHERE term LIKE 'quixot%'")).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM memory_episodes WHERE text LIKE '%quixotic%'")).scalar() == 0
        c.execute(text("INSERT INTO memory_episodes_fts(memory_episodes_fts) VALUES ('integrity-check')"))
    assert store.search("flowerpot")[0].id == keep


def test_schema_version_wal_and_shared_engine(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'claw.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE inbox (id INTEGER PRIMARY KEY)"))
    s = MemoryStore(engine)
    s.add_episode("hello")
    s.close()
    with engine.connect() as c:
        assert c.execute(text("SELECT version FROM memory_schema")).scalar() == SCHEMA_VERSION
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        tables = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert "inbox" in tables and all(t.startswith("memory_") or t == "inbox" for t in tables)
    again = MemoryStore(engine)  # reopening an existing schema is a no-op
    assert again.search("hello")
    again.close()
    engine.dispose()


def test_add_inside_callers_transaction(store: MemoryStore) -> None:
    with store.engine.begin() as conn:
        eid = store.add_episode("inside the turn", conn=conn)
    assert store.get_episode(eid) is not None
    try:
        with store.engine.begin() as conn:
            store.add_episode("rolled back", conn=conn)
            raise RuntimeError
    except RuntimeError:
        pass
    assert all(h.text != "rolled back" for h in store.search("rolled back"))


def test_export_import_round_trip_is_idempotent(store: MemoryStore, tmp_path) -> None:
    e1 = store.add_episode("Sam likes oat milk", speaker="owner", at=T0, meta={"a": 1})
    store.add_episode("ok", speaker="claw", at=T0 + timedelta(seconds=1))
    f1 = store.remember("Sam likes oat milk", subject="Sam", source_episode_ids=[e1], pinned=True, at=T0)
    store.supersede(f1, "Sam likes almond milk", at=T0 + timedelta(days=30))
    store.set_summary("default", "talked about milk", e1)
    store.set_digest("2024-05-01", "a quiet day")
    store.set_mark("default", e1)
    buf = io.StringIO()
    n = store.export_jsonl(buf)
    assert n == len(buf.getvalue().splitlines()) == 7
    assert all(json.loads(line)["type"] for line in buf.getvalue().splitlines())

    other = MemoryStore(f"sqlite:///{tmp_path / 'other.db'}")
    first = other.import_jsonl(io.StringIO(buf.getvalue()))
    assert first == {"episode": 2, "fact": 2, "summary": 1, "digest": 1, "mark": 1}
    second = other.import_jsonl(io.StringIO(buf.getvalue()))
    assert sum(second.values()) == 0
    assert store.import_jsonl(io.StringIO(buf.getvalue())) == {k: 0 for k in first}
    out = io.StringIO()
    other.export_jsonl(out)
    assert out.getvalue() == buf.getvalue()
    assert other.search("oat milk")[0].meta == {"a": 1}
    assert [f.statement for f in other.facts()] == ["Sam likes almond milk"]
    other.close()


def _vocab(store: MemoryStore) -> dict[str, int]:
    with store.engine.connect() as c:
        return {t: d for t, d in c.execute(text("SELECT term, doc FROM memory_episodes_vocab")) if d}


def _terms(store: MemoryStore) -> dict[str, int]:
    with store.engine.connect() as c:
        return {s: d for s, d in c.execute(text("SELECT stem, docs FROM memory_terms")) if d}


def test_term_counts_follow_the_index_through_writes_imports_and_forgets(store: MemoryStore) -> None:
    """Searches read episodes-per-stem from `memory_terms` (FTS5's own count walks a word's whole posting list):
    it must say what the index says, whatever wrote or deleted."""
    ids = store.add_episodes([{"text": t, "speaker": s} for s, t in [
        ("Ann", "Camping by the lake, the lakes were cold"), ("Bob", "Camped again! Café au lait"),
        ("Ann", "don't forget the tent's poles"), ("", "numbers 42 and x_y")]])
    store.add_episode("the lake again", speaker="Ann")
    assert _terms(store) == _vocab(store)
    store.forget_episodes(ids[:2])
    assert _terms(store) == _vocab(store)
    with store.engine.connect() as c:  # a forgotten word leaves no row behind, not even a zero count
        assert c.execute(text("SELECT count(*) FROM memory_terms WHERE stem = 'lait' OR docs <= 0")).scalar() == 0
    out = io.StringIO()
    store.export_jsonl(out)
    other = MemoryStore("sqlite://")
    other.import_jsonl(io.StringIO(out.getvalue()))
    assert _terms(other) == _vocab(other) == _vocab(store)
    other.close()


def test_an_older_database_gets_its_term_counts_from_the_index(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    s = MemoryStore(url)
    s.add_episodes([{"text": "the boiler was serviced"}, {"text": "boilers and kettles"}])
    with s.engine.begin() as c:  # as a version 1 database left it
        c.execute(text("DROP TABLE memory_terms"))
        c.execute(text("UPDATE memory_schema SET version = 1"))
    s.close()
    again = MemoryStore(url)
    assert _terms(again) == _vocab(again) and _terms(again)["boiler"] == 2
    again.close()


def test_an_older_database_gives_no_id_a_mark_has_passed(tmp_path) -> None:
    """Deletions before version 4 are not known; the ids a consolidation mark has passed are not given again."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    s = MemoryStore(url)
    ids = s.add_episodes([{"text": "one", "conversation": "c"}, {"text": "two", "conversation": "c"}])
    s.set_mark("c", ids[-1])
    with s.engine.begin() as c:  # as a version 3 database left it, the newest episode forgotten
        c.execute(text("DELETE FROM memory_episodes WHERE id = :i"), {"i": ids[-1]})
        c.execute(text("DROP TABLE memory_counters"))
        for trigger in ("vectors_counted_insert", "vectors_counted_update", "vectors_counted_delete",
                        "episodes_counted_delete"):
            c.execute(text(f"DROP TRIGGER memory_{trigger}"))
        c.execute(text("UPDATE memory_schema SET version = 3"))
    s.close()
    again = MemoryStore(url)
    new = again.add_episode("three", conversation="c")
    assert new > ids[-1] and [h.id for h in again.episodes_since(again.get_mark("c"), conversation="c")] == [new]
    again.close()


def test_a_forgotten_newest_episodes_id_is_not_given_again(store: MemoryStore, db_url: str) -> None:
    """SQLite would give the next episode the forgotten newest one's id, and with it what was cached or marked
    for that id: consolidation would take the new episode for one it has seen."""
    store.add_episode("we saw a zebra and a giraffe", conversation="c")
    old = store.add_episode("the giraffe was tall, a giraffe indeed", conversation="c")
    assert store.search("giraffe")
    store.set_mark("c", old)
    MemoryStore(db_url).forget_episode(old)  # another process (`claw memory forget` while the daemon runs)
    new, newer = store.add_episodes([{"text": "a kangaroo hopped past", "conversation": "c"}, {"text": "hop"}])
    assert old < new < newer
    assert [h.id for h in store.search("kangaroo")] == [new]
    assert [h.id for h in store.episodes_since(store.get_mark("c"), conversation="c")] == [new]


def test_pseudo_relevance_feedback_widens_a_search(tmp_path) -> None:
    """Off by default (it did not pay on the banks), but a knob that is there must work."""
    from memory import SearchParams

    for prf, joins in ((0, False), (3, True)):
        s = MemoryStore(f"sqlite:///{tmp_path / f'prf{prf}.db'}", params=SearchParams(prf_terms=prf, prf_docs=2))
        ids = s.add_episodes([{"text": t} for t in ["we went camping by the lake with the kayak",
                                                     "camping again, the kayak leaked at the lake",
                                                     "the kayak paddle snapped on the reservoir",
                                                     "the weather is nice"]][::-1])[::-1]  # no turn follows another
        found = [h.id for h in s.search("camping trip", k=4)]
        assert set(found[:2]) == set(ids[:2]) and (ids[2] in found) == joins and ids[3] not in found
        s.close()
