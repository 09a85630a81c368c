"""Tokenising text exactly like the FTS5 index does, plus the word lists query handling needs.

The FTS5 index stems with `porter unicode61 remove_diacritics 2`. To score candidates in
Python (term weights, pseudo-relevance feedback) we need the very same stems, so the
`Analyzer` asks a private in-memory SQLite FTS5 table with that tokenizer for them and
caches the answer per word: no second stemmer to drift out of step with the index.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable

from .schema import TOKENIZER

WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)

# Function words and chat filler: they carry no topic, and in an OR query they would
# pull in half the log.
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor
    not of off on once only or other ought our ours ourselves out over own same shan't she she'd
    she'll she's should shouldn't so some such than that that's the their theirs them themselves
    then there there's these they they'd they'll they're they've this those through to too under
    until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
    where's which while who who's whom why why's with won't would wouldn't you you'd you'll you're
    you've your yours yourself yourselves
    also just really yeah yes ok okay oh hey hi hello wow lol haha thanks thank please well so
    got get gets getting go goes going gone went come came make made much many lot lots thing
    things something anything everything stuff kind sort type like likely would might may must
    will shall one ones ever even still always never often sometimes usually maybe perhaps
    sure think thought know knew want wanted tell told say said says let us im ive dont
    s t d ll re ve m""".split()
)

# Words that only make a sentence a question about memory ("do you remember what ...").
QUESTION_WORDS = frozenset(
    """what when where who whom whose which why how remember recall recalled mention mentioned
    talk talked discuss discussed describe name list tell ask asked happen happened
    anyone someone somebody person people""".split()
)


class Analyzer:
    """Maps words to the stems the FTS5 index stores, using SQLite's own tokenizer."""

    def __init__(self, max_cache: int = 200_000) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZER}')")
        self._db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        self._cache: dict[str, str] = {}
        self._max = max_cache
        self._lock = threading.Lock()

    def stems(self, words: Iterable[str]) -> dict[str, str]:
        """Stem of each word ('' when the tokenizer yields nothing for it)."""
        cache = self._cache  # once: a full cache is replaced by a new dict, never cleared in place
        out: dict[str, str] = {}
        missing: list[str] = []
        for w in set(words):
            s = cache.get(w)
            if s is None:
                missing.append(w)
            else:
                out[w] = s
        if missing:
            with self._lock:
                self._db.executemany(
                    "INSERT INTO t(rowid, x) VALUES (?, ?)", list(enumerate(missing, 1))
                )
                found: dict[int, str] = {}
                for doc, term in self._db.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
                    found.setdefault(doc, term)
                self._db.execute("DELETE FROM t")
                if len(self._cache) > self._max:
                    self._cache = {}
                cache = self._cache
                for i, w in enumerate(missing, 1):
                    cache[w] = out[w] = found.get(i, "")
        return out

    def tokens(self, text: str) -> list[str]:
        """Stems of a text in order, as the index sees it (apostrophes split like unicode61)."""
        words = [w for w in re.split(r"[^\w]+|_", text.lower()) if w]
        m = self.stems(words)
        return [m[w] for w in words if m[w]]

    def close(self) -> None:
        self._db.close()


def words(text: str) -> list[str]:
    """Words of a text with apostrophes kept inside ("don't"), lower-cased."""
    return [w.lower() for w in WORD_RE.findall(text)]
