"""Forgetting for good: memory, and every copy of the same words the daemon keeps in claw.db.

The memory library deletes facts, episodes, summaries and digests (FTS rows included).
The daemon keeps what was said in its own tables too: the inbox (what came in), the
outbox (replies), the transcript (``messages``: the web chat and the next turn's recent
window), the turn journal (LLM steps, tool calls and their results), pending
confirmations and task history. Those rows carry guarantees (a retried webhook is a
no-op because its inbox row exists; an outbox row records delivery), so they stay and
their text becomes ``[forgotten]``.

What is redacted, and how it is found:

- ``--match TEXT``: every stored value containing TEXT, case-insensitively, in every table
  of claw.db (JSON columns value by value, so they stay valid JSON), plus the rows each
  deleted episode came from: memory also matches the same words after stemming, so a
  message it deleted is redacted even where no literal copy exists.
- an episode id: the rows of the turn that episode came from (``inbox_id`` in its meta),
  chosen by its role: a message -> its inbox row and transcript line; a reply -> its
  transcript line, outbox row, the turn's stored result and the journaled LLM text; a
  tool call -> that tool's calls and results in the journal and the turn's actions; a
  message the claw sent on its own -> the transcript line and outbox row of that
  conversation with the same text. Not a search of everything for the text: an episode
  can be "ok", and forgetting one "ok" must not blank every "ok" ever said.
- a fact id: the fact, then verbatim copies of its statement (the ``remember`` call, the
  message that asked for it) exactly as ``--match`` would with the whole statement.

Never rewritten: identifiers (keys, conversation ids, phone numbers, channel, status, tool
and device names), and live standing tasks (active or paused) whose definition mentions
the text: rewriting one would silently change what it does, so they are listed for the
owner to remove (``claw tasks rm ID``). A waiting confirmation that mentions it is
cancelled, so a later "yes" cannot run a redacted action.

Then the file: deletions run with ``secure_delete`` (freed space is zeroed), the FTS
indexes are merged (a delete only adds a tombstone until segments merge), the WAL is
checkpointed and truncated (older frames hold older page images), and the file is read
back; if the text is still in it (space freed before, by ordinary writes without
``secure_delete``) and no live row holds it, the database is VACUUMed (about 0.2 s at
100k episodes).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from claw.logging import scrub
from memory import Hit, MemoryStore
from memory.store import escape_like, secure_delete

FORGOTTEN = "[forgotten]"
#: Columns that identify or route rather than say something: never rewritten.
IDENTIFIERS = frozenset({
    "channel", "status", "kind", "origin", "role", "sender", "recipient", "peer", "provider", "model", "purpose",
    "created_by", "tool", "run_key", "address", "code", "via", "key", "version", "conversation", "speaker", "trigger",
})
#: Keys inside JSON values that name things (tools, calls, devices) rather than quote anyone.
KEEP_KEYS = frozenset({
    "id", "call_id", "name", "tool", "role", "kind", "status", "handled_by", "stop_reason", "type", "origin",
    "channel", "media_type", "domain", "service", "entity_id",
})
#: Task statuses in which a task still runs: its definition is listed, not rewritten.
LIVE_TASKS = ("active", "paused")
#: At most this many redacted texts (besides the words given) are looked for in the file's bytes.
FILE_CHECK_TEXTS = 50


@dataclass
class ForgetReport:
    facts: list[int] = field(default_factory=list)
    episodes: list[int] = field(default_factory=list)
    summaries: int = 0
    digests: int = 0
    #: "table.column" -> rows whose value was redacted
    redacted: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0  # waiting confirmations cancelled
    kept_tasks: list[int] = field(default_factory=list)  # live tasks that still mention it
    #: the texts forgotten (for the running turn, and to check the file)
    needles: list[str] = field(default_factory=list)
    file: str = ""  # what the file check found: clean | vacuumed | ...

    def count(self, table: str, column: str, n: int = 1) -> None:
        key = f"{table}.{column}"
        self.redacted[key] = self.redacted.get(key, 0) + n

    def describe(self) -> str:
        out = (f"forgot {len(self.facts)} fact(s), {len(self.episodes)} episode(s), "
               f"{self.summaries} summary(ies), {self.digests} digest(s)")
        if self.redacted:
            tables: dict[str, int] = {}
            for key, n in self.redacted.items():
                tables[key.split(".")[0]] = tables.get(key.split(".")[0], 0) + n
            out += "; redacted " + ", ".join(f"{t} {n}" for t, n in sorted(tables.items()))
        if self.cancelled:
            out += f"; cancelled {self.cancelled} waiting confirmation(s)"
        if self.kept_tasks:
            ids = " ".join(str(i) for i in self.kept_tasks)
            out += f"; still in standing task(s) #{', #'.join(map(str, self.kept_tasks))} (remove: claw tasks rm {ids})"
        if self.file and self.file not in ("clean", "vacuumed"):
            out += f"; {self.file}"
        return out


class Matcher:
    """Does a stored value contain what is forgotten? Case-insensitive substring (also as it looks
    inside JSON); with an analyzer, also the same words as a phrase after stemming, as memory's
    own forget matches (used on a turn's few rows, too slow for a whole database)."""

    def __init__(self, needles: Iterable[str], analyzer: Any = None):
        self.needles = [n.strip() for n in needles if n and n.strip()]
        forms: set[str] = set()
        for n in self.needles:
            forms |= {n.casefold(), json.dumps(n, ensure_ascii=False)[1:-1].casefold(), json.dumps(n)[1:-1].casefold()}
        self.forms = sorted(forms)
        self.analyzer = analyzer
        self.stems = [s for s in (analyzer.tokens(n) for n in self.needles)] if analyzer is not None else []

    def __bool__(self) -> bool:
        return bool(self.needles)

    def __call__(self, value: Any) -> bool:
        if not isinstance(value, str) or not value:
            return False
        low = value.casefold()
        if any(f in low for f in self.forms):
            return True
        if self.stems:
            toks = self.analyzer.tokens(value)
            for st in self.stems:
                if st and any(toks[i:i + len(st)] == st for i in range(len(toks) - len(st) + 1)):
                    return True
        return False

    def where(self, column: str) -> tuple[str, list[str]]:
        """An SQL condition for values of ``column`` that may match: LIKE (C speed, ASCII case
        folding) when that is exact, else the Python matcher registered as ``claw_forgets``."""
        if not self.stems and all(f.isascii() for f in self.forms):
            return ("(" + " OR ".join(f'"{column}" LIKE ? ESCAPE \'\\\'' for _ in self.forms) + ")",
                    [f"%{escape_like(f)}%" for f in self.forms])
        return f'claw_forgets("{column}")', []

    @contextmanager
    def installed(self, c: Connection) -> Iterator[None]:
        """``claw_forgets(value)`` in SQL on this connection, removed after (it holds the text)."""
        raw = sqlite_connection(c)
        raw.create_function("claw_forgets", 1, lambda v: int(self(v)), deterministic=True)
        try:
            yield
        finally:
            raw.create_function("claw_forgets", 1, None)


def sqlite_connection(c: Connection) -> sqlite3.Connection:
    """The driver's connection under ``c`` (functions, pragmas and VACUUM need it)."""
    raw = c.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection), "forgetting scrubs SQLite files only"
    return raw


def _walk(value: Any, hit: Callable[[str], bool], key: str | None = None) -> Any:
    """``value`` with every string leaf that ``hit`` accepts replaced (names under KEEP_KEYS kept)."""
    if isinstance(value, str):
        return FORGOTTEN if key not in KEEP_KEYS and value != FORGOTTEN and hit(value) else value
    if isinstance(value, dict):
        return {k: _walk(v, hit, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, hit, key) for v in value]
    return value


def _redact_json(raw: Any, hit: Callable[[str], bool]) -> Any:
    """A JSON column's stored text with matching values redacted (``raw`` itself when nothing changed)."""
    if not isinstance(raw, str):
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        return FORGOTTEN if hit(raw) else raw
    new = _walk(value, hit)
    return raw if new == value else json.dumps(new, ensure_ascii=False, default=str)


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its first statement (read, then rewrite, atomically)."""
    with engine.begin() as c:
        raw = sqlite_connection(c)
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")
        with secure_delete(c):
            yield c


# -- where the daemon keeps text ------------------------------------------------------------


@dataclass
class _Table:
    name: str
    key: list[str]  # ["rowid"], or the primary key of a WITHOUT ROWID table
    columns: list[tuple[str, bool]]  # (column, holds JSON)
    all_text: list[str]  # every text column, identifiers included (for the residual check)
    inbox_column: str | None  # "id" for the inbox, "inbox_id" where rows belong to a turn


def _tables(c: Connection, *, include_memory: bool = False) -> list[_Table]:
    """Every ordinary table of claw.db and its text columns (FTS indexes and their shadow tables excluded)."""
    rows = c.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [n for n, sql in rows if (sql or "").lstrip().upper().startswith("CREATE VIRTUAL")]
    out = []
    for name, sql in rows:
        if name.startswith("sqlite_") or name in virtual or any(name.startswith(v + "_") for v in virtual):
            continue
        if name.startswith("memory_") and not include_memory:
            continue  # the memory library's own: deleted there, never redacted here
        info = c.exec_driver_sql(f'PRAGMA table_info("{name}")').fetchall()  # cid, name, type, notnull, default, pk
        pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
        ident = set(pk) | {r[3] for r in c.exec_driver_sql(f'PRAGMA foreign_key_list("{name}")')}
        for idx in c.exec_driver_sql(f'PRAGMA index_list("{name}")').fetchall():  # seq, name, unique, ...
            if idx[2]:
                ident |= {r[2] for r in c.exec_driver_sql(f'PRAGMA index_info("{idx[1]}")')}
        columns, all_text = [], []
        for r in info:
            col, typ = r[1], (r[2] or "").upper()
            if typ and not any(k in typ for k in ("CHAR", "CLOB", "TEXT", "JSON")):
                continue  # numbers, dates, blobs (pickled scheduler jobs hold task ids only)
            all_text.append(col)
            if col not in ident and col not in IDENTIFIERS and not col.endswith("_id"):
                columns.append((col, "JSON" in typ))
        names = {r[1] for r in info}
        inbox_column = "id" if name == "inbox" else ("inbox_id" if "inbox_id" in names else None)
        key = pk if "WITHOUT ROWID" in (sql or "").upper() else ["rowid"]
        out.append(_Table(name, key, columns, all_text, inbox_column))
    return out


def _match_sql(t: _Table, matcher: Matcher) -> tuple[str, list[Any]]:
    conds, params = [], []
    for col, _ in t.columns:
        sql, p = matcher.where(col)
        conds.append(sql)
        params += p
    return "(" + " OR ".join(conds) + ")", params


def find_matching(c: Connection, matcher: Matcher) -> dict[str, list[Any]]:
    """Rowids of the rows ``redact_matching`` would look at, per table: the slow part (a scan of every
    text column), run before the write lock is taken so the daemon's writes do not wait for it."""
    out: dict[str, list[Any]] = {}
    if not matcher:
        return out
    with matcher.installed(c):
        for t in _tables(c):
            if t.columns and t.key == ["rowid"]:
                where, params = _match_sql(t, matcher)
                ids = [r[0] for r in c.exec_driver_sql(f'SELECT rowid FROM "{t.name}" WHERE {where}', tuple(params))]
                if ids:
                    out[t.name] = ids
        return out


def redact_matching(c: Connection, matcher: Matcher, report: ForgetReport, *, inbox_id: int | None = None,
                    candidates: dict[str, list[Any]] | None = None) -> None:
    """Redact every stored value ``matcher`` accepts, in every table (or only the rows of one turn,
    or only the ``candidates`` rows ``find_matching`` found, checked again here).

    Runs in the caller's write transaction. Live task definitions are listed instead, and a
    waiting confirmation that mentions it is cancelled as well.
    """
    if not matcher:
        return
    with matcher.installed(c):
        for t in _tables(c):
            if not t.columns or (inbox_id is not None and t.inbox_column is None):
                continue
            if candidates is not None and t.key == ["rowid"] and not candidates.get(t.name):
                continue
            where, params = _match_sql(t, matcher)
            if inbox_id is not None:  # first: the (Python) matcher then only sees the turn's rows
                where = f'"{t.inbox_column}" = ? AND ' + where
                params.insert(0, inbox_id)
            extra = ', "status"' if t.name in ("tasks", "pending_actions") else ""
            cols = ", ".join(f'"{col}"' for col, _ in t.columns)
            keys = ", ".join(f'"{k}"' if k != "rowid" else "rowid" for k in t.key)
            select = f'SELECT {keys}, {cols}{extra} FROM "{t.name}" WHERE {where}'
            if candidates is not None and t.key == ["rowid"]:
                ids = candidates[t.name]
                found: list[Any] = []
                for i in range(0, len(ids), 500):
                    chunk = ids[i:i + 500]
                    found += c.exec_driver_sql(select + f" AND rowid IN ({','.join('?' * len(chunk))})",
                                               (*params, *chunk)).fetchall()
            else:
                found = list(c.exec_driver_sql(select, tuple(params)).fetchall())
            for row in found:
                key, values = row[:len(t.key)], row[len(t.key):len(t.key) + len(t.columns)]
                status = row[-1] if extra else None
                if t.name == "tasks" and status in LIVE_TASKS:
                    if key[0] not in report.kept_tasks:
                        report.kept_tasks.append(key[0])
                    continue
                changes: dict[str, Any] = {}
                for (col, is_json), value in zip(t.columns, values, strict=True):
                    new = _redact_json(value, matcher) if is_json else (FORGOTTEN if matcher(value) else value)
                    if new != value:
                        changes[col] = new
                        report.count(t.name, col)
                if t.name == "pending_actions" and status == "waiting":
                    changes["status"] = "cancelled"
                    report.cancelled += 1
                if changes:
                    _update(c, t, key, changes)


def _update(c: Connection, t: _Table, key: tuple[Any, ...], changes: dict[str, Any]) -> None:
    sets = ", ".join(f'"{col}" = ?' for col in changes)
    where = " AND ".join(("rowid" if k == "rowid" else f'"{k}"') + " = ?" for k in t.key)
    c.exec_driver_sql(f'UPDATE "{t.name}" SET {sets} WHERE {where}', (*changes.values(), *key))


# -- the rows one episode came from ----------------------------------------------------------


def _rewrite(c: Connection, report: ForgetReport, table: str, column: str, where: str, ids: Iterable[Any],
             fn: Callable[[Any, Any], Any], *, by: str = "inbox_id", is_json: bool = False) -> list[Any]:
    """Apply ``fn(row[by], value)`` to ``column`` of the rows whose ``by`` is in ``ids`` and that
    ``where`` selects; returns the old values that changed."""
    if not c.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).first():
        return []  # a memory-only database (`claw memory import` into a fresh home)
    ids = sorted(set(ids), key=str)
    changed = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        rows = c.exec_driver_sql(
            f'SELECT rowid, "{by}", "{column}" FROM "{table}" WHERE "{by}" IN ({",".join("?" * len(chunk))})'
            + (f" AND {where}" if where else ""), tuple(chunk)).fetchall()
        for rowid, key, raw in rows:
            if is_json:
                try:
                    value = json.loads(raw) if isinstance(raw, str) else raw
                except ValueError:
                    continue
                new = fn(key, value)
                if new == value:
                    continue
                stored: Any = json.dumps(new, ensure_ascii=False, default=str)
            else:
                stored = fn(key, raw)
                if stored == raw:
                    continue
            c.exec_driver_sql(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', (stored, rowid))
            report.count(table, column)
            changed.append(raw)
    return changed


def _blank(_key: Any, _value: Any) -> Any:
    return FORGOTTEN


def _all(_s: str) -> bool:
    return True


def redact_episode_copies(c: Connection, hits: Iterable[Hit], report: ForgetReport) -> list[str]:
    """Redact the rows the episodes ``hits`` were made from (see the module docstring), a few
    set-wise statements for any number of episodes; returns the original texts replaced, so
    the caller can check the file for them too."""
    said: set[int] = set()  # inbox ids whose message is forgotten
    replies: dict[int, list[str]] = {}  # inbox id -> forgotten reply texts
    tools: dict[int, set[str]] = {}  # inbox id -> tools whose calls are forgotten
    notes: dict[str, set[str]] = {}  # conversation -> texts the claw sent on its own
    for hit in hits:
        meta = hit.meta if isinstance(hit.meta, dict) else {}
        inbox_id, role = meta.get("inbox_id"), meta.get("role")
        if inbox_id is not None and role in ("user", "task"):
            said.add(inbox_id)
        elif inbox_id is not None and role == "assistant":
            replies.setdefault(inbox_id, []).append(hit.text)
        elif inbox_id is not None and role == "tool":
            tools.setdefault(inbox_id, set()).add(str(meta.get("tool")))
        elif inbox_id is None:  # sent on its own (notify), or imported: no turn links it
            notes.setdefault(hit.conversation, set()).add(hit.text)

    def in_reply(inbox_id: int, text: str) -> bool:
        text = text.strip()
        return bool(text) and any(text in r or scrub(text) in r for r in replies.get(inbox_id, ()))

    def step(inbox_id: int, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        gone = tools.get(inbox_id, set())
        msg = data.get("message")
        if isinstance(msg, dict):  # an LLM step: its text (the reply), or its calls of forgotten tools
            new = dict(msg)
            if in_reply(inbox_id, msg.get("text") or ""):
                new["text"] = FORGOTTEN
            if gone and msg.get("tool_calls"):
                new["tool_calls"] = [{**tc, "arguments": _walk(tc.get("arguments"), _all)}
                                     if tc.get("name") in gone else tc for tc in msg["tool_calls"]]
            return {**data, "message": new}
        if data.get("name") in gone:  # a tool's start or result: content, args, error, services
            return {**_walk(data, _all), "call_id": data.get("call_id"), "name": data.get("name")}
        return data

    def result(inbox_id: int, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        value = dict(value)
        if inbox_id in replies and value.get("reply"):
            value["reply"] = FORGOTTEN
        gone = tools.get(inbox_id)
        if gone and isinstance(value.get("actions"), list):
            value["actions"] = [_walk(a, _all) if isinstance(a, dict) and a.get("tool") in gone else a
                                for a in value["actions"]]
        return value

    def note(conversation: str, raw: Any) -> Any:
        texts = notes.get(conversation, set())
        return FORGOTTEN if isinstance(raw, str) and (raw in texts or scrub(raw) in texts) else raw

    originals: list[Any] = []
    originals += _rewrite(c, report, "inbox", "text", "", said, _blank, by="id")
    originals += _rewrite(c, report, "messages", "text", "role IN ('user', 'task')", said, _blank)
    originals += _rewrite(c, report, "messages", "text", "role = 'assistant'", replies, _blank)
    originals += _rewrite(c, report, "outbox", "text", "", replies, _blank)
    _rewrite(c, report, "inbox", "result", "", replies.keys() | tools.keys(), result, by="id", is_json=True)
    _rewrite(c, report, "messages", "meta", "", tools, result, is_json=True)
    _rewrite(c, report, "turn_steps", "data", "", replies.keys() | tools.keys(), step, is_json=True)
    originals += _rewrite(c, report, "messages", "text", "inbox_id IS NULL AND role = 'assistant'", notes, note,
                          by="conversation_id")
    originals += _rewrite(c, report, "outbox", "text", "inbox_id IS NULL", notes, note, by="conversation_id")
    return [o for o in originals if isinstance(o, str)]


# -- the file --------------------------------------------------------------------------------


def _checkpoint(raw: Any, attempts: int = 5) -> bool:
    """Copy the WAL into the database and truncate it (older frames hold older page images)."""
    for _ in range(attempts):
        busy = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if not busy:
            return True
        time.sleep(0.1)
    return False


def file_holds(path: str, needles: Iterable[str]) -> bool:
    """Whether the database file or its WAL still contains any needle's bytes (ASCII case folded)."""
    forms: set[bytes] = set()
    for n in needles:
        n = n.strip()
        if not n:
            continue
        for s in {n, json.dumps(n, ensure_ascii=False)[1:-1], json.dumps(n)[1:-1]}:
            forms |= {s.encode(), s.lower().encode()}
    if not forms:
        return False
    overlap = max(len(f) for f in forms)
    for name in (path, path + "-wal"):
        try:
            with open(name, "rb") as f:
                tail = b""
                while chunk := f.read(4 << 20):
                    data = tail + chunk
                    low = data.lower()
                    if any(form in data or form in low for form in forms):
                        return True
                    tail = data[-overlap:]
        except FileNotFoundError:
            continue
    return False


def residual(c: Connection, needles: Iterable[str]) -> list[str]:
    """Live copies still in the database (every table and text column, memory and identifiers too)."""
    matcher = Matcher(needles)
    if not matcher:
        return []
    with matcher.installed(c):
        out = []
        for t in _tables(c, include_memory=True):
            for col in t.all_text:
                sql, params = matcher.where(col)
                n = c.exec_driver_sql(f'SELECT count(*) FROM "{t.name}" WHERE {sql}', tuple(params)).scalar()
                if n:
                    out.append(f"{t.name}.{col} ({n})")
        return out


def scrub_file(engine: Engine, needles: Iterable[str], report: ForgetReport | None = None) -> str:
    """Make sure the forgotten text is not left in the file's free space or the WAL (see the module doc)."""
    needles = [n for n in needles if n and n.strip()]
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:" or not needles:
        return ""
    path = os.path.abspath(path)
    with engine.connect() as c:
        raw = sqlite_connection(c)
        if raw.in_transaction:
            raw.commit()
        truncated = _checkpoint(raw)
        if not file_holds(path, needles):
            outcome = "clean"
        elif live := residual(c, needles):
            outcome = "still stored in " + ", ".join(live)
        else:
            before = raw.execute("PRAGMA secure_delete").fetchone()[0]
            raw.execute("PRAGMA secure_delete = 1")
            try:
                raw.execute("VACUUM")
            finally:
                raw.execute(f"PRAGMA secure_delete = {int(before or 0)}")
            truncated = _checkpoint(raw)
            outcome = "vacuumed" if not file_holds(path, needles) else "the file still holds it (see the log)"
        if not truncated:
            outcome += " (the WAL could not be truncated while the database was busy; it will be overwritten)"
    if report is not None:
        report.file = outcome
    return outcome


# -- the entry point -------------------------------------------------------------------------


def forget_everywhere(store: MemoryStore, what: str = "", *, fact: int | None = None, episode: int | None = None,
                      check_file: bool = True) -> ForgetReport:
    """Forget for good: everything containing ``what``, or one ``fact`` id, or one ``episode`` id.

    Memory rows are deleted (FTS indexes merged); the daemon's copies are redacted; then the
    file is checked. Summaries and digests are derived text with no per-item API, so they are
    removed whole when they mention it; the next consolidation rebuilds the summary.
    """
    report = ForgetReport()
    what = what.strip()
    if fact is not None:
        found = store.get_fact(fact)
        if found is None:
            return report
        what = found.statement
    elif episode is None and not what:
        return report
    matcher = Matcher([what] if episode is None else [])
    with store.engine.connect() as c:
        candidates = find_matching(c, matcher)  # a read: the daemon keeps writing meanwhile
    # One transaction deletes and redacts: a forget that fails leaves everything as it was, to be done again.
    with write_tx(store.engine) as c:
        if fact is not None:
            if not store.forget(fact, purge=False, conn=c):
                return report
            report.facts.append(fact)
        elif episode is None:
            report.facts = store.forget_matching(what, purge=False, conn=c)
        gone = store.forget_episodes([episode] if episode is not None else store.episodes_matching(what, conn=c),
                                     purge=False, conn=c)
        report.episodes = [h.id for h in gone]
        report.needles = [what] if episode is None else [h.text for h in gone]
        report.needles += [o for o in dict.fromkeys(redact_episode_copies(c, gone, report)) if o not in report.needles]
        redact_matching(c, matcher, report, candidates=candidates)
        if matcher:
            like = "%" + escape_like(matcher.needles[0]) + "%"
            report.summaries = c.exec_driver_sql(
                "DELETE FROM memory_summaries WHERE text LIKE ? ESCAPE '\\'", (like,)).rowcount
            report.digests = c.exec_driver_sql(
                "DELETE FROM memory_digests WHERE text LIKE ? ESCAPE '\\'", (like,)).rowcount
    if report.facts or report.episodes:
        store.purge_index()  # the words leave the FTS indexes too, not just the rows
    if check_file:
        # What the file is searched for: the words given, and the texts redacted because memory matched
        # them another way (stemmed, by id); bounded, as each is a pass over the bytes.
        extra = [n for n in report.needles if not matcher(n)] if matcher else report.needles
        scrub_file(store.engine, matcher.needles + extra[:FILE_CHECK_TEXTS], report)
    return report
