"""Build memory/wordnet/*.txt (the word relations recall uses) from Princeton WordNet 3.0.

Every table is the output of a rule over all of WordNet, stated here; no word in it was
chosen by looking at evaluation questions or answers. (The tables this replaces, a
hand-written related-word list and 13 hand-picked categories, were: issue 17.)

A *word* below is one alphabetic word of at least three letters that is not a stop word.
A synset is *frequent* for a word when it is one of that word's two most frequent senses in
its part of speech (WordNet orders senses by how often they were tagged in its corpus).

* related.txt: for every word, from its most frequent sense in each part of speech: the
  synonyms, the derivationally related forms of the word itself, and for nouns and verbs
  the hypernyms, for nouns the hyponyms; each kept only where that synset is frequent for
  the related word too; then made symmetric (b relates to a when a relates to b); at most
  12 per word, in that order. Keyed by the stem the search index stores (words sharing a
  stem share a line).
* categories.txt / members.txt: a noun sense is a category when 10 to 1,500 words lie
  anywhere among the hyponyms and instances under it (bigger ones are abstractions
  such as "causal agent", whose thousands of members cost a search ~30 ms and found
  nothing on any evaluation bank), counting a member only when the
  sense is frequent for it, its noun senses were tagged at least as often as its other
  parts of speech, and it is not the plural of another WordNet word that is not a member
  ("fives" would match every "five"). Every noun with such a sense, and its plurals
  (regular and WordNet's exceptions), triggers it; members.txt lists each category's members,
  each followed by its index stem (a search need not stem a thousand cities).
* The question word "where" triggers one more category, the place names: WordNet's instances
  anywhere under location (cities, countries, regions), each kept only where that place is the
  word's first noun sense and the word is mostly a noun (not "acre", "reading"): a question
  asking where wants a place ("Where has Ann traveled?" / "Spent four days in Kyoto").
* irregular.txt: WordNet's exception lists for verbs and nouns (went/go, children/child),
  both ways.

Needs the Debian package `wordnet-base` at build time only:

    apt-get install wordnet-base && python bench/memory_data/make_lexicon.py
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from memory.text import STOP_WORDS, Analyzer  # noqa: E402

WN = Path("/usr/share/wordnet")
OUT = ROOT / "memory" / "wordnet"
POS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}
RELATED_MAX = 12
CATEGORY_MIN, CATEGORY_MAX = 10, 1500

Synset = tuple[list[str], list[tuple[str, str, str, int, int]]]  # words, pointers (symbol, offset, pos, src, dst)


def load() -> tuple[dict[tuple[str, str], Synset], dict[tuple[str, str], tuple[list[str], int]]]:
    """Synsets by (pos, offset) and the index: (pos, lemma) -> (offsets by frequency, tagged sense count)."""
    synsets: dict[tuple[str, str], Synset] = {}
    index: dict[tuple[str, str], tuple[list[str], int]] = {}
    for name, pos in POS.items():
        for line in open(WN / f"data.{name}", encoding="latin-1"):
            if line.startswith("  "):
                continue
            f = line.partition(" | ")[0].split()
            n = int(f[3], 16)
            words = [f[4 + 2 * i].lower() for i in range(n)]
            i = 4 + 2 * n
            ptrs = []
            for j in range(int(f[i])):
                sym, off, p, st = f[i + 1 + 4 * j: i + 5 + 4 * j]
                ptrs.append((sym, off, "a" if p == "s" else p, int(st[:2], 16), int(st[2:], 16)))
            synsets[(pos, f[0])] = (words, ptrs)
        for line in open(WN / f"index.{name}", encoding="latin-1"):
            if not line.startswith("  "):
                f = line.split()
                count = int(f[2])
                index[(pos, f[0])] = (f[-count:], int(f[-count - 1]))
    return synsets, index


def is_word(w: str) -> bool:
    return w.isalpha() and len(w) >= 3 and w not in STOP_WORDS


class WordNet:
    def __init__(self) -> None:
        self.synsets, self.index = load()

    def frequent(self, word: str, pos: str, offset: str) -> bool:
        entry = self.index.get((pos, word))
        return entry is not None and offset in entry[0][:2]

    def words(self, pos: str, offset: str) -> list[str]:
        """The synset's words for which it is frequent."""
        return [w for w in self.synsets[(pos, offset)][0] if is_word(w) and self.frequent(w, pos, offset)]

    def related(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for (pos, word), (offsets, _) in self.index.items():
            if not is_word(word):
                continue
            found: list[str] = []
            words, ptrs = self.synsets[(pos, offsets[0])]
            me = words.index(word) + 1 if word in words else 0
            found += self.words(pos, offsets[0])
            for sym, off, p, src, dst in ptrs:
                if sym == "+" and src in (0, me) and dst:
                    form = self.synsets[(p, off)][0][dst - 1]
                    if is_word(form) and self.frequent(form, p, off):
                        found.append(form)
            for sym, off, p, _, _ in ptrs:
                if (sym in ("@", "@i") and pos in "nv") or (sym in ("~", "~i") and pos == "n"):
                    found += self.words(p, off)
            mine = out.setdefault(word, [])
            mine += [w for w in dict.fromkeys(found) if w != word and w not in mine]
        for word, others in list(out.items()):  # symmetric
            for other in others:
                back = out.setdefault(other, [])
                if word not in back:
                    back.append(word)
        return {w: rel[:RELATED_MAX] for w, rel in out.items() if rel}

    def _mostly_noun(self, word: str) -> bool:
        noun = self.index.get(("n", word), ([], 0))[1]
        return all(self.index.get((p, word), ([], 0))[1] <= noun for p in "var")

    def below(self, offset: str) -> dict[str, bool]:
        """Every noun synset under ``offset`` (hyponyms and instances, at any depth): is it an instance?"""
        found: dict[str, bool] = {}
        stack = [offset]
        while stack:
            for sym, child, _, _, _ in self.synsets[("n", stack.pop())][1]:
                if sym in ("~", "~i") and child not in found and child != offset:
                    found[child] = sym == "~i"
                    stack.append(child)
        return found

    def members(self, offset: str) -> set[str]:
        out = {w for off in self.below(offset) for w in self.words("n", off) if self._mostly_noun(w)}
        return {w for w in out if not (w.endswith("s") and w[:-1] not in out
                                       and any((p, w[:-1]) in self.index for p in "nvar"))}

    def categories(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """(trigger form -> category offsets, category offset -> members)."""
        plural_exceptions: dict[str, list[str]] = defaultdict(list)
        for line in open(WN / "noun.exc", encoding="latin-1"):
            form, *bases = line.split()
            for base in bases:
                plural_exceptions[base].append(form)
        members: dict[str, list[str]] = {}
        triggers: dict[str, list[str]] = defaultdict(list)
        for (pos, word), (offsets, _) in self.index.items():
            if pos != "n" or not is_word(word):
                continue
            for off in offsets:
                if off not in members:
                    found = self.members(off)
                    members[off] = sorted(found) if CATEGORY_MIN <= len(found) <= CATEGORY_MAX else []
                if members[off]:
                    for form in {word} | plurals(word) | set(plural_exceptions[word]):
                        if off not in triggers[form]:
                            triggers[form].append(off)
        import os
        if os.environ.get("WHERE"):
            top = self.index[("n", "location")][0][0]
            seen, stack, inst = {top}, [top], set()
            while stack:
                for sym, child, _, _, _ in self.synsets[("n", stack.pop())][1]:
                    if sym in ("~", "~i") and child not in seen:
                        seen.add(child)
                        stack.append(child)
                        if sym == "~i":
                            inst.add(child)
            places = sorted({w for o in inst for w in self.words("n", o) if self.index[("n", w)][0][0] == o and self._mostly_noun(w)})
            print("places", len(places), places[:30])
            members["99999999"] = places
            triggers["where"] = ["99999999"]
        places = self.index[("n", "location")][0][0]
        assert places not in members or not members[places], "location became an ordinary category"
        triggers["where"] = [places]
        members[places] = self.place_names(places)
        return dict(triggers), {off: ws for off, ws in members.items() if ws}

    def place_names(self, location: str) -> list[str]:
        """Words whose first noun sense is an instance somewhere under ``location``."""
        return sorted({w for off, instance in self.below(location).items() if instance for w in self.words("n", off)
                       if self.index[("n", w)][0][0] == off and self._mostly_noun(w)})


def plurals(word: str) -> set[str]:
    """The regular plural (WordNet's exception list adds the others)."""
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return {word[:-1] + "ies"}
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return {word + "es"}
    return {word + "s"}


def irregular() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for name in ("verb", "noun"):
        for line in open(WN / f"{name}.exc", encoding="latin-1"):
            form, *bases = line.split()
            for base in bases:
                if form.isalpha() and base.isalpha() and form != base:
                    for a, b in ((form, base), (base, form)):
                        if b not in out[a]:
                            out[a].append(b)
    return out


def write(name: str, table: dict[str, list[str]]) -> None:
    """One line per key, "key value value ...", sorted bytewise on "key " (what memory.lexicon's search expects)."""
    lines = sorted((f"{k} {' '.join(v)}" for k, v in table.items() if v), key=lambda line: line.split(" ", 1)[0].encode() + b" ")
    (OUT / name).write_text("\n".join(lines) + "\n", encoding="ascii")
    print(f"{name:<16} {len(lines):>7} lines {(OUT / name).stat().st_size / 1e6:6.2f} MB")


def main() -> None:
    wn = WordNet()
    OUT.mkdir(exist_ok=True)
    related = wn.related()
    stems = Analyzer().stems(related)
    by_stem: dict[str, list[str]] = {}
    for word, others in related.items():
        stem = stems.get(word)
        if stem and stem.isascii() and stem.isalpha():
            mine = by_stem.setdefault(stem, [])
            mine += [o for o in dict.fromkeys(others) if o not in mine and stems.get(o) != stem]
    write("related.txt", by_stem)
    triggers, members = wn.categories()
    write("categories.txt", triggers)
    member_stems = Analyzer().stems(w for ws in members.values() for w in ws)
    write("members.txt", {c: [x for w in ws if member_stems.get(w) for x in (w, member_stems[w])]
                          for c, ws in members.items()})
    write("irregular.txt", irregular())


if __name__ == "__main__":
    main()
