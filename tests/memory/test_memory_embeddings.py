from __future__ import annotations

import hashlib
import io
import math
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from memory import MemoryStore

pytest.importorskip("numpy")

# A toy "semantic" embedder: words of one concept share a dimension, so the vector path can
# find a turn that shares no word with the query (what lexical search cannot do).
CONCEPTS = {"automobile": 0, "car": 0, "sedan": 0, "minivan": 0, "feline": 1, "cat": 1, "kitten": 1,
            "zorblax": 0, "quixotl": 0}  # made-up words: no word table links them, only the vectors


def embed(texts: list[str]) -> list[list[float]]:
    out = []
    for t in texts:
        v = [0.0] * 16
        for w in t.lower().replace("?", " ").replace(".", " ").split():
            if w in CONCEPTS:
                v[CONCEPTS[w]] += 1.0
            else:
                v[2 + hashlib.md5(w.encode()).digest()[0] % 14] += 0.2
        out.append(v)
    return out


def test_embeddings_are_fused_with_text_rank(tmp_path: Path) -> None:
    s = MemoryStore(f"sqlite:///{tmp_path / 'e.db'}", embeddings=embed)
    car = s.add_episode("Traded the old sedan for a minivan")
    s.add_episode("The kitten knocked over a plant", conversation="other")
    s.add_episode("Lunch was nice today")
    assert s.embed_pending() == 3
    hits = s.search("what automobile do we have?", k=3)
    assert hits[0].id == car
    assert all(h.conversation == "default" for h in s.search("automobile", conversation="default"))
    s.forget_episode(car)
    assert car not in [h.id for h in s.search("what automobile do we have?")]
    buf = io.StringIO()
    s.export_jsonl(buf)
    other = MemoryStore(f"sqlite:///{tmp_path / 'f.db'}", embeddings=embed)
    other.import_jsonl(io.StringIO(buf.getvalue()))
    assert other.pending_embeddings() == 2
    assert other.embed_pending() == 2
    assert other.search("feline", k=1)[0].text == "The kitten knocked over a plant"
    s.close()
    other.close()


def test_default_has_no_vectors(store: MemoryStore) -> None:
    store.add_episode("hello")
    with store.engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM memory_vectors").scalar() == 0


def test_bad_embeddings_option(db_url: str) -> None:
    with pytest.raises(ValueError):
        MemoryStore(db_url, embeddings="openai")


def _vectors(s: MemoryStore) -> dict[int, bytes]:
    with s.engine.connect() as c:
        return dict(c.exec_driver_sql("SELECT episode_id, vec FROM memory_vectors").fetchall())


def test_add_episodes_never_embeds_and_embed_pending_holds_no_connection(db_url: str) -> None:
    calls: list[tuple[list[str], int]] = []

    def spy(texts: list[str]) -> Sequence[Sequence[float]]:
        pool = s.engine.pool
        assert isinstance(pool, QueuePool)
        calls.append((texts, pool.checkedout()))  # connections in use while the embedder runs
        return embed(texts)

    s = MemoryStore(db_url, embeddings=spy)
    with s.engine.begin() as conn:  # the daemon writes inside its own transaction
        a = s.add_episode("Traded the old sedan for a minivan", conn=conn)
        s.add_episodes([{"text": "The kitten knocked over a plant"}, {"text": "Lunch was nice"}], conn=conn)
    s.import_jsonl(io.StringIO(""))
    assert calls == [] and _vectors(s) == {} and s.pending_embeddings() == 3
    assert s.search("sedan", k=1)[0].id == a  # no vectors yet: still found by its words
    calls.clear()
    assert s.embed_pending(limit=2) == 2  # newest first
    assert calls == [(["Lunch was nice", "The kitten knocked over a plant"], 0)]
    assert s.pending_embeddings() == 1 and s.embed_pending() == 1 and s.embed_pending() == 0
    assert s.pending_embeddings() == 0 and set(_vectors(s)) == {a, a + 1, a + 2}
    assert s.search("what automobile do we have?", k=1)[0].id == a
    s.close()


def test_embed_pending_skips_episodes_forgotten_meanwhile(db_url: str) -> None:
    def forgetting(texts: list[str]) -> list[list[float]]:
        s.forget_episode(ids[1])  # the owner forgets it while the embedder runs
        return embed(texts)

    s = MemoryStore(db_url, embeddings=forgetting)
    ids = s.add_episodes([{"text": f"note {i}"} for i in range(3)])
    assert s.embed_pending() == 2
    assert set(_vectors(s)) == {ids[0], ids[2]} and s.pending_embeddings() == 0
    s.close()


def test_failed_embedding_stores_nothing_and_is_retried(db_url: str) -> None:
    state = {"fail": True}

    def flaky(texts: list[str]) -> list[list[float]]:
        if state["fail"]:
            raise ConnectionError("embedding server down")
        return embed(texts)

    s = MemoryStore(db_url, embeddings=flaky)
    s.add_episodes([{"text": "Traded the old sedan"}, {"text": "The kitten slept"}])  # no embedding: no error
    with pytest.raises(ConnectionError):
        s.embed_pending()
    assert _vectors(s) == {} and s.pending_embeddings() == 2
    state["fail"] = False
    assert s.embed_pending() == 2 and s.pending_embeddings() == 0
    s.close()


def test_zero_vectors_are_failures_not_vectors(db_url: str) -> None:
    # An embedder may answer a failed call with zero vectors (claw's HttpEmbedder does): not stored.
    out: list[list[float]] = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    s = MemoryStore(db_url, embeddings=lambda texts: out[:len(texts)])
    a, b = s.add_episodes([{"text": "one"}, {"text": "two"}])
    assert s.embed_pending() == 1 and set(_vectors(s)) == {a} and s.pending_embeddings() == 1
    s.close()


BAD: list[Any] = [
    [[1.0, 2.0]],                    # one vector for two texts
    [[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]],
    [[1.0, 2.0], [1.0, 2.0, 3.0]],   # unequal dimensions
    [[], []],                        # zero dimensions
    [[1.0, math.nan], [1.0, 2.0]],
    [[1.0, math.inf], [1.0, 2.0]],
    [[1.0, 1e39], [1.0, 2.0]],       # finite as float64, infinite as float32
    [["a", "b"], [1.0, 2.0]],
    [None, [1.0, 2.0]],
]


@pytest.mark.parametrize("output", BAD)
def test_invalid_embedder_output_raises_and_stores_nothing(db_url: str, output: Any) -> None:
    s = MemoryStore(db_url, embeddings=lambda texts: output)
    s.add_episodes([{"text": "one"}, {"text": "two"}])
    with pytest.raises(ValueError):
        s.embed_pending()
    assert _vectors(s) == {} and s.pending_embeddings() == 2
    s.close()


def test_embedding_dimension_must_match_the_stored_vectors(db_url: str) -> None:
    dim = {"n": 3}
    s = MemoryStore(db_url, embeddings=lambda texts: [[1.0] * dim["n"] for _ in texts])
    s.add_episode("one")
    assert s.embed_pending() == 1
    s.add_episode("two")
    dim["n"] = 4  # a different model: its vectors cannot be compared with the stored ones
    with pytest.raises(ValueError, match="dimension"):
        s.embed_pending()
    assert len(_vectors(s)) == 1 and s.pending_embeddings() == 1
    s.close()


def test_without_an_embedder_nothing_is_pending(store: MemoryStore) -> None:
    store.add_episode("hello")
    assert store.pending_embeddings() == 0 and store.embed_pending() == 0


def test_a_failing_question_embedder_leaves_lexical_recall(tmp_path: Path) -> None:
    """An embedding server that is down, or a local model still loading, must not fail a search."""

    def down(texts: list[str]) -> list[list[float]]:
        raise ConnectionError("embedding server down")

    s = MemoryStore(f"sqlite:///{tmp_path / 'e.db'}", embeddings=embed, query_embeddings=down)
    eid = s.add_episode("The boiler was serviced on Monday")
    assert s.embed_pending() == 1
    assert [h.id for h in s.search("boiler service")] == [eid]
    assert s.embed_error == "ConnectionError: embedding server down"
    s.close()


def test_vectors_of_another_model_leave_lexical_recall(tmp_path: Path) -> None:
    """The model changed (a new width) and nothing was reindexed yet: searches still answer, lexically."""
    s = MemoryStore(f"sqlite:///{tmp_path / 'e.db'}", embeddings=embed)
    eid = s.add_episode("The boiler was serviced on Monday")
    assert s.embed_pending() == 1
    s.close()
    wider = MemoryStore(f"sqlite:///{tmp_path / 'e.db'}", embeddings=lambda texts: [[1.0] * 32 for _ in texts])
    assert [h.id for h in wider.search("boiler service")] == [eid]
    assert wider.embed_error is not None and "32 dimensions" in wider.embed_error
    wider.close()


def _model(concept_dim: int):
    """A two-dimensional model that puts the made-up words "quux" and "blorf" on ``concept_dim``."""
    return lambda texts: [[1.0, 0.0] if ("quux" in t or "blorf" in t) == (concept_dim == 0) else [0.0, 1.0]
                          for t in texts]


def test_a_named_model_replaces_another_models_vectors_of_the_same_width(tmp_path: Path) -> None:
    """Vectors of another model at the same width are not compared (they would match at random): searches
    are lexical until ``embed_pending`` has dropped them and embedded again with the named model."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    a = MemoryStore(url, embeddings=_model(0), embeddings_name="model-a")
    blorf = a.add_episode("a blorf happened")
    a.add_episode("nothing here")
    assert a.embed_pending() == 2
    assert [h.id for h in a.search("quux?", k=1)] == [blorf]  # by meaning alone: no word is shared
    a.close()

    b = MemoryStore(url, embeddings=_model(1), embeddings_name="model-b")
    assert b.search("quux?") == []  # model-a's vectors would give "nothing here"
    assert b.embed_error is not None and "model-a" in b.embed_error
    assert b.embed_pending() == 2 and b.pending_embeddings() == 0
    assert [h.id for h in b.search("quux?", k=1)] == [blorf] and b.embed_error is None
    with b.engine.connect() as c:
        assert c.exec_driver_sql("SELECT name FROM memory_vector_model").scalar().startswith("model-b;")
    b.close()


def test_vectors_from_before_models_were_named_are_embedded_again(tmp_path: Path) -> None:
    """They were made from the text alone; the named store embeds who said it too (not a phone number)."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    s = MemoryStore(url, embeddings=_model(0))
    blorf = s.add_episode("a blorf happened", speaker="Ann")
    s.add_episode("nothing here", speaker="+44 7700 900123")
    assert s.embed_pending() == 2
    s.close()
    seen: list[str] = []
    model = _model(0)
    named = MemoryStore(url, embeddings=lambda texts: seen.extend(texts) or model(texts), query_embeddings=model,
                        embeddings_name="model-a")
    assert named.pending_embeddings() == 2
    assert named.search("quux?") == [] and "before models were recorded" in (named.embed_error or "")
    assert named.embed_pending() == 2 and sorted(seen) == ["Ann: a blorf happened", "nothing here"]
    assert [h.id for h in named.search("quux?", k=1)] == [blorf] and named.embed_error is None
    named.close()


def test_a_model_that_fails_leaves_the_old_models_vectors(tmp_path: Path) -> None:
    """A wrong model name or server costs nothing: the old vectors go only when the new model has made some."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    a = MemoryStore(url, embeddings=_model(0), embeddings_name="model-a")
    a.add_episode("a blorf happened")
    assert a.embed_pending() == 1
    a.close()

    def down(texts: list[str]) -> list[list[float]]:
        raise ConnectionError("no such server")

    b = MemoryStore(url, embeddings=down, embeddings_name="model-b")
    with pytest.raises(ConnectionError):
        b.embed_pending()
    b.close()
    again = MemoryStore(url, embeddings=_model(0), embeddings_name="model-a")
    assert len(_vectors(again)) == 1 and again.pending_embeddings() == 0
    again.close()


def test_a_question_is_compared_with_its_own_conversations_vectors(tmp_path: Path) -> None:
    """Another conversation's hundreds of nearer turns must not crowd out the only match in this one."""
    def model(texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] if "blorf" in t or "quux" in t else [1.0, 0.3] if "zib" in t else [0.0, 1.0]
                for t in texts]

    s = MemoryStore(f"sqlite:///{tmp_path / 'e.db'}", embeddings=model)
    s.add_episodes([{"text": f"blorf number {i}", "conversation": "other"} for i in range(300)])
    mine = s.add_episode("the zib came back", conversation="mine")
    s.add_episode("nothing here", conversation="mine")
    while s.embed_pending():
        pass
    assert [h.id for h in s.search("quux?", k=1, conversation="mine")] == [mine]
    s.close()


def test_vectors_another_process_stores_are_searched(tmp_path: Path) -> None:
    """`claw memory import` while the daemon runs: the daemon's loaded matrix follows what the shell stored."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    daemon = MemoryStore(url, embeddings=embed, embeddings_name="toy")
    daemon.add_episode("Lunch was nice today")
    daemon.embed_pending()
    daemon.search("lunch")  # the matrix is loaded
    shell = MemoryStore(url, embeddings=embed, embeddings_name="toy")
    bought = shell.add_episode("Bought a quixotl")
    assert shell.embed_pending() == 1 and daemon.pending_embeddings() == 0  # the daemon's filler has nothing to do
    daemon.add_episode("Walked the dog")
    assert daemon.embed_pending() == 1  # its own new vector must not pass for the only change since
    assert [h.id for h in daemon.search("zorblax?", k=3)] == [bought]
    shell.close()
    daemon.close()


def test_a_batch_stored_while_the_matrix_is_read_is_not_lost(tmp_path: Path) -> None:
    """Each read sees the database as it is then: a batch committed between the count and the rows (backfill goes
    newest first) must neither push other vectors out of the matrix nor be taken as already there."""
    s = MemoryStore(f"sqlite:///{tmp_path / 'e.db'}", embeddings=embed, embeddings_name="toy")
    ids = s.add_episodes([{"text": f"note {i} about the garden"} for i in range(19)] + [{"text": "Bought a sedan"}])
    assert s.embed_pending(limit=10) == 10  # the newest ten, the sedan among them
    batch: list[threading.Thread] = []

    @event.listens_for(s.engine, "before_cursor_execute")
    def between(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("SELECT v.episode_id") and not batch:  # the filler's next batch commits now
            batch.append(threading.Thread(target=s.embed_pending, kwargs={"limit": 10}))
            batch[0].start()
            deadline = time.monotonic() + 5
            while s.pending_embeddings() and time.monotonic() < deadline:
                time.sleep(0.01)

    s.search("garden", k=1)  # reads the matrix while the batch commits
    batch[0].join(5)
    assert ids[-1] in [h.id for h in s.search("automobile?", k=3)]
    v = s._vec_cache
    assert v is not None and sorted(v.ids[:v.n].tolist()) == ids
    s.close()


def test_a_text_the_embedder_refuses_holds_up_no_other(db_url: str) -> None:
    """One text a server always refuses (too long for it) is found by its words only; the others get vectors.
    A server that is down refuses everything: three calls, nothing stored, all still pending."""
    calls: list[int] = []
    state = {"down": False}

    def picky(texts: list[str]) -> list[list[float]]:
        calls.append(len(texts))
        if state["down"] or any("snowman" in t for t in texts):
            raise ValueError("400: input too long")
        return embed(texts)

    s = MemoryStore(db_url, embeddings=picky, embeddings_name="toy")
    ids = s.add_episodes([{"text": f"ordinary turn {i}"} for i in range(10)] + [{"text": "a snowman, long"}]
                         + [{"text": f"ordinary turn {i}"} for i in range(10, 19)] + [{"text": "Bought a sedan"}])
    state["down"] = True
    with pytest.raises(ValueError):
        s.embed_pending()
    assert len(calls) == 3 and s.pending_embeddings() == 21 and _vectors(s) == {}
    state["down"], calls[:] = False, []
    assert s.embed_pending() == 21 and s.pending_embeddings() == 0
    assert len(calls) <= 2 * 5 + 1  # halves down to the one text, not one call per text
    vectors = _vectors(s)
    assert vectors[ids[10]] == b"" and all(vectors[i] for i in ids if i != ids[10])  # marked, not pending
    assert [h.id for h in s.search("automobile?", k=1)] == [ids[-1]]
    assert [h.id for h in s.search("snowman", k=1)] == [ids[10]]
    s.close()
