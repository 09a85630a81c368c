"""Build memory/categories.py (category word -> member words) from Princeton WordNet 3.0.

List questions name a category ("What instruments does Mel play?", "Which cities has Jon
visited?") while the chat names its members ("clarinet", "Lisbon"). No word of the
question is in the evidence, so lexical search cannot find it; a category table can. We take
the table from WordNet, not from our evaluation banks, so that it is general English rather
than a fit to our templates: each category is a few WordNet noun synsets (chosen by their
gloss, below), and its members are the words of all their hyponyms and instances.

Filters, all mechanical:
* frequent senses only: a member is kept when the category sense is one of its first two
  noun senses (WordNet orders senses by frequency): "organ" (body part, organisation, ...)
  and "reading" (the English town is its 6th sense) drop out, "clarinet", "yoga" (2nd:
  exercise) and "Lisbon" stay;
* nouns only: a one-word member is dropped when its verb, adjective or adverb senses are
  tagged more often in WordNet's corpus than its noun senses ("nice" the city, "cast");
* plurals: a member that is the plural of another word ("fives" / five, "hearts" / heart)
  is dropped unless that word is a member too: the index stems both the same;
* pets: besides domesticated animals, the animals whose gloss says they are kept as pets;
* no stop words, no one- or two-letter words, at most three words per member;
* words that are categories themselves (e.g. "sport" inside "activity") stay members.

Needs the Debian package `wordnet-base` (files in /usr/share/wordnet) at build time only:

    apt-get install wordnet-base && python bench/memory_data/make_categories.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from memory.text import STOP_WORDS  # noqa: E402

WN = Path("/usr/share/wordnet")

# category -> (anchor synsets as "lemma.offset", depth limit). Offsets are WordNet 3.0 noun
# synsets; the lemma is only there to be readable and is checked against the data.
CATEGORIES: dict[str, tuple[list[str], int]] = {
    # "an activity that diverts or amuses", physical exercise, artistic creation, crafts
    "activity": (["diversion.00426928", "exercise.00624738", "art.00933420", "trade.00606370",
                  "handicraft.00714944"], 4),
    "sport": (["sport.00523513"], 6),
    "instrument": (["musical_instrument.03800933"], 5),
    "pet": (["domestic_animal.01317541", "pet.01318894"], 3),
    "food": (["dish.07557434", "dessert.07609840", "baked_goods.07622061"], 4),
    "drink": (["beverage.07881800"], 4),
    "city": (["city.08524735"], 3),
    "country": (["country.08544813"], 3),
    "game": (["game.00455599"], 3),
    "language": (["natural_language.06904171"], 3),
    "dance": (["dancing.00428270"], 3),
    "book": (["book.06410904"], 3),
    "vehicle": (["car.02958343", "bicycle.02834778", "motorcycle.03790512", "boat.02858304"], 3),
}
# question words (lower case, as typed) -> categories
TRIGGERS: dict[str, list[str]] = {
    "activity": ["activity", "sport"], "activities": ["activity", "sport"],
    "hobby": ["activity", "sport"], "hobbies": ["activity", "sport"],
    "pastime": ["activity", "sport"], "pastimes": ["activity", "sport"],
    "sport": ["sport"], "sports": ["sport"],
    "instrument": ["instrument"], "instruments": ["instrument"],
    "pet": ["pet"], "pets": ["pet"],
    "food": ["food"], "foods": ["food"], "dish": ["food"], "dishes": ["food"],
    "meal": ["food"], "meals": ["food"], "recipe": ["food"], "recipes": ["food"],
    "drink": ["drink"], "drinks": ["drink"], "beverage": ["drink"], "beverages": ["drink"],
    "city": ["city"], "cities": ["city"], "town": ["city"], "towns": ["city"],
    "country": ["country"], "countries": ["country"], "nation": ["country"], "nations": ["country"],
    "place": ["city", "country"], "places": ["city", "country"],
    "game": ["game"], "games": ["game"],
    "language": ["language"], "languages": ["language"],
    "dance": ["dance"], "dances": ["dance"],
    "book": ["book"], "books": ["book"],
    "vehicle": ["vehicle"], "vehicles": ["vehicle"], "car": ["vehicle"], "cars": ["vehicle"],
}


def load() -> tuple[dict[str, tuple[list[str], list[tuple[str, str]]]], dict[str, list[str]]]:
    syn: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}
    for line in open(WN / "data.noun", encoding="latin-1"):
        if line.startswith("  "):
            continue
        f = line.partition(" | ")[0].split()
        n = int(f[3], 16)
        words = [f[4 + 2 * i].lower() for i in range(n)]
        i = 4 + 2 * n
        ptrs = [(f[i + 1 + 4 * j], f[i + 2 + 4 * j]) for j in range(int(f[i])) if f[i + 3 + 4 * j] == "n"]
        syn[f[0]] = (words, ptrs)
    index: dict[str, list[str]] = {}
    for line in open(WN / "index.noun", encoding="latin-1"):
        if line.startswith("  "):
            continue
        f = line.split()
        index[f[0]] = f[-int(f[2]):]
        TAGGED[("n", f[0])] = int(f[-int(f[2]) - 1])
    for pos in ("verb", "adj", "adv"):
        for line in open(WN / f"index.{pos}", encoding="latin-1"):
            if not line.startswith("  "):
                f = line.split()
                TAGGED[("o", f[0])] = max(TAGGED.get(("o", f[0]), 0), int(f[-int(f[2]) - 1]))
    return syn, index


TAGGED: dict[tuple[str, str], int] = {}  # (n = noun | o = other part of speech, lemma) -> tagged senses


def gloss_pets(path: Path = WN / "data.noun") -> list[str]:
    """Animal synsets whose gloss says they are kept as pets (WordNet has no pet hyponyms)."""
    import re
    out = []
    for line in open(path, encoding="latin-1"):
        if not line.startswith("  ") and re.search(r"\bpets?\b", line.partition(" | ")[2]):
            out.append(line.split()[0])
    return out


def members(syn, index, anchors: list[str], depth: int) -> list[str]:
    out: set[str] = set()
    for a in anchors:
        lemma, off = a.split(".")
        assert lemma in syn[off][0], (a, syn[off][0])
        stack, seen = [(off, 0)], {off}
        while stack:
            o, d = stack.pop()
            for sym, t in syn[o][1]:
                if sym in ("~", "~i") and d < depth and t not in seen:
                    seen.add(t)
                    stack.append((t, d + 1))
        for o in seen:
            for w in syn[o][0]:
                senses = index.get(w, [])
                if senses and o not in senses[:2]:
                    continue  # not among the word's two most frequent senses
                if TAGGED.get(("o", w), 0) > TAGGED.get(("n", w), 0):
                    continue  # mostly a verb or an adjective
                w = w.split("(")[0]
                parts = w.replace("-", "_").split("_")
                if len(parts) > 3 or any(not p.isalpha() for p in parts):
                    continue
                if len(parts) == 1 and (len(w) < 3 or w in STOP_WORDS):
                    continue
                out.add(" ".join(parts))
    # Plurals of other words collide with them in the stemmed index ("fives" -> five).
    return sorted(w for w in out if not (w.endswith("s") and w[:-1] not in out
                                         and (("n", w[:-1]) in TAGGED or ("o", w[:-1]) in TAGGED)))


def main() -> None:
    syn, index = load()
    table = {c: members(syn, index, a, d) for c, (a, d) in CATEGORIES.items()}
    animals = set(members(syn, index, ["animal.00015388"], 99))
    pets = {w for o in gloss_pets() for w in members(syn, index, [f"{syn[o][0][0]}.{o}"], 0)}
    table["pet"] = sorted(set(table["pet"]) | (pets & animals))
    lines = ['"""Category word -> member words, generated from Princeton WordNet 3.0 by',
             "bench/memory_data/make_categories.py (see there for how); do not edit by hand.",
             "",
             "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. Permission to use,",
             "copy, modify and distribute this software and database and its documentation for any purpose",
             "and without fee or royalty is hereby granted (full licence: https://wordnet.princeton.edu/license-and-commercial-use).",
             '"""', "", "TRIGGERS: dict[str, tuple[str, ...]] = {"]
    for w, cs in TRIGGERS.items():
        lines.append(f"    {w!r}: {tuple(cs)!r},")
    lines += ["}", "", "MEMBERS: dict[str, str] = {"]
    for c, ws in table.items():
        lines.append(f"    {c!r}: (")
        text = "|".join(ws)
        while text:
            cut = text.rfind("|", 0, 90) if len(text) > 90 else len(text)
            lines.append(f"        {text[:cut + (1 if cut < len(text) else 0)]!r}")
            text = text[cut + 1:]
        lines.append("    ),")
    lines += ["}", ""]
    (ROOT / "memory" / "categories.py").write_text("\n".join(lines))
    for c, ws in table.items():
        print(f"{c:<10} {len(ws):>5}  {' '.join(ws[:12])} ...")


if __name__ == "__main__":
    main()
