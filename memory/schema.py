"""DDL for the memory tables and their versioned upgrade path.

All tables are prefixed `memory_` because they share the daemon's claw.db with other
tables; `memory_schema` holds this library's own schema version so upgrades never
depend on anyone else's migrations. FTS5 indexes use external content (the text is
stored once, in the base table) and are kept in sync by triggers, so every write path,
including a raw SQL delete, also updates the index.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

SCHEMA_VERSION = 4

# porter stemming over unicode61 with diacritics folded: "camping" matches "camped",
# "café" matches "cafe". Speaker is a second column so names are searchable too.
TOKENIZER = "porter unicode61 remove_diacritics 2"

_V1 = [
    """CREATE TABLE IF NOT EXISTS memory_episodes (
        id INTEGER PRIMARY KEY,
        conversation TEXT NOT NULL,
        speaker TEXT NOT NULL DEFAULT '',
        at_us INTEGER NOT NULL,
        text TEXT NOT NULL,
        meta TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS memory_episodes_conv_at ON memory_episodes(conversation, at_us)",
    "CREATE INDEX IF NOT EXISTS memory_episodes_at ON memory_episodes(at_us)",
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS memory_episodes_fts USING fts5(
        text, speaker, content='memory_episodes', content_rowid='id', tokenize='{TOKENIZER}')""",
    "CREATE VIRTUAL TABLE IF NOT EXISTS memory_episodes_vocab USING fts5vocab(memory_episodes_fts, 'row')",
    """CREATE TRIGGER IF NOT EXISTS memory_episodes_ai AFTER INSERT ON memory_episodes BEGIN
        INSERT INTO memory_episodes_fts(rowid, text, speaker) VALUES (new.id, new.text, new.speaker);
    END""",
    """CREATE TRIGGER IF NOT EXISTS memory_episodes_ad AFTER DELETE ON memory_episodes BEGIN
        INSERT INTO memory_episodes_fts(memory_episodes_fts, rowid, text, speaker)
        VALUES ('delete', old.id, old.text, old.speaker);
    END""",
    """CREATE TRIGGER IF NOT EXISTS memory_episodes_au AFTER UPDATE OF text, speaker ON memory_episodes BEGIN
        INSERT INTO memory_episodes_fts(memory_episodes_fts, rowid, text, speaker)
        VALUES ('delete', old.id, old.text, old.speaker);
        INSERT INTO memory_episodes_fts(rowid, text, speaker) VALUES (new.id, new.text, new.speaker);
    END""",
    """CREATE TABLE IF NOT EXISTS memory_vectors (
        episode_id INTEGER PRIMARY KEY REFERENCES memory_episodes(id) ON DELETE CASCADE,
        vec BLOB NOT NULL
    )""",
    """CREATE TRIGGER IF NOT EXISTS memory_vectors_ad AFTER DELETE ON memory_episodes BEGIN
        DELETE FROM memory_vectors WHERE episode_id = old.id;
    END""",
    """CREATE TABLE IF NOT EXISTS memory_facts (
        id INTEGER PRIMARY KEY,
        statement TEXT NOT NULL,
        subject TEXT,
        pinned INTEGER NOT NULL DEFAULT 0,
        valid_from_us INTEGER NOT NULL,
        valid_to_us INTEGER,
        superseded_by INTEGER,
        source_episode_ids TEXT NOT NULL DEFAULT '[]',
        created_us INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS memory_facts_valid ON memory_facts(valid_to_us, valid_from_us)",
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS memory_facts_fts USING fts5(
        statement, subject, content='memory_facts', content_rowid='id', tokenize='{TOKENIZER}')""",
    """CREATE TRIGGER IF NOT EXISTS memory_facts_ai AFTER INSERT ON memory_facts BEGIN
        INSERT INTO memory_facts_fts(rowid, statement, subject) VALUES (new.id, new.statement, coalesce(new.subject, ''));
    END""",
    """CREATE TRIGGER IF NOT EXISTS memory_facts_ad AFTER DELETE ON memory_facts BEGIN
        INSERT INTO memory_facts_fts(memory_facts_fts, rowid, statement, subject)
        VALUES ('delete', old.id, old.statement, coalesce(old.subject, ''));
    END""",
    """CREATE TRIGGER IF NOT EXISTS memory_facts_au AFTER UPDATE OF statement, subject ON memory_facts BEGIN
        INSERT INTO memory_facts_fts(memory_facts_fts, rowid, statement, subject)
        VALUES ('delete', old.id, old.statement, coalesce(old.subject, ''));
        INSERT INTO memory_facts_fts(rowid, statement, subject) VALUES (new.id, new.statement, coalesce(new.subject, ''));
    END""",
    """CREATE TABLE IF NOT EXISTS memory_summaries (
        conversation TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        upto_episode_id INTEGER NOT NULL,
        updated_us INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS memory_digests (
        day TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        updated_us INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS memory_marks (
        conversation TEXT PRIMARY KEY,
        episode_id INTEGER NOT NULL
    )""",
]

# Documents per stem, kept by `MemoryStore` as it writes episodes: FTS5's own count (fts5vocab) walks a term's
# whole posting list, 5 ms for a word in 30k turns, which a search asking for a thousand category members
# cannot afford. Filled once from the index.
_V2 = [
    "CREATE TABLE IF NOT EXISTS memory_terms (stem TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT OR REPLACE INTO memory_terms(stem, docs) SELECT term, doc FROM memory_episodes_vocab",
]

# What made the stored vectors (the embedding model, and how an episode is put into text for it): vectors of
# another model are meaningless to this one's questions, even at the same width.
_V3 = [
    "CREATE TABLE IF NOT EXISTS memory_vector_model (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL)",
]

# Counters kept by triggers, so they hold whichever process writes (`claw memory import` or a forget from the
# shell while the daemon runs): every change to the stored vectors (a search holding a loaded matrix compares it),
# and the highest id of a deleted episode (ids are not given again: SQLite gives the next episode the id of a
# forgotten newest one, which then inherited what was cached or marked for it).
_V4 = [
    """CREATE TABLE IF NOT EXISTS memory_counters (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        vector_changes INTEGER NOT NULL DEFAULT 0,
        deleted_episode INTEGER NOT NULL DEFAULT 0
    )""",
    # Deletions from before are not known: at least no id a consolidation mark or summary has passed is given again.
    """INSERT OR IGNORE INTO memory_counters(id, deleted_episode) SELECT 1, max(
        coalesce((SELECT max(episode_id) FROM memory_marks), 0),
        coalesce((SELECT max(upto_episode_id) FROM memory_summaries), 0))""",
    *(f"""CREATE TRIGGER IF NOT EXISTS memory_vectors_counted_{op.lower()} AFTER {op} ON memory_vectors BEGIN
        UPDATE memory_counters SET vector_changes = vector_changes + 1;
    END""" for op in ("INSERT", "UPDATE", "DELETE")),
    """CREATE TRIGGER IF NOT EXISTS memory_episodes_counted_delete AFTER DELETE ON memory_episodes BEGIN
        UPDATE memory_counters SET deleted_episode = max(deleted_episode, old.id);
    END""",
]

# Index i holds the statements that take the schema from version i to i + 1.
MIGRATIONS: list[list[str]] = [_V1, _V2, _V3, _V4]


def current_version(conn: Connection) -> int:
    """Version recorded in `memory_schema`, 0 for a database that has none of our tables."""
    conn.execute(text("CREATE TABLE IF NOT EXISTS memory_schema (version INTEGER NOT NULL)"))
    row = conn.execute(text("SELECT max(version) FROM memory_schema")).first()
    return int(row[0]) if row and row[0] is not None else 0


def upgrade(conn: Connection) -> int:
    """Create or upgrade the memory tables inside the caller's transaction; returns the version.

    A database written by a newer library version is refused rather than guessed at.
    """
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"memory schema version {version} is newer than this library ({SCHEMA_VERSION})"
        )
    for step in range(version, SCHEMA_VERSION):
        for ddl in MIGRATIONS[step]:
            conn.execute(text(ddl))
    if version != SCHEMA_VERSION:
        conn.execute(text("DELETE FROM memory_schema"))
        conn.execute(text("INSERT INTO memory_schema(version) VALUES (:v)"), {"v": SCHEMA_VERSION})
    return SCHEMA_VERSION
