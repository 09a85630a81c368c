"""claw's memory: episodic log, semantic facts, summaries and hybrid recall on SQLite.

A library on SQLAlchemy 2 / SQLite that imports nothing from `claw`; the daemon hands it
its own Engine and the tables (all prefixed ``memory_``, versioned in ``memory_schema``)
live beside the daemon's in claw.db. SQLite runs in WAL mode; FTS5 external-content
indexes are kept in sync by triggers, so deletes really remove text from the index.

Episodes (the immutable log)::

    store = MemoryStore("sqlite:///mem.db")            # or MemoryStore(engine)
    eid = store.add_episode(text, conversation="c1", speaker="owner", at=dt, meta={...})
    ids = store.add_episodes([{"text": ..., "conversation": ..., "speaker": ..., "at": ..., "meta": ...}])
    hits = store.search("when did we go camping?", k=10, conversation="c1", after=None, before=None,
                        speaker=None, now=None, neighbors=0)   # -> list[Hit], best first
    store.recent("c1", limit=20); store.episodes_since(eid); store.get_episode(eid)
    store.forget_episode(eid); store.forget_episodes_matching("secret")   # hard delete
    store.episodes_matching("secret")            # ids a forget would delete (substring or stemmed phrase)
    store.forget_episodes(ids, purge=True)       # -> the deleted Hits; purge merges the FTS index
    store.purge_index()                          # merge FTS segments: a delete leaves a tombstone until then

`at` may be naive (taken as UTC) or aware; hits return aware UTC datetimes. `meta` is any
JSON value and comes back exactly as given. `search` is hybrid recall (see `memory.query`):
stop words dropped, porter stemming, OR query re-scored with term weights, related words,
category members (``memory.lexicon``, tables generated from WordNet by rule), the reply to a question inheriting
its score, session aggregation and diversity, date words ("last Tuesday",
"in March") as a boost relative to `now`, and optional embeddings
(``MemoryStore(url, embeddings=callable)``) fused by weight. ``embeddings="none"`` is the
default and needs no network.

Embeddings are never computed inside a transaction: `add_episodes` and `import_jsonl` store
text only, and the caller runs ``store.embed_pending(limit=256)`` in the background (it reads
pending texts, calls the embedder with no connection held, then writes the vectors; if the
embedder fails nothing is stored and the episodes stay pending). ``store.pending_embeddings()``
counts what is waiting. An episode without a vector is still found by its words.

Facts (semantic memory with history)::

    fid = store.remember("Owner's partner is Sam", subject="owner", source_episode_ids=[eid], pinned=True, at=None)
    store.search_facts("who is the partner", k=10, at=None, include_closed=False)  # -> list[FactHit]
    new = store.supersede(fid, "Owner's partner is Alex", at=dt)  # old closed (valid_to=dt), kept
    store.facts(pinned_only=False, at=None)      # facts valid now, or at a past moment
    store.forget(fid); store.forget_matching("Sam")   # hard delete, FTS rows included

A contradicted fact is closed, not deleted: ``search_facts(q, at=may_2024)`` answers what
was true then; ``forget`` is for the owner's right to be forgotten and really deletes.

Summaries and consolidation bookkeeping::

    store.set_summary("c1", text, upto_episode_id); store.get_summary("c1")  # -> Summary | None
    store.set_digest(date(2024, 5, 1), text); store.get_digest("2024-05-01")
    store.get_mark("c1"); store.set_mark("c1", episode_id)
    memory.consolidate.consolidate(store, "c1", ask)   # LLM-agnostic fact extraction

Export/import: ``store.export_jsonl(fp)`` / ``store.import_jsonl(fp)`` (idempotent).
Storage problems (corrupt file, locked database, newer schema) raise `StoreError`.
"""

from .errors import StoreError
from .query import SearchParams
from .records import FactHit, Hit
from .store import MemoryStore, Summary

__all__ = ["FactHit", "Hit", "MemoryStore", "SearchParams", "StoreError", "Summary"]
