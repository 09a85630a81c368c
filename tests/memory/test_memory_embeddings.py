from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from memory import MemoryStore

pytest.importorskip("numpy")

# A toy "semantic" embedder: words of one concept share a dimension, so the vector path can
# find a turn that shares no word with the query (what lexical search cannot do).
CONCEPTS = {"automobile": 0, "car": 0, "sedan": 0, "minivan": 0, "feline": 1, "cat": 1, "kitten": 1}


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
    hits = s.search("what automobile do we have?", k=3)
    assert hits[0].id == car
    assert all(h.conversation == "default" for h in s.search("automobile", conversation="default"))
    s.forget_episode(car)
    assert car not in [h.id for h in s.search("what automobile do we have?")]
    buf = io.StringIO()
    s.export_jsonl(buf)
    other = MemoryStore(f"sqlite:///{tmp_path / 'f.db'}", embeddings=embed)
    other.import_jsonl(io.StringIO(buf.getvalue()))
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
