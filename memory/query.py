"""Hybrid recall over episodes: how a question becomes a ranked list of turns.

Why not just hand the question to FTS5? Because questions are not AND-ed word lists and
their words are rarely the words of the answer. The pipeline:

1. A date expression ("last Tuesday", "in March") becomes a soft time window (a boost,
   and extra candidates from inside it); `after`/`before` are the hard filters.
2. Content words stay (stop and question words dropped); proper nouns weigh more, the
   speakers' own names less (in a two-person chat they match half the log); irregular
   forms and related words join at low weight, and a noun that names a category ("What
   instruments does Mel play?") also looks for the category's members present in the
   index, as "where" does for place names. All three tables come from WordNet by stated rules (`lexicon.py`).
3. Candidates come from FTS5 (OR query, BM25 order) over the selective terms only, then
   are re-scored in Python with a weighted BM25 over the same stems the index stores.
4. Optional pseudo-relevance feedback (`prf_terms`, off by default: it did not pay on
   our evaluation), then the turn after a strong hit inherits part of its score (answers
   follow questions), and turns of a speaker named in the question gain.
5. Session aggregation (session = conversation + day), then a diversity pass so one
   chatty session does not fill the top k, and near-repeats are skipped.
6. Optional embeddings are fused by weight with the normalised text score.

Evidence: bench/memory_eval.py, LoCoMo-shaped chats in four banks. TUNING, HELD-OUT and
FRESH have all been looked at while the search was developed; FINAL (issue 17) was written
before the last changes and is only run, never tuned on. Figures are means over seeds 1-5.

BM25 runs with k1=0.8, b=0.4: chat turns are short and rarely repeat a word, and full
length normalisation lets one-line echoes ("Wow, camping? Tell me more!") outrank the long
turn that holds the fact. The named person's own turns count double (an OR query on the
name alone would match half the log). `prefix_weight` (off: neutral) adds `stem*` terms for
near-miss forms the stemmer does not join (counseling/counselor).

Word tables (issue 17). A hand-written related-word list and 13 hand-picked categories
had been fitted to the banks (bouldering, marshmallows; the categories the tuning questions
asked for). They are replaced by WordNet tables built by rule over the whole of WordNet
(bench/memory_data/make_lexicon.py). Recall@10 overall / multi-session, mean of seeds 1-5,
hand tables -> WordNet tables (categories three levels deep) -> categories at any depth and
"where" asking for WordNet's place names (the current tables): FINAL 73.7 / 46.3 -> 73.5 /
45.3 -> 74.0 / 46.7, FRESH 75.0 / 49.8 -> 75.7 / 43.8 -> 75.3 / 48.6, HELD-OUT 74.0 / 53.4 ->
76.6 / 51.5 -> 77.7 / 59.6, TUNING 81.6 / 68.2 -> 75.9 / 58.9 -> 76.4 / 58.4 (the bank the
hand lists came from). The last step was chosen on the three dev banks (seeds 1-2: depth
+0.2 / +1.6, "where" +0.2 / +2.7, both mean); on FINAL the depth gave +0.6 / +1.4 and "where"
nothing (-0.1 / 0). On FINAL the related words are worth +2.6 overall and the categories
+3.1 / +2.7. A question word brings at most `related_max` (12) related words; a
question at most `categories_per_question` (6) categories (no bank asks for more). Category
members count only when present in the index (one `memory_terms` lookup per category, cached
with the document frequencies); each is a term at `category_weight`, and a turn scores only
its best member (`category_max_only`): a turn names one item. The candidates the expansion
terms fetch are bounded by `expansion_postings`.
Tried and not kept: gloss words of a word's first sense as related words (dev banks
even, noisier), coordinate terms (siblings under the hypernym; FINAL -0.5), a word's first
two senses only as categories (dev multi-session -1.5 against all senses), 24 related words
per word (slower, no better), categories capped at 500 members (HELD-OUT multi-session -5.5),
categories over 1,500 members kept with their 1,500 most frequent (dev +0.1 / +0.2).

Answers follow questions: the evidence is often the reply to the friend's question ("Do you
have any pets?" / "Yup, Oscar, my guinea pig"), which shares no word with the question
asked of the memory. The other speaker's next turn in the same conversation after a turn
with a "?" inherits half its score (`neighbor_question` 0.5), any other next turn 0.1
(`neighbor_next`); worth +5.4 overall on FINAL. Conversations interleave in the daemon, so
"next" is found by the conversation's own order, not by id.

Tried and not kept (no gain at k=10): a stronger per-session diversity for list questions;
session_weight 0 or 0.7; pseudo-relevance feedback; neighbor_prev (the answer is rarely
the turn before); a doubled named-speaker boost (hurts adversarial questions, which name
the wrong person); prefix terms.
"""

from __future__ import annotations

import itertools
import math
import re
import sqlite3
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from . import lexicon
from .dates import parse_date_window
from .text import QUESTION_WORDS, STOP_WORDS, Analyzer

DAY_US = 86_400_000_000
#: Episodes whose tokens are kept (about 0.8 KB each) and stems whose document counts are kept: enough for the
#: turns a household's searches keep finding, few enough that a daemon's memory stays flat over years.
TOKEN_CACHE = 5_000
DF_CACHE = 20_000
# Words asking for the newest state of something: recency then weighs in.
_RECENT_RE = re.compile(r"\b(?:latest|newest|most\s+recent(?:ly)?|last\s+time|current(?:ly)?|now|these\s+days)\b", re.I)
_TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


@dataclass
class SearchParams:
    """Tuning knobs; the defaults are the shipped configuration (see bench/memory_eval.py)."""

    candidates: int = 100
    expansion_weight: float = 0.45
    irregular_weight: float = 0.9
    entity_weight: float = 1.5
    speaker_weight: float = 0.3
    prf_docs: int = 5
    prf_terms: int = 0
    prf_weight: float = 0.3
    session_weight: float = 0.35
    diversity: float = 0.75
    date_boost: float = 1.0
    recency_weight: float = 0.0
    recency_asked: float = 0.5
    embedding_weight: float = 0.25
    neighbor_next: float = 0.1
    neighbor_prev: float = 0.0
    neighbor_question: float = 0.5
    neighbor_top: int = 30
    named_speaker_boost: float = 1.0
    prefix_weight: float = 0.0
    related_max: int = 12  # related words per word of the question, nearest first
    category_weight: float = 0.45
    # The candidates that related words and category members bring: their rarest terms first, at most this many
    # index entries (dozens of them, each in thousands of turns of a long history, cost tens of ms).
    expansion_postings: int = 5_000
    category_max: int = 24
    categories_per_question: int = 6
    category_max_only: bool = True
    prefix_min: int = 5
    selective_min: int = 300
    max_match_terms: int = 12
    selective_frac: float = 0.01
    # A long history (a household's years in one thread): BM25 ranks the newest `tier` episodes, and older
    # ones only through their rarest words, up to `older_postings` index entries, so a search costs the
    # same at a million episodes as at a hundred thousand. Below `tier` nothing changes.
    tier: int = 100_000
    older_postings: int = 2_000
    # Chat turns: weak length normalisation, or short echo turns ("Wow, camping? Tell me
    # more!") outrank the long turn that holds the fact; k1 low as turns rarely repeat words.
    k1: float = 0.8
    b: float = 0.4


@dataclass
class QTerm:
    word: str  # surface form given to FTS5 (which stems it)
    stem: str  # stem as stored in the index
    weight: float
    kind: str = "word"  # word | entity | speaker | related | prf | prefix

    def match(self) -> str:
        """FTS5 expression: the word (FTS5 stems it), or for a prefix term every indexed
        stem that starts with the word's stem ("counseling" -> counsel, counselor, ...)."""
        return fts_phrase(self.word) + ("*" if self.kind == "prefix" else "")


@dataclass
class Candidate:
    id: int
    conversation: str
    speaker: str
    at_us: int
    text: str
    tokens: Counter[str] = field(default_factory=Counter)
    spk_tokens: frozenset[str] = frozenset()
    length: int = 1
    score: float = 0.0


_NO_TOKENS: Counter[str] = Counter()  # a candidate's words until `Ranker._tokenized` counts them (never changed)


def _rows(conn: Connection, sql: str, args: Sequence[Any] = ()) -> list[Any]:
    """Run a read on the raw sqlite3 connection when there is one: this is the hot path,
    and SQLAlchemy's per-row overhead is a large share of a 100k-episode search."""
    raw = conn.connection.driver_connection
    if isinstance(raw, sqlite3.Connection):
        return raw.execute(sql, tuple(args)).fetchall()
    return list(conn.exec_driver_sql(sql, tuple(args)).fetchall())


def fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class Ranker:
    """Stateless per query; caches corpus statistics for a few seconds.

    The writer thread (`added`) and search threads share the caches without a lock: they
    are replaced by new objects, never cleared or updated in place, and a reader takes
    the reference once per call, so it sees an old or a new cache, never a half-cleared one.
    """

    def __init__(self, analyzer: Analyzer, params: SearchParams | None = None) -> None:
        self.an = analyzer
        self.p = params or SearchParams()
        self._stats: tuple[float, int, float] = (0.0, 0, 10.0)  # (taken_at, N, avgdl)
        self._speakers: tuple[float, set[str]] = (0.0, set())
        self._df: dict[str, int] = {}  # stem -> document count at about `_df_n` episodes
        self._df_n = 0
        self._spk_cache: dict[str, frozenset[str]] = {}
        self._tok: OrderedDict[int, tuple[str, Counter[str], int]] = OrderedDict()
        self._cat_present: dict[str, list[tuple[str, str, int]]] = {}

    # ---- corpus statistics -------------------------------------------------------
    def invalidate(self) -> None:
        """Corpus changed: recount soon. Token caches are keyed by id and check the text (an id is reused
        when the newest episode was forgotten)."""
        self._stats = (0.0, self._stats[1], self._stats[2])
        self._speakers = (0.0, self._speakers[1])

    def added(self, count: int, speakers: Iterable[str]) -> None:
        """New episodes: keep the cached statistics (a fresh count and average length cost
        milliseconds at 100k episodes, on every turn) but count them and learn new speakers."""
        taken, n, avgdl = self._stats
        if n:
            self._stats = (taken, n + count, avgdl)
            if self._df_n and n + count - self._df_n > 0.02 * self._df_n:
                self._reset_df(n + count)  # counts of a corpus 2% smaller: recount as needed
        taken, names = self._speakers
        if names:
            new = {w.lower() for s in speakers for w in _TOKEN_RE.findall(s or "")}
            if not new <= names:
                self._speakers = (taken, names | new)

    def _reset_df(self, n: int) -> None:
        """Fresh document-frequency caches: new dicts, as a search may be reading the old ones."""
        self._df = {}
        self._cat_present = {}
        self._df_n = n

    def stats(self, conn: Connection) -> tuple[int, float]:
        """(episodes, average length), counted once and after a deletion; ``added`` keeps the count since (a
        count(*) of a million rows costs a search's whole budget)."""
        taken, n, avgdl = self._stats
        if not taken or n == 0:
            n = _rows(conn, "SELECT count(*) FROM memory_episodes")[0][0] or 0
            rows = _rows(conn, "SELECT text FROM memory_episodes ORDER BY id DESC LIMIT 500")
            if rows:
                avgdl = sum(len(self.an.tokens(r[0])) for r in rows) / len(rows) or 10.0
            if not self._df_n or abs(n - self._df_n) > 0.02 * self._df_n:
                self._reset_df(n)
            self._stats = (time.monotonic(), int(n), max(avgdl, 1.0))
        return self._stats[1], self._stats[2]

    def speakers(self, conn: Connection) -> set[str]:
        """Words of every speaker's name, read once (a scan of the table) and after a deletion; ``added``
        learns new speakers."""
        taken, names = self._speakers
        if not taken or not names:
            names = set()
            for (s,) in _rows(conn, "SELECT DISTINCT speaker FROM memory_episodes"):
                names.update(w.lower() for w in _TOKEN_RE.findall(s or ""))
            self._speakers = (time.monotonic(), names)
        return names

    def df(self, conn: Connection, terms: Sequence[QTerm]) -> dict[str, int]:
        """Document frequency per stem, cached until the corpus grows by 2%."""
        cache = self._df  # once: the writer may swap in a new dict meanwhile (see the class doc)
        out: dict[str, int] = {}
        need: list[QTerm] = []
        for t in terms:
            d = cache.get(t.stem)
            if d is None:
                need.append(t)
            else:
                out[t.stem] = d
        # Single-token words: one `memory_terms` lookup for all of them (episodes per stem, kept as episodes
        # are written); phrases and prefixes need their own MATCH count.
        simple = {t.stem for t in need if t.kind != "prefix" and self.an.tokens(t.word) == [t.stem]}
        # A word not in the index yet is not cached: the next episode may say it ("what did I just say about
        # the fence?"), while counts that are only a little stale still rank well.
        for s_, d in ({s: 0 for s in simple} | self._term_docs(conn, simple)).items():
            out[s_] = d
            if d:
                cache[s_] = d
        for t in need:
            if t.stem in out:
                continue
            d = _rows(conn, "SELECT count(*) FROM memory_episodes_fts WHERE memory_episodes_fts MATCH ?",
                      (t.match(),))[0][0]
            out[t.stem] = int(d)
            if d:
                cache[t.stem] = int(d)
        if len(cache) > DF_CACHE and cache is self._df:
            self._df = {}
        return out

    def category_terms(self, conn: Connection, question: str) -> list[QTerm]:
        """Members of a category the question names ("What instruments ..."), those present
        in the index only (`lexicon.py`, from WordNet): one low-weight term each. At most
        `categories_per_question`, in the question's order: a category seen for the first time
        costs an index lookup per member."""
        p = self.p
        cats: list[str] = []
        for tok in _TOKEN_RE.findall(question):
            for c in lexicon.categories.get(tok.lower()):
                if c not in cats:
                    cats.append(c)
        out: list[QTerm] = []
        for c in cats[: p.categories_per_question]:
            for word, stem, _ in self._present(conn, c)[: p.category_max]:
                out.append(QTerm(word, stem, p.category_weight, "category"))
        return out

    @staticmethod
    def _term_docs(conn: Connection, stems: Iterable[str]) -> dict[str, int]:
        """Document counts of indexed stems from `memory_terms`, 500 per lookup (absent stems are left out)."""
        keys, found = list(stems), {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for term, d in _rows(conn, f"SELECT stem, docs FROM memory_terms WHERE stem IN ({marks}) AND docs > 0",
                                 chunk):
                found[term] = int(d)
        return found

    def _present(self, conn: Connection, cat: str) -> list[tuple[str, str, int]]:
        """(word, stem, df) of the category's one-word members found in the index, rarest
        first; cached until the corpus grows by 2% (one `memory_terms` lookup, not one per word)."""
        present, cache = self._cat_present, self._df  # once each (see the class doc)
        got = present.get(cat)
        if got is not None:
            return got
        pairs = lexicon.members.get(cat)  # word, stem, word, stem, ...
        stems: dict[str, str] = {}
        for w, st in zip(pairs[::2], pairs[1::2], strict=True):
            if st not in STOP_WORDS:
                stems.setdefault(st, w)
        found = self._term_docs(conn, stems)
        for s, d in found.items():
            cache[s] = d
        got = present[cat] = sorted(((stems[s], s, d) for s, d in found.items() if d), key=lambda x: x[2])
        return got

    # ---- query analysis ----------------------------------------------------------
    def terms(self, question: str, speakers: set[str]) -> list[QTerm]:
        p = self.p
        raw = _TOKEN_RE.findall(question)
        found: list[tuple[str, float, str]] = []
        extra: list[tuple[str, float, str]] = []
        for i, tok in enumerate(raw):
            lw = tok.lower()
            if lw.endswith("'s"):
                lw = lw[:-2]
            lw = lw.replace("'", "")
            if not lw or lw in STOP_WORDS or lw in QUESTION_WORDS:
                continue
            if lw in speakers:
                weight, kind = p.speaker_weight, "speaker"
            elif tok[0].isupper() and (i > 0 or len(raw) == 1):
                weight, kind = p.entity_weight, "entity"
            else:
                weight, kind = 1.0, "word"
            found.append((lw, weight, kind))
            if kind == "speaker":
                continue
            extra.extend((form, weight * p.irregular_weight, kind) for form in lexicon.irregular.get(lw))
        stems = self.an.stems([w for w, _, _ in found + extra])
        for w, _, kind in list(found):
            if kind != "speaker":
                extra.extend((o, p.expansion_weight, "related") for o in lexicon.related.get(stems[w])[: p.related_max])
        stems.update(self.an.stems([w for w, _, _ in extra]))
        best: dict[str, QTerm] = {}
        for w, wt, kind in found + extra:
            s = stems.get(w, "")
            if not s or wt <= 0 or (s in STOP_WORDS and kind != "speaker"):
                continue
            if s not in best or best[s].weight < wt:
                best[s] = QTerm(w, s, wt, kind)
        return list(best.values())

    # ---- retrieval ----------------------------------------------------------------
    def _fts(self, conn: Connection, terms: Sequence[QTerm], limit: int, where: str,
             args: list[Any], mode: str = "or") -> list[int]:
        if not terms:
            return []
        match = (" AND " if mode == "and" else " OR ").join(t.match() for t in terms)
        # Common words only: BM25 would score thousands of rows that all look alike, so take
        # the newest matches (FTS5 walks its doclists in rowid order and stops at the limit).
        order = "f.rowid DESC" if mode in ("newest", "and") else "bm25(memory_episodes_fts, 1.0, 0.5)"
        sql = ("SELECT f.rowid FROM memory_episodes_fts f "
               + ("JOIN memory_episodes e ON e.id = f.rowid " if " e." in where else "")
               + f"WHERE memory_episodes_fts MATCH ? {where} ORDER BY {order} LIMIT ?")
        return [r[0] for r in _rows(conn, sql, (match, *args, limit))]

    def _load(self, conn: Connection, ids: Sequence[int], have: dict[int, Candidate], tokenize: bool = True) -> None:
        """Candidates by id; without ``tokenize`` (the vector search's 200 nearest, which BM25 does not score)
        their words are left to ``_tokenized``, for the few that reach the final pick."""
        need = [i for i in set(ids) if i not in have]
        for i in range(0, len(need), 500):
            chunk = need[i:i + 500]
            marks = ",".join("?" * len(chunk))
            q = f"SELECT id, conversation, speaker, at_us, text FROM memory_episodes WHERE id IN ({marks})"
            for r in _rows(conn, q, chunk):
                c = have[r[0]] = Candidate(r[0], r[1], r[2], r[3], r[4], _NO_TOKENS, self._spk_tokens(r[2]), 0)
                if tokenize:
                    self._tokenized(c)

    def _tokenized(self, c: Candidate) -> Candidate:
        """``c`` with its words counted; cached by id, and the text checked (episodes never change, but the id
        of the newest one, forgotten, is given to the next)."""
        if not c.length:
            cached = self._tok.get(c.id)
            if cached is None or cached[0] != c.text:
                toks = self.an.tokens(c.text)
                cached = self._tok[c.id] = (c.text, Counter(toks), max(len(toks), 1))
                if len(self._tok) > TOKEN_CACHE:
                    self._tok.popitem(last=False)
            c.tokens, c.length = cached[1], cached[2]
        return c

    @staticmethod
    def _adjacent(conn: Connection, c: Candidate, before: bool) -> int | None:
        """The turn just before (or after) ``c`` in its own conversation, by time (the index's order)."""
        op, order = ("<", "DESC") if before else (">", "ASC")
        rows = _rows(conn, f"SELECT id FROM memory_episodes WHERE conversation = ? AND (at_us, id) {op} (?, ?) "
                           f"ORDER BY at_us {order}, id {order} LIMIT 1", (c.conversation, c.at_us, c.id))
        return int(rows[0][0]) if rows else None

    def _spk_tokens(self, speaker: str) -> frozenset[str]:
        got = self._spk_cache.get(speaker)
        if got is None:
            got = self._spk_cache[speaker] = frozenset(self.an.tokens(speaker or ""))
            if len(self._spk_cache) > 10_000:
                self._spk_cache.clear()
        return got

    def _score(self, cands: dict[int, Candidate], terms: Sequence[QTerm], df: dict[str, int],
               n: int, avgdl: float) -> None:
        k1, b = self.p.k1, self.p.b
        idf = {t.stem: math.log(1 + (n - df.get(t.stem, 0) + 0.5) / (df.get(t.stem, 0) + 0.5)) for t in terms}
        for c in cands.values():
            norm = k1 * (1 - b + b * c.length / avgdl)
            s = cat = 0.0
            for t in terms:
                if t.kind == "prefix":  # near-miss forms the stemmer does not join
                    base = t.stem[:-1]
                    tf = sum(v for tok, v in c.tokens.items() if tok != base and tok.startswith(base))
                else:
                    tf = c.tokens.get(t.stem, 0)
                if tf:
                    v = t.weight * idf[t.stem] * tf * (k1 + 1) / (tf + norm)
                    if t.kind == "category" and self.p.category_max_only:
                        cat = max(cat, v)  # a turn names one item; more members add nothing
                    else:
                        s += v
                elif t.stem in c.spk_tokens:
                    s += 0.5 * t.weight * idf[t.stem]
            c.score = s + cat

    def search(self, conn: Connection, question: str, k: int, *, conversation: str | None,
               after_us: int | None, before_us: int | None, now: datetime | None,
               speaker: str | None = None,
               vectors: Callable[[int], dict[int, float]] | None = None) -> list[tuple[int, float]]:
        """Ranked (episode id, score) pairs, best first."""
        p = self.p
        where = ""
        args: list[Any] = []
        if conversation is not None:
            where += " AND e.conversation = ?"
            args.append(conversation)
        if speaker is not None:
            where += " AND e.speaker = ?"
            args.append(speaker)
        if after_us is not None:
            where += " AND e.at_us >= ?"
            args.append(after_us)
        if before_us is not None:
            where += " AND e.at_us < ?"
            args.append(before_us)

        now = now or datetime.now(UTC)
        win = parse_date_window(question, now)
        text_q = question.replace(win.phrase, " ") if win else question
        w_lo = w_hi = None
        if win:
            w_lo = int(win.start.timestamp() * 1_000_000)
            w_hi = int(win.end.timestamp() * 1_000_000)

        terms = self.terms(text_q, self.speakers(conn))
        def by_time() -> list[tuple[int, float]]:
            # Nothing topical to match ("what happened yesterday?"): the date window (or
            # just recency) is the query.
            lo = max(x for x in (w_lo, after_us, -(2**62)) if x is not None)
            hi = min(x for x in (w_hi, before_us, 2**62) if x is not None)
            sql = "SELECT e.id FROM memory_episodes e WHERE e.at_us >= ? AND e.at_us < ?"
            a: list[Any] = [lo, hi]
            if conversation is not None:
                sql += " AND e.conversation = ?"
                a.append(conversation)
            if speaker is not None:
                sql += " AND e.speaker = ?"
                a.append(speaker)
            sql += " ORDER BY e.at_us DESC, e.id DESC LIMIT ?"
            ids = [r[0] for r in _rows(conn, sql, (*a, k))]
            return [(i, 1.0 / (1 + r)) for r, i in enumerate(ids)]

        if not any(t.kind != "speaker" for t in terms):
            return by_time()

        n, avgdl = self.stats(conn)
        if p.category_weight:
            have = {t.stem for t in terms}
            terms = terms + [t for t in self.category_terms(conn, text_q) if t.stem not in have]
        df = self.df(conn, terms)
        if p.prefix_weight:
            pre = [QTerm(t.word, t.stem + "*", t.weight * p.prefix_weight, "prefix") for t in terms
                   if t.kind in ("word", "entity") and len(t.stem) >= p.prefix_min and not t.stem.isdigit()]
            if pre:
                dfp = self.df(conn, pre)
                # Worth a term only when the prefix reaches forms beyond the stem itself.
                pre = [t for t in pre if dfp.get(t.stem, 0) > df.get(t.stem[:-1], 0)]
                for t in pre:
                    df[t.stem] = dfp[t.stem] - df.get(t.stem[:-1], 0)
                terms = list(terms) + pre
        terms = [t for t in terms if df.get(t.stem)]
        # Candidates come from the selective terms only: a word in 5% of the log adds
        # little to the ranking but makes FTS5 score thousands of rows.
        cap = max(p.selective_min, int(n * p.selective_frac))
        topical = [t for t in terms if t.kind != "speaker"]
        if not topical and vectors is None:
            return by_time() if win else []

        last_id = (_rows(conn, "SELECT max(id) FROM memory_episodes")[0][0] or 0) if n > p.tier else 0  # 0: no tiers

        def fetch(ts: list[QTerm], limit: int, where: str, args: list[Any], budget: int = 0) -> list[int]:
            ts = [t for t in ts if t.kind != "speaker"] or ts
            sel = sorted((t for t in ts if df[t.stem] <= cap), key=lambda t: df[t.stem] / t.weight)
            if budget:  # the rarest terms, at most `budget` index entries in all (always one term)
                totals = list(itertools.accumulate(df[t.stem] for t in sel))
                sel = sel[:max(1, sum(1 for total in totals if total <= budget))]
            if sel and last_id:  # a long history: the newest tier, then the older part through its rarest words
                newest = self._fts(conn, sel[: p.max_match_terms], limit, where + " AND f.rowid > ?",
                                   args + [last_id - p.tier])
                rare, postings = [], 0
                for t in sorted(sel, key=lambda t: df[t.stem]):
                    postings += df[t.stem]
                    if postings > p.older_postings:
                        break
                    rare.append(t)
                older = self._fts(conn, rare, limit // 2, where + " AND f.rowid <= ?", args + [last_id - p.tier])
                return newest + older
            if sel:
                return self._fts(conn, sel[: p.max_match_terms], limit, where, args)
            # Only common words: their intersection (ranked) and the newest matches of
            # the rarest one, instead of BM25-scoring thousands of rows.
            rare = sorted(ts, key=lambda t: df[t.stem])[:2]
            out = self._fts(conn, rare, limit, where, args, mode="and") if len(rare) == 2 else []
            return out + self._fts(conn, rare[:1], limit, where, args, mode="newest")

        core = [t for t in topical if t.kind in ("word", "entity")]
        ids: list[int] = []
        if topical:
            ids = fetch(core or topical, p.candidates, where, args)
            if len(topical) > len(core):
                ids += fetch(topical, p.candidates // 2, where, args, p.expansion_postings)
            if win:
                ids += fetch(topical, p.candidates // 2, where + " AND e.at_us >= ? AND e.at_us < ?",
                             args + [w_lo, w_hi])
        cands: dict[int, Candidate] = {}
        self._load(conn, ids, cands)
        self._score(cands, terms, df, n, avgdl)

        # Pseudo-relevance feedback from the best few hits.
        if p.prf_terms and cands:
            top = sorted(cands.values(), key=lambda c: -c.score)[: p.prf_docs]
            qstems = {t.stem for t in terms}
            counts: Counter[str] = Counter()
            for c in top:
                counts.update(s for s in c.tokens if s not in qstems and s not in STOP_WORDS
                              and len(s) > 2 and not s.isdigit())
            if counts:
                surface = self._surfaces(top)
                dfp = self.df(conn, [QTerm(surface.get(x, x), x, 0.0) for x in counts])
                scored = []
                for s, cnt in counts.items():
                    d = dfp.get(s, 0)
                    if d < 2 or d > max(50, n // 50):
                        continue
                    scored.append((cnt * math.log(1 + n / d), s))
                scored.sort(reverse=True)
                prf = [QTerm(surface.get(s, s), s, p.prf_weight * (1.3 if counts[s] > 1 else 1.0), "prf")
                       for _, s in scored[: p.prf_terms]]
                if prf:
                    df.update(dfp)
                    ids2 = fetch(prf + core, p.candidates // 2, where, args)
                    self._load(conn, ids2, cands)
                    terms = list(terms) + prf
                    self._score(cands, terms, df, n, avgdl)

        # Neighbouring turns: an answer often follows the turn that holds the question's
        # words ("What did you paint?" / "A sunset over the lake"): the reply of the other
        # speaker to a turn with a "?" inherits `neighbor_question` of its score, any other
        # next turn `neighbor_next`.
        if (p.neighbor_next or p.neighbor_prev or p.neighbor_question) and cands:
            top = sorted(cands.values(), key=lambda c: -c.score)[: p.neighbor_top]
            self._load(conn, [c.id + d for c in top for d in (-1, 1, 2)], cands)
            links = {(c.id - 1, c.id) for c in list(cands.values())}  # (a turn, the turn after it)
            for hit in top:  # conversations interleave in the daemon: id +- 1 may be another chat's turn
                for before in (True, False):
                    near = cands.get(hit.id - 1 if before else hit.id + 1)
                    if near is None or near.conversation != hit.conversation:
                        found = self._adjacent(conn, hit, before)
                        if found is not None:
                            links.add((found, hit.id) if before else (hit.id, found))
            self._load(conn, [i for link in links for i in link], cands)
            self._score(cands, terms, df, n, avgdl)
            base = {i: c.score for i, c in cands.items()}
            gain: dict[int, float] = defaultdict(float)
            for a, b in links:
                first, then = cands.get(a), cands.get(b)
                if first is None or then is None or first.conversation != then.conversation:
                    continue
                w = p.neighbor_next
                if p.neighbor_question and first.speaker != then.speaker and "?" in first.text:
                    w = max(w, p.neighbor_question)
                gain[b] = max(gain[b], w * base[a])
                gain[a] = max(gain[a], p.neighbor_prev * base[b])
            for c in cands.values():
                c.score = base[c.id] + gain[c.id]

        if not cands and vectors is None:
            return []
        if p.named_speaker_boost:
            named = {t.stem for t in terms if t.kind == "speaker"}
            if named:
                for c in cands.values():
                    if c.spk_tokens & named:
                        c.score *= 1 + p.named_speaker_boost
        def allowed(c: Candidate) -> bool:
            # Neighbours and vector hits were fetched without the hard filters.
            return ((conversation is None or c.conversation == conversation)
                    and (speaker is None or c.speaker == speaker)
                    and (after_us is None or c.at_us >= after_us)
                    and (before_us is None or c.at_us < before_us))

        scores = {i: c.score for i, c in cands.items() if c.score > 0 and allowed(c)}
        top_s = max(scores.values(), default=0.0) or 1.0
        final = {i: s / top_s for i, s in scores.items()}

        if vectors is not None:
            # Fuse by weight: normalised text score plus weighted cosine similarity.
            sims = vectors(200)
            self._load(conn, [i for i in sims if i not in cands], cands, tokenize=False)
            for i, c in cands.items():
                if allowed(c) and (i in final or sims.get(i, 0.0) > 0):
                    final[i] = final.get(i, 0.0) + p.embedding_weight * max(sims.get(i, 0.0), 0.0)

        if win:
            for i, c in cands.items():
                if i in final and w_lo <= c.at_us < w_hi:  # type: ignore[operator]
                    final[i] *= 1 + p.date_boost
        recency = max(p.recency_weight, p.recency_asked if _RECENT_RE.search(question) else 0.0)
        if recency and final:
            # Rank-based, so it works on any time scale: newest candidate x(1+recency).
            by_age = sorted(final, key=lambda i: (cands[i].at_us, i))
            for r, i in enumerate(by_age):
                final[i] *= 1 + recency * (r + 1) / len(by_age)

        # Session aggregation: sessions = (conversation, day).
        if p.session_weight and final:
            by_sess: dict[tuple[str, int], list[float]] = defaultdict(list)
            for i, score in final.items():
                c = cands[i]
                by_sess[(c.conversation, c.at_us // DAY_US)].append(score)
            sess = {key: sum(sorted(v, reverse=True)[:3]) for key, v in by_sess.items()}
            top_sess = max(sess.values()) or 1.0
            for i in final:
                c = cands[i]
                final[i] += p.session_weight * sess[(c.conversation, c.at_us // DAY_US)] / top_sess

        # Diversity: each further pick from the same session counts a bit less, and a
        # turn identical to one already picked (same speaker, same words) is skipped.
        order = sorted(final, key=lambda i: (-final[i], -i))
        diversity = p.diversity
        picked: list[tuple[int, float]] = []
        used: Counter[tuple[str, int]] = Counter()
        seen: list[tuple[str, frozenset[str]]] = []
        pool = order[: max(k * 4, 40)]
        while pool and len(picked) < k:
            best_i, best_v = pool[0], -1.0
            for i in pool:
                c = cands[i]
                v = final[i] * diversity ** used[(c.conversation, c.at_us // DAY_US)]
                if v > best_v:
                    best_i, best_v = i, v
                if diversity >= 1.0:
                    break
            pool.remove(best_i)
            c = self._tokenized(cands[best_i])
            toks = frozenset(c.tokens)
            if any(len(toks & o) >= (0.75 if spk == c.speaker else 0.95) * max(len(toks | o), 1)
                   and not any(ch.isdigit() for t in toks ^ o for ch in t)
                   for spk, o in seen):
                continue  # (near) repeat of a turn already picked: no new information
            seen.append((c.speaker, toks))
            used[(c.conversation, c.at_us // DAY_US)] += 1
            picked.append((best_i, best_v))
        return picked

    def _surfaces(self, cands: Sequence[Candidate]) -> dict[str, str]:
        """Stem -> one surface word seen in these texts (FTS5 queries take words, not stems)."""
        out: dict[str, str] = {}
        for c in cands:
            ws = [w for w in re.split(r"[^\w]+|_", c.text.lower()) if w]
            for w, s in self.an.stems(ws).items():
                out.setdefault(s, w)
        return out
