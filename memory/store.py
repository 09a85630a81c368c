"""`MemoryStore`: the one object the daemon holds. Storage, facts, summaries, recall, export."""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from . import schema
from .errors import StoreError
from .query import Ranker, SearchParams
from .records import FactHit, Hit
from .text import Analyzer

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: How an episode is put into text for the embedder: who said it, when that is a name ("Ann: we moved to Leeds"),
#: lets a question about a person find their turns by meaning. Part of the recorded vector model, so changing it
#: embeds everything again.
EMBEDDED_TEXT = "speaker: text"
_EMBEDDED_SQL = "CASE WHEN e.speaker != '' AND e.speaker NOT GLOB '*[0-9]*' THEN e.speaker || ': ' || e.text ELSE e.text END"
Embedder = Callable[[list[str]], Sequence[Sequence[float]]]
# The next id is past every id given before, deleted ones included (computed inside the insert, which holds the
# write lock): caches, vectors and consolidation marks keyed by a forgotten episode's id never apply to a new one.
_INSERT_EPISODE = ("INSERT INTO memory_episodes(id, conversation, speaker, at_us, text, meta) VALUES ("
                   "(SELECT max(coalesce((SELECT max(id) FROM memory_episodes), 0), deleted_episode) + 1 "
                   "FROM memory_counters), ?, ?, ?, ?, ?)")


@dataclass(frozen=True)
class _Vectors:
    """The stored vectors as searches use them: rows [0, n) of `ids` and `mat` (unit vectors), and each
    conversation's rows. New vectors are written past n and published as a new snapshot, so a search holding
    this one reads only rows it was made with."""

    ids: Any
    mat: Any  # None when no vector is stored
    n: int
    convs: dict[str, Any]
    made_by: str | None
    changes: int  # `memory_counters.vector_changes` when read: it holds at least the vectors stored by then
    stale: bool = False  # another model's: not searched until `embed_pending` replaces them


def to_us(at: datetime | None) -> int:
    """Microseconds since the epoch, UTC; a naive datetime is taken to be UTC already."""
    if at is None:
        at = datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _dump_meta(meta: Any) -> str | None:
    if meta is None:
        return None
    try:
        return json.dumps(meta, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"meta must be JSON-serialisable: {e}") from None


def _describe(e: BaseException) -> str:
    msg = str(getattr(e, "orig", None) or e)
    low = msg.lower()
    if "locked" in low or "busy" in low:
        return f"memory database is locked by another process or connection ({msg})"
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return f"memory database file is corrupt or not an SQLite database ({msg})"
    if "unable to open" in low:
        return f"memory database cannot be opened ({msg})"
    return f"memory database error: {msg}"


@dataclass
class Summary:
    """Rolling summary of a conversation up to and including `upto_episode_id`."""

    conversation: str
    text: str
    upto_episode_id: int
    updated_at: datetime


class MemoryStore:
    """Episodic log, semantic facts, summaries and hybrid recall in SQLite tables `memory_*`.

    `url_or_engine` is an SQLAlchemy URL (``sqlite:///path.db``) or an Engine the caller
    owns (the daemon passes the one for claw.db; we never dispose it). Tables are created
    or upgraded here. `embeddings` is ``"none"`` (default) or a callable mapping a list of
    texts to vectors; vectors are then stored per episode by `embed_pending` (which the
    caller runs in the background, never inside a write) and fused into `search`. An
    episode without a vector yet is still found by its words. `embeddings_name` names what
    makes the vectors (a model); vectors another name made are not searched, and
    `embed_pending` replaces them.

    Thread use: one writer thread and search threads may share a store; caches shared
    between them are replaced, never mutated in place (see `_vectors_changed`, `Ranker`).
    Other processes may write the same tables (the CLI while the daemon runs): the loaded
    vectors follow a change count that triggers keep (`memory_counters`).
    """

    def __init__(self, url_or_engine: str | Engine, *, embeddings: str | Embedder = "none",
                 query_embeddings: Embedder | None = None, embeddings_name: str | None = None,
                 params: SearchParams | None = None, timeout: float = 5.0) -> None:
        if isinstance(url_or_engine, Engine):
            self.engine, self._own_engine = url_or_engine, False
        else:
            kw: dict[str, Any] = {}
            if str(url_or_engine).startswith("sqlite"):
                kw["connect_args"] = {"timeout": timeout, "check_same_thread": False}
            self.engine, self._own_engine = create_engine(url_or_engine, **kw), True
            if str(url_or_engine).startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_pragmas)
        if embeddings == "none" or embeddings is None:
            self._embed: Embedder | None = None
        elif callable(embeddings):
            self._embed = embeddings
        else:
            raise ValueError('embeddings must be "none" or a callable(list[str]) -> vectors')
        # Questions may be embedded differently from what was said (a retrieval model's instruction).
        self._embed_query = query_embeddings or self._embed
        self._embed_label = embeddings_name or "this model"
        self._embed_name = f"{embeddings_name}; {EMBEDDED_TEXT}" if embeddings_name and self._embed else None
        self.embed_error: str | None = None  # why the last search went without vectors
        self.analyzer = Analyzer()
        self.ranker = Ranker(self.analyzer, params)
        self._vec_cache: _Vectors | None = None  # loaded by the first search that uses vectors
        self._vec_lock = threading.Lock()
        with self._guard():
            with self.engine.begin() as conn:
                if self.engine.dialect.name == "sqlite":
                    mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                    if str(mode).lower() not in ("wal", "memory"):
                        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                schema.upgrade(conn)

    # ---- plumbing -----------------------------------------------------------------
    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except (DBAPIError, sqlite3.DatabaseError) as e:
            raise StoreError(_describe(e)) from e
        except SQLAlchemyError as e:
            raise StoreError(f"memory database error: {e}") from e
        except RuntimeError as e:
            if "schema" in str(e):
                raise StoreError(str(e)) from e
            raise

    @contextmanager
    def _tx(self, conn: Connection | None = None) -> Iterator[Connection]:
        """Our own transaction, or the caller's connection (joined, not committed by us)."""
        with self._guard():
            if conn is not None:
                yield conn
            else:
                with self.engine.begin() as c:
                    yield c

    def close(self) -> None:
        """Release connections (an Engine passed in by the caller is left alone)."""
        self.analyzer.close()
        if self._own_engine:
            self.engine.dispose()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- episodes -----------------------------------------------------------------
    def add_episode(self, text: str, conversation: str = "default", speaker: str = "",
                    at: datetime | None = None, meta: Any = None, *,
                    conn: Connection | None = None) -> int:
        """Append one episode; returns its id. Pass `conn` to write inside your transaction."""
        return self.add_episodes([{"text": text, "conversation": conversation, "speaker": speaker,
                                   "at": at, "meta": meta}], conn=conn)[0]

    def add_episodes(self, episodes: Iterable[Mapping[str, Any]], *,
                     conn: Connection | None = None) -> list[int]:
        """Append many episodes in one transaction (fast bulk path); returns their ids in order."""
        rows = []
        for ep in episodes:
            if not isinstance(ep.get("text"), str):
                raise ValueError("episode text must be a string")
            rows.append((str(ep.get("conversation") or "default"), str(ep.get("speaker") or ""),
                         to_us(ep.get("at")), ep["text"], _dump_meta(ep.get("meta"))))
        if not rows:
            return []
        ids: list[int] = []
        with self._tx(conn) as c:
            raw = c.connection.driver_connection
            if isinstance(raw, sqlite3.Connection):
                cur = raw.cursor()
                for r in rows:
                    cur.execute(_INSERT_EPISODE, r)
                    ids.append(int(cur.lastrowid or 0))
            else:  # pragma: no cover - other drivers
                for r in rows:
                    ids.append(int(c.exec_driver_sql(_INSERT_EPISODE + " RETURNING id", r).scalar_one()))
            self._count_terms(c, [(r[3], r[1]) for r in rows], 1)
        self.ranker.added(len(ids), {r[1] for r in rows})
        return ids

    def _count_terms(self, c: Connection, docs: Sequence[tuple[str, str]], sign: int) -> None:
        """Keep `memory_terms` (episodes per stem, text and speaker) in step with the index: +1 for each new
        episode that has the stem, -1 for each deleted one."""
        tokens = self.analyzer.tokens
        counts = Counter(s for text, speaker in docs for s in {*tokens(text), *tokens(speaker)})
        if counts and sign > 0:
            c.exec_driver_sql("INSERT INTO memory_terms(stem, docs) VALUES (?, ?) "
                              "ON CONFLICT(stem) DO UPDATE SET docs = docs + excluded.docs", list(counts.items()))
        elif counts:  # a word no episode has any more leaves the table: forgetting keeps no copy of it
            c.exec_driver_sql("UPDATE memory_terms SET docs = docs - ? WHERE stem = ?",
                              [(n, stem) for stem, n in counts.items()])
            c.exec_driver_sql("DELETE FROM memory_terms WHERE stem = ? AND docs <= 0", [(stem,) for stem in counts])

    # ---- embeddings (computed outside any transaction) ------------------------------
    _WITHOUT_VECTOR = "NOT EXISTS (SELECT 1 FROM memory_vectors v WHERE v.episode_id = e.id)"

    def _replacing(self, c: Connection) -> bool:
        """Vectors of another model (or from before models were recorded) are stored: every episode waits."""
        if self._embed_name is None:
            return False
        if c.exec_driver_sql("SELECT name FROM memory_vector_model").scalar() == self._embed_name:
            return False
        return c.exec_driver_sql("SELECT 1 FROM memory_vectors LIMIT 1").scalar() is not None

    def pending_embeddings(self) -> int:
        """Episodes still waiting for `embed_pending` (0 without an embedder: nothing will embed them)."""
        if self._embed is None:
            return 0
        with self._tx() as c:
            where = "" if self._replacing(c) else f" WHERE {self._WITHOUT_VECTOR}"
            return int(c.exec_driver_sql(f"SELECT count(*) FROM memory_episodes e{where}").scalar() or 0)

    def embed_pending(self, limit: int = 256) -> int:
        """Embed up to `limit` episodes that have no vector yet, newest first; returns how many
        left the pending ones (0 without an embedder).

        `add_episodes` never embeds: an embedding call can take seconds, and the caller's write
        transaction (the daemon's single DB writer) must not wait for it. So the caller runs this
        in the background: ids and texts are read in one short transaction, the embedder runs
        with no connection checked out, and the vectors are written in a second short one
        (episodes forgotten meanwhile are skipped). If the embedder raises, the batch is tried in
        halves (`_embed_apart`): a text it refuses alone (too long for its server) is marked with an
        empty vector, found by its words only, and holds up no other; if the halves fail too, the
        exception propagates and nothing is stored, so the episodes stay pending for the next call.
        Invalid output (wrong count, unequal or zero dimensions, non-finite numbers, or a
        dimension other than the stored vectors') raises ValueError and stores nothing; an
        all-zero vector (an embedder's placeholder for a failure) is not stored and stays pending.
        With `embeddings_name`, another model's vectors are replaced: dropped in the transaction
        that writes this model's first batch, so a model that fails costs nothing.
        """
        if self._embed is None or limit <= 0:
            return 0
        with self._tx() as c:
            where = "" if self._replacing(c) else f"WHERE {self._WITHOUT_VECTOR}"
            rows = c.exec_driver_sql(f"SELECT e.id, {_EMBEDDED_SQL}, e.conversation FROM memory_episodes e {where} "
                                     "ORDER BY e.id DESC LIMIT ?", (limit,)).fetchall()
        if not rows:
            return 0
        blobs = self._embed_apart([r[1] for r in rows])
        todo = [(r[0], blob, r[2]) for r, blob in zip(rows, blobs, strict=True) if blob is not None]
        refused = [eid for eid, blob, _ in todo if not blob]
        if refused:
            log.warning("memory: the embedder refuses episode(s) %s alone; they are found by their words only",
                        refused)
        sizes = {len(blob) for _, blob, _ in todo if blob}
        if len(sizes) > 1:
            raise ValueError(f"embedder returned vectors of dimensions {sorted(n // 4 for n in sizes)}")
        if not todo:
            return 0
        added, written = [], 0
        with self._tx() as c:
            dropped = self._claim_vectors(c)
            have = c.exec_driver_sql("SELECT length(vec) FROM memory_vectors WHERE length(vec) > 0 LIMIT 1").scalar()
            if have is not None and sizes and sizes != {have}:
                raise ValueError(f"embedding dimension {sizes.pop() // 4} differs from the stored vectors' {have // 4}")
            for eid, blob, conversation in todo:
                if c.exec_driver_sql("INSERT OR IGNORE INTO memory_vectors(episode_id, vec) "
                                     "SELECT id, ? FROM memory_episodes WHERE id = ?", (blob, eid)).rowcount:
                    written += 1
                    if blob:
                        added.append((eid, blob, conversation))
            changes = self._vector_changes(c)  # this write holds the lock: ours are the last `written`
        if dropped:
            self._vectors_changed()
        elif written:
            self._vectors_added(added, changes - written, changes)
        return written

    def _embed_apart(self, texts: list[str]) -> list[bytes | None]:
        """The embedder's vectors for ``texts`` as blobs (`_pack_vectors`). When the call fails, each half is
        tried: both failing means the embedder is down (raised); otherwise a failing half is split again, down
        to the texts it refuses alone, which get b"" (about 2 log2(n) calls for one such text)."""
        assert self._embed is not None
        try:
            out = self._embed(texts)
        except Exception:
            if len(texts) == 1:
                raise
            halves = _halves(texts)
            got = [self._called(h) for h in halves]
            if got[0] is None and got[1] is None:
                raise
            return [b for h, g in zip(halves, got, strict=True) for b in self._taken(h, g)]
        return _pack_vectors(out, len(texts))

    def _taken(self, texts: list[str], got: Sequence[Sequence[float]] | None) -> list[bytes | None]:
        """Blobs for ``texts`` from the embedder's answer; when it refused them together (None), each half is
        asked apart, and a text refused alone gets b""."""
        if got is not None:
            return _pack_vectors(got, len(texts))
        if len(texts) == 1:
            return [b""]
        return [b for h in _halves(texts) for b in self._taken(h, self._called(h))]

    def _called(self, texts: list[str]) -> Sequence[Sequence[float]] | None:
        assert self._embed is not None
        try:
            return self._embed(texts)
        except Exception:
            return None

    @staticmethod
    def _vector_changes(c: Connection) -> int:
        return int(c.exec_driver_sql("SELECT vector_changes FROM memory_counters").scalar() or 0)

    def _claim_vectors(self, c: Connection) -> int:
        """Inside the write: record that this store's model makes the vectors, deleting another model's (or
        those from before models were recorded); how many were deleted."""
        if self._embed_name is None:
            return 0
        stored = c.exec_driver_sql("SELECT name FROM memory_vector_model").scalar()
        if stored == self._embed_name:
            return 0
        dropped = int(c.exec_driver_sql("DELETE FROM memory_vectors").rowcount)
        if dropped:
            log.info("memory vectors of %s dropped for %s: %d", stored or "an unrecorded model", self._embed_label,
                     dropped)
        c.exec_driver_sql("INSERT INTO memory_vector_model(id, name) VALUES (1, ?) "
                          "ON CONFLICT(id) DO UPDATE SET name = excluded.name", (self._embed_name,))
        return dropped

    def check_embedder(self) -> None:
        """Embed one short text and check the answer; raises what the embedder raises (or ValueError for output
        that is not a vector). Before dropping every vector for a model that may not answer."""
        if self._embed is not None:
            _pack_vectors(self._embed(["a check that the model answers"]), 1)

    def clear_vectors(self) -> int:
        """Drop every stored vector (the embedding model changed: `embed_pending` computes them again)."""
        with self._tx() as c:
            n = c.exec_driver_sql("DELETE FROM memory_vectors").rowcount
        self._vectors_changed()
        return int(n)

    def _vectors_changed(self) -> None:
        """Vectors were deleted (or replaced): the next search reads them again. After the commit."""
        with self._vec_lock:
            self._vec_cache = None

    def _vectors_added(self, added: list[tuple[int, bytes, str]], before: int, after: int) -> None:
        """New vectors join the loaded matrix (reading 100k vectors again costs half a second). After the commit;
        ``before``/``after``: the change count without and with the write (which may also have marked refused
        texts). They go in the rows past the snapshot's end, so a search holding the snapshot never sees them."""
        import numpy as np

        with self._vec_lock:
            v = self._vec_cache
            if v is None or v.changes >= after:  # nothing loaded, or loaded after this write
                return
            if v.changes != before or v.stale or v.mat is None:  # it misses another change (another process's)
                self._vec_cache = None  # the next search reads them all
                return
            if v.n and added:  # a search may have read some of them already
                added = [a for a, seen in zip(added, np.isin([a[0] for a in added], v.ids[:v.n]), strict=True)
                         if not seen]
            if not added:  # (or only refused texts were marked)
                self._vec_cache = replace(v, changes=after)
                return
            new = np.stack([np.frombuffer(blob, dtype=np.float32) for _, blob, _ in added])
            if new.shape[1] != v.mat.shape[1]:
                self._vec_cache = None
                return
            n, m = v.n, len(added)
            ids, mat = v.ids, v.mat
            if n + m > len(ids):  # grown by an eighth at a time: a copy now and then, not per turn
                cap = n + m + max(n // 8, 1024)
                ids, mat = np.empty(cap, np.int64), np.empty((cap, mat.shape[1]), np.float32)
                ids[:n], mat[:n] = v.ids[:n], v.mat[:n]
            ids[n:n + m] = [eid for eid, _, _ in added]
            mat[n:n + m] = new / (np.linalg.norm(new, axis=1, keepdims=True) + 1e-9)
            rows: dict[str, list[int]] = {}
            for k, (_, _, conversation) in enumerate(added, start=n):
                rows.setdefault(conversation, []).append(k)
            convs = dict(v.convs)
            for conversation, more in rows.items():
                convs[conversation] = np.concatenate([convs.get(conversation, np.empty(0, np.int64)),
                                                      np.array(more, dtype=np.int64)])
            self._vec_cache = _Vectors(ids, mat, n + m, convs, v.made_by, after)

    def _hits(self, c: Connection, ids: Sequence[int], scores: Mapping[int, float] | None = None) -> list[Hit]:
        out: dict[int, Hit] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i:i + 500])
            marks = ",".join("?" * len(chunk))
            q = f"SELECT id, text, speaker, conversation, at_us, meta FROM memory_episodes WHERE id IN ({marks})"
            for r in c.exec_driver_sql(q, tuple(chunk)):
                out[r[0]] = Hit(r[0], r[1], r[2], r[3], from_us(r[4]),
                                json.loads(r[5]) if r[5] is not None else None,
                                (scores or {}).get(r[0], 0.0))
        return [out[i] for i in ids if i in out]

    def get_episode(self, episode_id: int) -> Hit | None:
        with self._tx() as c:
            hits = self._hits(c, [episode_id])
        return hits[0] if hits else None

    def search(self, query: str, k: int = 10, conversation: str | None = None,
               after: datetime | None = None, before: datetime | None = None, *,
               speaker: str | None = None, now: datetime | None = None,
               neighbors: int = 0) -> list[Hit]:
        """Episodes most relevant to `query`, best first (see `memory.query` for how).

        `after`/`before` are hard filters (`after <= at < before`); date words inside the
        query ("last Tuesday") are a soft boost relative to `now` (default: the clock).
        `neighbors=n` attaches up to n turns before and after each hit as `hit.context`.
        """
        if k <= 0:
            return []
        qv = None
        if self._embed_query is not None:
            try:
                qv = self._embed_query([query])[0]
            except Exception as exc:  # the embedder is down or its model still loading: lexical recall answers
                self.embed_error = f"{type(exc).__name__}: {exc}"
            else:
                self.embed_error = None
        with self._tx() as c:
            vectors = None
            if qv is not None:
                changes = self._vector_changes(c)  # another process may have stored or deleted vectors
                vectors = lambda limit: self._similar(qv, limit, conversation, changes)  # noqa: E731
            ranked = self.ranker.search(
                c, query, k, conversation=conversation, speaker=speaker,
                after_us=to_us(after) if after else None, before_us=to_us(before) if before else None,
                now=now, vectors=vectors)
            scores = dict(ranked)
            hits = self._hits(c, [i for i, _ in ranked], scores)
            if neighbors > 0:
                for h in hits:
                    h.context = self._neighbors(c, h, neighbors)
        return hits

    def _neighbors(self, c: Connection, h: Hit, n: int) -> list[Hit]:
        at = to_us(h.at)
        before = c.exec_driver_sql(
            "SELECT id FROM memory_episodes WHERE conversation = ? AND (at_us < ? OR (at_us = ? AND id < ?)) "
            "ORDER BY at_us DESC, id DESC LIMIT ?", (h.conversation, at, at, h.id, n)).fetchall()
        after = c.exec_driver_sql(
            "SELECT id FROM memory_episodes WHERE conversation = ? AND (at_us > ? OR (at_us = ? AND id > ?)) "
            "ORDER BY at_us, id LIMIT ?", (h.conversation, at, at, h.id, n)).fetchall()
        return self._hits(c, [r[0] for r in reversed(before)] + [r[0] for r in after])

    def _similar(self, qv: Sequence[float], limit: int, conversation: str | None, changes: int) -> dict[int, float]:
        """Cosine similarity of the `limit` nearest episodes, within `conversation` if given (the nearest
        of all conversations would leave a question a few of its own); the matrix is read again when the
        vectors changed since it was (``changes``: the count now)."""
        import numpy as np  # only needed on the optional embeddings path

        with self._vec_lock:
            v = self._vec_cache
            if v is None or v.changes < changes:
                v = self._vec_cache = self._read_vectors()
        if v.stale:
            made_by = f"{v.made_by.rpartition('; ')[0]}'s" if v.made_by else "from before models were recorded"
            self.embed_error = f"the stored vectors are {made_by}, not {self._embed_label}'s (re-embedding)"
            return {}
        if v.mat is None:
            return {}
        q = np.asarray(qv, dtype=np.float32)
        if q.shape != (v.mat.shape[1],):  # another model's vectors (changed, not yet reindexed): lexical recall only
            self.embed_error = f"the question's embedding has {q.size} dimensions, the stored vectors {v.mat.shape[1]}"
            return {}
        q /= np.linalg.norm(q) + 1e-9
        if conversation is None:
            ids, sims = v.ids[:v.n], v.mat[:v.n] @ q
        else:
            rows = v.convs.get(conversation)
            if rows is None:
                return {}
            # A household's own thread is most of the matrix: one product and a gather beat copying its rows.
            ids, sims = v.ids[rows], (v.mat[:v.n] @ q)[rows] if 4 * len(rows) > v.n else v.mat[rows] @ q
        top = np.argpartition(-sims, limit)[:limit] if len(sims) > limit else range(len(sims))
        return {int(ids[i]): float(sims[i]) for i in top}

    def _read_vectors(self) -> _Vectors:
        """All stored vectors, read in batches into one matrix (the blobs and the matrix at once would double
        the peak), with 1,024 free rows for the next ones."""
        import numpy as np

        with self._tx() as c:
            # The count first: each read sees the database as it is then, so rows stored after it may be read
            # too (`_vectors_added` skips them), and a change after it makes the next search read them again.
            changes = self._vector_changes(c)
            made_by = c.exec_driver_sql("SELECT name FROM memory_vector_model").scalar()
            n = int(c.exec_driver_sql("SELECT count(*) FROM memory_vectors").scalar() or 0)
            if n and self._embed_name is not None and made_by != self._embed_name:
                return _Vectors(np.empty(0, np.int64), None, 0, {}, made_by, changes, stale=True)
            cur = c.exec_driver_sql("SELECT v.episode_id, v.vec, e.conversation FROM memory_vectors v "
                                    "JOIN memory_episodes e ON e.id = v.episode_id WHERE length(v.vec) > 0")
            ids, mat, k = np.empty(n + 1024, np.int64), None, 0
            rows: dict[str, list[int]] = {}
            while batch := cur.fetchmany(5_000):
                for eid, blob, conversation in batch:
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if mat is None:
                        mat = np.empty((len(ids), vec.size), np.float32)
                    if k == len(ids):  # more than counted: stored meanwhile
                        ids, mat = np.resize(ids, k + 1024), np.resize(mat, (k + 1024, mat.shape[1]))
                    ids[k], mat[k] = eid, vec
                    rows.setdefault(conversation, []).append(k)
                    k += 1
        if mat is not None:
            mat[:k] /= np.linalg.norm(mat[:k], axis=1, keepdims=True) + 1e-9
        return _Vectors(ids, mat, k, {conv: np.array(r, dtype=np.int64) for conv, r in rows.items()}, made_by,
                        changes)

    def recent(self, conversation: str, limit: int = 20) -> list[Hit]:
        """The last `limit` episodes of a conversation, oldest first (the recent window)."""
        with self._tx() as c:
            ids = [r[0] for r in c.exec_driver_sql(
                "SELECT id FROM memory_episodes WHERE conversation = ? ORDER BY at_us DESC, id DESC LIMIT ?",
                (conversation, limit))]
            return self._hits(c, ids[::-1])

    def episodes_since(self, episode_id: int, conversation: str | None = None,
                       limit: int | None = None) -> list[Hit]:
        """Episodes with id > `episode_id` (insertion order), e.g. what consolidation has not seen."""
        sql = "SELECT id FROM memory_episodes WHERE id > ?"
        args: list[Any] = [episode_id]
        if conversation is not None:
            sql += " AND conversation = ?"
            args.append(conversation)
        sql += " ORDER BY id LIMIT ?"
        args.append(-1 if limit is None else limit)
        with self._tx() as c:
            return self._hits(c, [r[0] for r in c.exec_driver_sql(sql, tuple(args))])

    def last_episode_id(self, conversation: str | None = None) -> int:
        sql = "SELECT max(id) FROM memory_episodes"
        args: tuple[str, ...] = ()
        if conversation is not None:
            sql, args = sql + " WHERE conversation = ?", (conversation,)
        with self._tx() as c:
            return int(c.exec_driver_sql(sql, args).scalar() or 0)

    def forget_episode(self, episode_id: int) -> bool:
        """Delete one episode for good: row, FTS entry (index merged, see `purge_index`) and vector."""
        return bool(self.forget_episodes([episode_id]))

    def forget_episodes(self, ids: Iterable[int], *, purge: bool = True, conn: Connection | None = None) -> list[Hit]:
        """Delete these episodes for good; returns what was deleted (text and meta, for the caller
        to find copies it keeps elsewhere), in id order. Unknown ids are skipped. Pass `conn` to
        delete inside your transaction (and `purge` after it).

        Deleted content is zeroed in the file (``secure_delete`` on this connection) and, with
        `purge`, the full-text index is merged so the words leave it too (`purge_index`).
        """
        ids = sorted({int(i) for i in ids})
        gone: list[Hit] = []
        if ids:
            with self._tx(conn) as c, secure_delete(c):
                for i in range(0, len(ids), 500):
                    chunk = ids[i:i + 500]
                    hits = self._hits(c, chunk)
                    marks = ",".join("?" * len(chunk))
                    c.exec_driver_sql(f"DELETE FROM memory_episodes WHERE id IN ({marks})", tuple(chunk))
                    self._count_terms(c, [(h.text, h.speaker) for h in hits], -1)
                    gone += hits
            self.ranker.invalidate()
            self._vectors_changed()
        if gone and purge:
            self.purge_index()
        return gone

    def episodes_matching(self, text: str, *, conn: Connection | None = None) -> list[int]:
        """Ids of every episode containing `text` (case-insensitive substring, or the same words
        as a phrase after stemming/diacritic folding): what `forget_episodes_matching` deletes."""
        return self._matching(text, "memory_episodes", "memory_episodes_fts", "text", conn)

    def forget_episodes_matching(self, text: str) -> list[int]:
        """Delete every episode containing `text` (see `episodes_matching`); returns the deleted ids."""
        return [h.id for h in self.forget_episodes(self.episodes_matching(text))]

    def purge_index(self) -> None:
        """Merge the FTS5 indexes into one segment each.

        An FTS5 delete only appends a tombstone: the deleted row's words stay in the older
        index segments until they are merged. ``optimize`` merges everything now, so forgotten
        words really leave the index (about 0.3 s at 100k episodes); the freed pages are zeroed.
        """
        with self._tx() as c, secure_delete(c):
            for fts in ("memory_episodes_fts", "memory_facts_fts"):
                c.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('optimize')")

    def _matching(self, text: str, table: str, fts: str, col: str, conn: Connection | None = None) -> list[int]:
        if not text.strip():
            return []
        like = "%" + escape_like(text) + "%"
        ids: set[int] = set()
        words = [w for w in self.analyzer.tokens(text)]
        with self._tx(conn) as c:
            ids.update(r[0] for r in c.exec_driver_sql(
                f"SELECT id FROM {table} WHERE {col} LIKE ? ESCAPE '\\'", (like,)))
            if words:
                phrase = '"' + " ".join(w for w in text.replace('"', " ").split()) + '"'
                ids.update(r[0] for r in c.exec_driver_sql(
                    f"SELECT rowid FROM {fts} WHERE {fts} MATCH ?", (f"{col} : {phrase}",)))
        return sorted(ids)

    # ---- facts --------------------------------------------------------------------
    @staticmethod
    def _fact(r: Sequence[Any], score: float = 0.0) -> FactHit:
        return FactHit(id=r[0], statement=r[1], subject=r[2], pinned=bool(r[3]),
                       valid_from=from_us(r[4]), valid_to=from_us(r[5]) if r[5] is not None else None,
                       superseded_by=r[6], source_episode_ids=json.loads(r[7] or "[]"), score=score)

    _FACT_COLS = "id, statement, subject, pinned, valid_from_us, valid_to_us, superseded_by, source_episode_ids"

    def remember(self, statement: str, subject: str | None = None,
                 source_episode_ids: Iterable[int] = (), pinned: bool = False,
                 at: datetime | None = None, *, conn: Connection | None = None) -> int:
        """Store a fact valid from `at` (default now); returns its id.

        Remembering a statement that is already current (same text, same subject) returns
        the existing id instead of a duplicate (pinning it if asked).
        """
        statement = statement.strip()
        if not statement:
            raise ValueError("empty fact statement")
        now = to_us(None)
        with self._tx(conn) as c:
            row = c.exec_driver_sql(
                "SELECT id, pinned FROM memory_facts WHERE statement = ? AND coalesce(subject, '') = ? "
                "AND valid_to_us IS NULL", (statement, subject or "")).first()
            if row:
                if pinned and not row[1]:
                    c.exec_driver_sql("UPDATE memory_facts SET pinned = 1 WHERE id = ?", (row[0],))
                return int(row[0])
            cur = c.exec_driver_sql(
                "INSERT INTO memory_facts(statement, subject, pinned, valid_from_us, source_episode_ids, created_us) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (statement, subject, int(pinned), to_us(at) if at else now,
                 json.dumps([int(i) for i in source_episode_ids]), now))
            return int(cur.lastrowid)

    def get_fact(self, fact_id: int) -> FactHit | None:
        with self._tx() as c:
            r = c.exec_driver_sql(f"SELECT {self._FACT_COLS} FROM memory_facts WHERE id = ?", (fact_id,)).first()
        return self._fact(r) if r else None

    def supersede(self, old_id: int, new_statement: str, subject: str | None = None,
                  source_episode_ids: Iterable[int] = (), pinned: bool | None = None,
                  at: datetime | None = None, *, conn: Connection | None = None) -> int:
        """Replace a fact that stopped being true at `at` (default now); returns the new id.

        The old fact is kept, closed with `valid_to = at` and `superseded_by = new id`, so
        "what was true in May" still finds it. Subject and pinning default to the old fact's.
        """
        new_statement = new_statement.strip()
        if not new_statement:
            raise ValueError("empty fact statement")  # it would close the old fact and leave nothing true
        at_us = to_us(at)
        with self._tx(conn) as c:
            old = c.exec_driver_sql(f"SELECT {self._FACT_COLS} FROM memory_facts WHERE id = ?", (old_id,)).first()
            if old is None:
                raise KeyError(f"no fact with id {old_id}")
            if old[5] is not None:
                raise ValueError(f"fact {old_id} is already closed (superseded by {old[6]})")
            cur = c.exec_driver_sql(
                "INSERT INTO memory_facts(statement, subject, pinned, valid_from_us, source_episode_ids, created_us) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (new_statement, subject if subject is not None else old[2],
                 int(old[3] if pinned is None else pinned), at_us,
                 json.dumps([int(i) for i in source_episode_ids]), to_us(None)))
            new_id = int(cur.lastrowid)
            c.exec_driver_sql("UPDATE memory_facts SET valid_to_us = ?, superseded_by = ? WHERE id = ?",
                              (max(at_us, old[4]), new_id, old_id))
        return new_id

    def _validity(self, at: datetime | None, include_closed: bool) -> tuple[str, tuple[Any, ...]]:
        if at is not None:
            a = to_us(at)
            return " AND f.valid_from_us <= ? AND (f.valid_to_us IS NULL OR f.valid_to_us > ?)", (a, a)
        if include_closed:
            return "", ()
        return " AND f.valid_to_us IS NULL", ()

    def search_facts(self, query: str, k: int = 10, at: datetime | None = None,
                     include_closed: bool = False) -> list[FactHit]:
        """Facts relevant to `query`, best first.

        By default only current facts; `at` asks what was valid at that moment (closed
        facts included when they were valid then); `include_closed` returns all versions.
        """
        vsql, vargs = self._validity(at, include_closed)
        terms = self.ranker.terms(query, set())
        with self._tx() as c:
            if not terms:
                rows = c.exec_driver_sql(
                    f"SELECT {', '.join('f.' + x.strip() for x in self._FACT_COLS.split(','))} FROM memory_facts f "
                    f"WHERE 1=1 {vsql} ORDER BY f.pinned DESC, f.id DESC LIMIT ?", (*vargs, k)).fetchall()
                return [self._fact(r) for r in rows]
            match = " OR ".join('"' + t.word.replace('"', '""') + '"' for t in terms)
            rows = c.exec_driver_sql(
                f"SELECT {', '.join('f.' + x.strip() for x in self._FACT_COLS.split(','))}, "
                "bm25(memory_facts_fts, 1.0, 0.5) AS r FROM memory_facts_fts JOIN memory_facts f ON f.id = memory_facts_fts.rowid "
                f"WHERE memory_facts_fts MATCH ? {vsql} ORDER BY r LIMIT ?", (match, *vargs, k)).fetchall()
        return [self._fact(r[:8], -float(r[8])) for r in rows]

    def facts(self, pinned_only: bool = False, at: datetime | None = None) -> list[FactHit]:
        """Facts valid now (or at `at`), pinned first, then newest first."""
        vsql, vargs = self._validity(at, False)
        if pinned_only:
            vsql += " AND f.pinned = 1"
        with self._tx() as c:
            rows = c.exec_driver_sql(
                f"SELECT {', '.join('f.' + x.strip() for x in self._FACT_COLS.split(','))} FROM memory_facts f "
                f"WHERE 1=1 {vsql} ORDER BY f.pinned DESC, f.id DESC", vargs).fetchall()
        return [self._fact(r) for r in rows]

    def forget(self, fact_id: int, *, purge: bool = True, conn: Connection | None = None) -> bool:
        """Delete a fact for good (row and FTS entry, index merged); facts it superseded stay closed.
        Pass `conn` to delete inside your transaction (and `purge` after it)."""
        with self._tx(conn) as c, secure_delete(c):
            c.exec_driver_sql("UPDATE memory_facts SET superseded_by = NULL WHERE superseded_by = ?", (fact_id,))
            gone = c.exec_driver_sql("DELETE FROM memory_facts WHERE id = ?", (fact_id,)).rowcount > 0
        if gone and purge:
            self.purge_index()
        return gone

    def forget_matching(self, text: str, *, purge: bool = True, conn: Connection | None = None) -> list[int]:
        """Delete every fact (current or closed) whose statement contains `text`; returns ids."""
        with self._tx(conn) as c:
            ids = self._matching(text, "memory_facts", "memory_facts_fts", "statement", c)
            for i in ids:
                self.forget(i, purge=False, conn=c)
        if ids and purge:
            self.purge_index()
        return ids

    # ---- summaries, digests, consolidation marks ----------------------------------
    def set_summary(self, conversation: str, text: str, upto_episode_id: int) -> None:
        with self._tx() as c:
            c.exec_driver_sql(
                "INSERT INTO memory_summaries(conversation, text, upto_episode_id, updated_us) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(conversation) DO UPDATE SET text = excluded.text, "
                "upto_episode_id = excluded.upto_episode_id, updated_us = excluded.updated_us",
                (conversation, text, int(upto_episode_id), to_us(None)))

    def get_summary(self, conversation: str) -> Summary | None:
        with self._tx() as c:
            r = c.exec_driver_sql("SELECT conversation, text, upto_episode_id, updated_us FROM memory_summaries "
                                  "WHERE conversation = ?", (conversation,)).first()
        return Summary(r[0], r[1], r[2], from_us(r[3])) if r else None

    def set_digest(self, day: date | str, text: str) -> None:
        d = day.isoformat() if isinstance(day, date) else date.fromisoformat(day).isoformat()
        with self._tx() as c:
            c.exec_driver_sql(
                "INSERT INTO memory_digests(day, text, updated_us) VALUES (?, ?, ?) "
                "ON CONFLICT(day) DO UPDATE SET text = excluded.text, updated_us = excluded.updated_us",
                (d, text, to_us(None)))

    def get_digest(self, day: date | str) -> str | None:
        d = day.isoformat() if isinstance(day, date) else date.fromisoformat(day).isoformat()
        with self._tx() as c:
            r = c.exec_driver_sql("SELECT text FROM memory_digests WHERE day = ?", (d,)).first()
        return r[0] if r else None

    def get_mark(self, conversation: str) -> int:
        """Last episode id consolidation has processed for a conversation (0 if none)."""
        with self._tx() as c:
            r = c.exec_driver_sql("SELECT episode_id FROM memory_marks WHERE conversation = ?",
                                  (conversation,)).first()
        return int(r[0]) if r else 0

    def unconsolidated(self, speakers: Iterable[str]) -> list[str]:
        """Conversations in which one of ``speakers`` spoke after their mark (work left over; what others said
        since, a notification, waits for them)."""
        wanted = sorted(set(speakers))
        if not wanted:
            return []
        with self._tx() as c:
            rows = c.exec_driver_sql(
                "SELECT DISTINCT e.conversation FROM memory_episodes e "
                "LEFT JOIN memory_marks m ON m.conversation = e.conversation "
                f"WHERE e.id > coalesce(m.episode_id, 0) AND e.speaker IN ({','.join('?' * len(wanted))}) "
                "ORDER BY e.conversation", tuple(wanted)).fetchall()
        return [r[0] for r in rows]

    def set_mark(self, conversation: str, episode_id: int) -> None:
        with self._tx() as c:
            c.exec_driver_sql(
                "INSERT INTO memory_marks(conversation, episode_id) VALUES (?, ?) "
                "ON CONFLICT(conversation) DO UPDATE SET episode_id = excluded.episode_id",
                (conversation, int(episode_id)))

    # ---- export / import ----------------------------------------------------------
    def export_jsonl(self, fp: IO[str]) -> int:
        """Write everything (episodes, facts, summaries, digests, marks) as JSON lines.

        Vectors are not exported: they are derived data, recomputed by `embed_pending`
        after an import. Returns the number of records written.
        """
        n = 0
        with self._tx() as c:
            for r in c.exec_driver_sql("SELECT id, conversation, speaker, at_us, text, meta FROM memory_episodes ORDER BY id"):
                rec = {"type": "episode", "id": r[0], "conversation": r[1], "speaker": r[2],
                       "at": from_us(r[3]).isoformat(), "text": r[4],
                       "meta": json.loads(r[5]) if r[5] is not None else None}
                fp.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n += 1
            for r in c.exec_driver_sql(f"SELECT {self._FACT_COLS} FROM memory_facts ORDER BY id"):
                f = self._fact(r)
                rec = {"type": "fact", "id": f.id, "statement": f.statement, "subject": f.subject,
                       "pinned": f.pinned, "valid_from": f.valid_from.isoformat(),
                       "valid_to": f.valid_to.isoformat() if f.valid_to else None,
                       "superseded_by": f.superseded_by, "source_episode_ids": f.source_episode_ids}
                fp.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n += 1
            for r in c.exec_driver_sql("SELECT conversation, text, upto_episode_id FROM memory_summaries"):
                fp.write(json.dumps({"type": "summary", "conversation": r[0], "text": r[1],
                                     "upto_episode_id": r[2]}, ensure_ascii=False) + "\n")
                n += 1
            for r in c.exec_driver_sql("SELECT day, text FROM memory_digests ORDER BY day"):
                fp.write(json.dumps({"type": "digest", "day": r[0], "text": r[1]}, ensure_ascii=False) + "\n")
                n += 1
            for r in c.exec_driver_sql("SELECT conversation, episode_id FROM memory_marks"):
                fp.write(json.dumps({"type": "mark", "conversation": r[0], "episode_id": r[1]}) + "\n")
                n += 1
        return n

    def import_jsonl(self, fp: IO[str]) -> dict[str, int]:
        """Load records written by `export_jsonl`; idempotent (known records are skipped).

        Episodes match on (conversation, speaker, time, text), facts on (statement,
        subject, valid_from). Ids are kept when free; references (source episodes,
        superseded_by, summary and mark positions) are remapped when they are not.
        Returns counts of records added per type. Imported episodes have no vectors
        yet: `embed_pending` computes them (never inside this transaction).
        """
        added = {"episode": 0, "fact": 0, "summary": 0, "digest": 0, "mark": 0}
        ep_map: dict[int, int] = {}
        fact_map: dict[int, int] = {}
        later: list[dict[str, Any]] = []
        with self._tx() as c:
            for lineno, line in enumerate(fp, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    kind = rec["type"]
                except (ValueError, KeyError, TypeError) as e:
                    raise ValueError(f"line {lineno}: not a memory export record ({e})") from None
                if kind == "episode":
                    at = to_us(datetime.fromisoformat(rec["at"]))
                    key = (rec.get("conversation") or "default", rec.get("speaker") or "", at, rec["text"])
                    row = c.exec_driver_sql(
                        "SELECT id FROM memory_episodes WHERE conversation = ? AND speaker = ? AND at_us = ? AND text = ?",
                        key).first()
                    if row:
                        ep_map[rec["id"]] = row[0]
                        continue
                    free = c.exec_driver_sql("SELECT 1 FROM memory_episodes WHERE id = ?", (rec["id"],)).first() is None
                    cur = c.exec_driver_sql(
                        "INSERT INTO memory_episodes(id, conversation, speaker, at_us, text, meta) VALUES (?, ?, ?, ?, ?, ?)",
                        (rec["id"] if free else None, *key, _dump_meta(rec.get("meta"))))
                    self._count_terms(c, [(key[3], key[1])], 1)
                    ep_map[rec["id"]] = int(cur.lastrowid)
                    added["episode"] += 1
                elif kind == "fact":
                    vf = to_us(datetime.fromisoformat(rec["valid_from"]))
                    row = c.exec_driver_sql(
                        "SELECT id FROM memory_facts WHERE statement = ? AND coalesce(subject, '') = ? AND valid_from_us = ?",
                        (rec["statement"], rec.get("subject") or "", vf)).first()
                    if row:
                        fact_map[rec["id"]] = row[0]
                        continue
                    free = c.exec_driver_sql("SELECT 1 FROM memory_facts WHERE id = ?", (rec["id"],)).first() is None
                    vt = rec.get("valid_to")
                    cur = c.exec_driver_sql(
                        "INSERT INTO memory_facts(id, statement, subject, pinned, valid_from_us, valid_to_us, "
                        "source_episode_ids, created_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (rec["id"] if free else None, rec["statement"], rec.get("subject"), int(bool(rec.get("pinned"))),
                         vf, to_us(datetime.fromisoformat(vt)) if vt else None,
                         json.dumps([ep_map.get(i, i) for i in rec.get("source_episode_ids") or []]), to_us(None)))
                    fact_map[rec["id"]] = int(cur.lastrowid)
                    added["fact"] += 1
                    if rec.get("superseded_by") is not None:
                        later.append(rec)
                elif kind in ("summary", "digest", "mark"):
                    later.append(rec)
            for rec in later:
                kind = rec["type"]
                if kind == "fact":
                    c.exec_driver_sql("UPDATE memory_facts SET superseded_by = ? WHERE id = ?",
                                      (fact_map.get(rec["superseded_by"], rec["superseded_by"]), fact_map[rec["id"]]))
                elif kind == "summary":
                    upto = ep_map.get(rec["upto_episode_id"], rec["upto_episode_id"])
                    cur = c.exec_driver_sql(
                        "INSERT INTO memory_summaries(conversation, text, upto_episode_id, updated_us) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(conversation) DO NOTHING", (rec["conversation"], rec["text"], upto, to_us(None)))
                    added["summary"] += cur.rowcount
                elif kind == "digest":
                    cur = c.exec_driver_sql("INSERT INTO memory_digests(day, text, updated_us) VALUES (?, ?, ?) "
                                            "ON CONFLICT(day) DO NOTHING", (rec["day"], rec["text"], to_us(None)))
                    added["digest"] += cur.rowcount
                elif kind == "mark":
                    cur = c.exec_driver_sql(
                        "INSERT INTO memory_marks(conversation, episode_id) VALUES (?, ?) ON CONFLICT(conversation) "
                        "DO NOTHING", (rec["conversation"], ep_map.get(rec["episode_id"], rec["episode_id"])))
                    added["mark"] += cur.rowcount
        self.ranker.invalidate()
        return added


def _pack_vectors(vecs: Sequence[Sequence[float]], n: int) -> list[bytes | None]:
    """The embedder's output for `n` texts as float32 blobs, None for an all-zero vector.

    Checked before anything is stored: a bad vector in the table would break every search."""
    try:
        arrays = [array("f", [float(x) for x in v]) for v in vecs]
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"embedder returned something other than vectors of numbers: {e}") from None
    if len(arrays) != n:
        raise ValueError(f"embedder returned {len(arrays)} vectors for {n} texts")
    dims = {len(a) for a in arrays}
    if len(dims) != 1 or 0 in dims:
        raise ValueError(f"embedder returned vectors of dimensions {sorted(dims)}, expected one non-zero size")
    if not all(math.isfinite(x) for a in arrays for x in a):
        raise ValueError("embedder returned a vector with a NaN or infinite component (float32)")
    return [a.tobytes() if any(a) else None for a in arrays]


def _halves(texts: list[str]) -> list[list[str]]:
    return [texts[:len(texts) // 2], texts[len(texts) // 2:]]


def escape_like(text: str) -> str:
    """``text`` as a literal inside an SQL ``LIKE ... ESCAPE '\\'`` pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@contextmanager
def secure_delete(c: Connection) -> Iterator[None]:
    """``PRAGMA secure_delete`` on this connection while forgetting: what is deleted is overwritten
    with zeros in the file instead of lingering in free space. Restored after (it costs little,
    but the connection goes back to a pool the caller owns)."""
    if c.dialect.name != "sqlite":  # pragma: no cover - other drivers
        yield
        return
    before = c.exec_driver_sql("PRAGMA secure_delete").scalar()
    c.exec_driver_sql("PRAGMA secure_delete = 1")
    try:
        yield
    finally:
        c.exec_driver_sql(f"PRAGMA secure_delete = {int(before or 0)}")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
