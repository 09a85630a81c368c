"""``[memory] embeddings = "local"``: a model run on the box by fastembed, loaded from a folder (a tiny real
model the test builds, see tests/fakes/tiny_embedding_model.py), in the library and in the daemon."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claw.config import MemorySection
from claw.recall.embeddings import LocalEmbedder, build_embedder
from memory import MemoryStore
from tests.conftest import anthropic_config
from tests.fakes.llm import Reply
from tests.fakes.tiny_embedding_model import build
from tests.harness import Daemon

pytest.importorskip("fastembed")
pytest.importorskip("onnx")

SAID = ["my sedan broke down on the highway", "we painted the fence", "the cake had candles",
        "my tomatoes are late this year"]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("tiny-model"))


def test_a_model_from_a_folder_finds_what_shares_no_word(model: Path, tmp_path: Path) -> None:
    emb = build_embedder(MemorySection(embeddings="local", embeddings_model="claw-test/tiny",
                                       embeddings_path=str(model), embeddings_query_prefix="question: "),
                         tmp_path / "models")
    assert isinstance(emb, LocalEmbedder)
    store = MemoryStore(f"sqlite:///{tmp_path / 'm.db'}", embeddings=emb, query_embeddings=emb.query)
    ids = store.add_episodes([{"text": t, "speaker": "owner"} for t in SAID])
    assert store.embed_pending() == len(SAID) and store.pending_embeddings() == 0
    lexical = MemoryStore(f"sqlite:///{tmp_path / 'm.db'}")
    assert not lexical.search("minivan") and not lexical.search("lawn")  # no shared word, stem or WordNet link
    lexical.close()
    assert store.search("minivan", k=1)[0].id == ids[0]
    assert store.search("lawn", k=1)[0].id == ids[1]
    assert emb.query(["minivan"]) == emb(["question: minivan"])  # the model's instruction goes first
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())  # nothing downloaded
    store.close()


def test_a_folder_without_a_model_leaves_the_episodes_pending(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    emb = LocalEmbedder("claw-test/missing", tmp_path / "models", tmp_path / "empty")
    store = MemoryStore(f"sqlite:///{tmp_path / 'm.db'}", embeddings=emb)
    store.add_episodes([{"text": t} for t in SAID])
    with pytest.raises(FileNotFoundError, match="no .onnx model"):
        store.embed_pending()
    assert store.pending_embeddings() == len(SAID)  # nothing made up: the next try embeds them
    store.close()


def test_in_the_daemon_a_question_never_waits_for_the_model_to_load(model: Path, tmp_path: Path) -> None:
    emb = build_embedder(MemorySection(embeddings="local", embeddings_model="claw-test/tiny",
                                       embeddings_path=str(model)), tmp_path / "models", daemon=True)
    assert emb is not None
    with pytest.raises(RuntimeError, match="not loaded yet"):
        emb.query(["minivan"])  # the store falls back to lexical recall (test_memory_embeddings)
    emb.load()  # what the background filler does first
    assert len(emb.query(["minivan"])[0]) == 8


def test_a_model_folder_is_checked_when_the_config_is_read(model: Path, tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="is not a folder"):
        MemorySection(embeddings="local", embeddings_path=str(tmp_path / "nowhere"))
    with pytest.raises(ValidationError, match='is for embeddings = "local"'):
        MemorySection(embeddings="openai", embeddings_path=str(model))
    # A model fastembed knows is loaded with its own file name: a folder without it says so.
    emb = LocalEmbedder("BAAI/bge-small-en-v1.5", tmp_path / "models", model)
    with pytest.raises(FileNotFoundError, match="has no model_optimized.onnx"):
        emb(["hello"])


def _vectors(home: Path) -> int:
    with sqlite3.connect(home / "claw.db") as conn:
        return int(conn.execute("SELECT count(*) FROM memory_vectors").fetchone()[0])


def test_the_daemon_embeds_with_a_local_model_and_reindex_recomputes(model: Path, fake_llm, daemon_factory) -> None:
    fake_llm.responder = lambda req: Reply(text="ok")
    extra = f'[memory]\nembeddings = "local"\nembeddings_model = "claw-test/tiny"\nembeddings_path = "{model}"\n'
    d: Daemon = daemon_factory(anthropic_config(fake_llm, extra=extra))
    for text in SAID:
        d.say(text)
    deadline = time.monotonic() + 60
    while _vectors(d.home) < len(SAID) and time.monotonic() < deadline:  # the replies ("ok") get no vector
        time.sleep(0.2)
    assert _vectors(d.home) == len(SAID), d.logs()[-2000:]
    with sqlite3.connect(d.home / "claw.db") as db:  # what made them: another model's would be embedded again
        assert db.execute("SELECT name FROM memory_vector_model").fetchone()[0].startswith("claw-test/tiny;")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "claw", "memory", *args], env=d.env, check=False,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc

    found = cli("search", "minivan", "--k", "1").stdout
    assert "sedan" in found, found
    before = _vectors(d.home)
    out = cli("reindex")
    assert f"{before} old vectors dropped" in out.stderr, out.stderr
    assert f"{before} episodes embedded; {len(SAID)} got no vector" in out.stderr, out.stderr
    assert _vectors(d.home) == before


def test_reindex_with_a_model_that_does_not_answer_drops_nothing(tmp_path: Path) -> None:
    store = MemoryStore(f"sqlite:///{tmp_path / 'claw.db'}", embeddings=lambda texts: [[1.0, 2.0] for _ in texts],
                        embeddings_name="nomic-embed-text")
    store.add_episodes([{"text": "Traded the old sedan for a minivan"}, {"text": "Lunch was nice"}])
    assert store.embed_pending() == 2
    store.close()
    (tmp_path / "config.toml").write_text('[memory]\nembeddings = "ollama"\n'
                                          'embeddings_base_url = "http://127.0.0.1:9"\n')  # nothing listens there
    proc = subprocess.run([sys.executable, "-m", "claw", "memory", "reindex"], env={**os.environ,
                          "CLAW_HOME": str(tmp_path)}, check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "does not answer" in proc.stderr and "no vector was dropped" in proc.stderr, \
        proc.stderr
    assert "Traceback" not in proc.stderr and _vectors(tmp_path) == 2
