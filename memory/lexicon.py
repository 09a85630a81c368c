"""English word relations for recall: related words, categories and irregular forms.

The tables in ``memory/wordnet/`` are generated from Princeton WordNet 3.0 by
bench/memory_data/make_lexicon.py, by rules stated there (nothing in them was picked by
looking at evaluation questions); do not edit them by hand. They are read through a memory
map with binary search: no per-entry Python objects, and only the pages a lookup touches
are read, so a daemon pays for the words its searches use, not for 4 MB of tables.

WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. Permission to use,
copy, modify and distribute this software and database and its documentation for any purpose
and without fee or royalty is hereby granted (full licence: https://wordnet.princeton.edu/license-and-commercial-use).
"""

from __future__ import annotations

import mmap
import threading
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "wordnet"


class SortedLines:
    """A text file of lines ``key value value ...`` sorted bytewise on ``key + " "``, looked up by key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._lock = threading.Lock()

    def _data(self) -> mmap.mmap:
        if self._map is None:
            with self._lock:
                if self._map is None:
                    with open(self.path, "rb") as f:
                        self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map

    def get(self, key: str) -> list[str]:
        """The values on ``key``'s line, or [] (also for a key that is not plain ASCII, which no line has)."""
        if not key or not key.isascii() or " " in key or "\n" in key:
            return []
        data, want = self._data(), key.encode() + b" "
        lo, hi = 0, len(data)
        while lo < hi:
            mid = (lo + hi) // 2
            start = data.rfind(b"\n", 0, mid) + 1
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            line = data[start:end]
            if line.startswith(want):
                return line[len(want):].decode().split()
            if line < want:
                lo = end + 1
            else:
                hi = start
        return []


related = SortedLines(FOLDER / "related.txt")  # index stem -> related words
categories = SortedLines(FOLDER / "categories.txt")  # noun as written -> category ids
members = SortedLines(FOLDER / "members.txt")  # category id -> one-word members, each followed by its stem
irregular = SortedLines(FOLDER / "irregular.txt")  # word -> its irregular forms or base ("went" <-> "go")
