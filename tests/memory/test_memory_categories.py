"""Category questions ("What instruments ...") reach turns that only name the members; the WordNet tables
(memory/wordnet/, by the rules in bench/memory_data/make_lexicon.py) and their lookup."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from memory import MemoryStore, lexicon
from memory.lexicon import SortedLines


def members_of(word: str) -> set[str]:
    return {m for c in lexicon.categories.get(word) for m in lexicon.members.get(c)[::2]}  # word, stem, ...


def test_tables_follow_their_rules() -> None:
    instruments = members_of("instruments")  # the plural triggers the noun's categories
    assert {"guitar", "violin", "ukulele"} <= instruments  # three levels under "musical instrument"
    assert "organ" not in instruments  # its frequent senses are not the instrument
    assert {"spanish", "japanese"} <= members_of("languages")  # five levels under "language": any depth counts
    places = members_of("where")  # the question word asks for a place name
    assert {"porto", "marseille", "sweden"} <= places
    assert not {"acre", "reading", "mobile"} & places  # the place is not the word's first sense, or not a noun
    assert "fives" not in members_of("sport")  # a plural that collides with "five" when stemmed
    assert {"headache"} <= set(lexicon.related.get("migrain"))  # keyed by the index's stem (hypernym)
    assert "infant" in lexicon.related.get("babi") and "babe" in lexicon.related.get("babi")  # synonyms
    assert lexicon.irregular.get("went") == ["go"] and "went" in lexicon.irregular.get("go")
    for table in (lexicon.related, lexicon.categories, lexicon.members, lexicon.irregular):
        keys = [line.split(" ", 1)[0].encode() + b" " for line in table.path.read_text().splitlines()]
        assert keys == sorted(keys) and len(keys) == len(set(keys)), table.path  # what the search relies on


def test_sorted_lines_finds_every_key_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    keys = ["a", "ab", "abc", "b", "ba", "zz"]
    path.write_text("".join(f"{k} value-of-{k} x\n" for k in keys))
    lines = SortedLines(path)
    for k in keys:
        assert lines.get(k) == [f"value-of-{k}", "x"]
    for missing in ("", "aa", "abcd", "c", "zzz", "0", "é", "a b", "value-of-a"):
        assert lines.get(missing) == []


def chat(store: MemoryStore, *turns: tuple[str, str]) -> list[int]:
    """(speaker, text) turns of conversation "c", a day apart; their ids."""
    t0 = datetime(2023, 3, 1, 12)
    return store.add_episodes([{"text": t, "speaker": s, "conversation": "c", "at": t0 + timedelta(days=i)}
                               for i, (s, t) in enumerate(turns)])


def test_category_question_finds_members(store: MemoryStore) -> None:
    ids = chat(store, ("Mel", "I picked up the ukulele, my fingers are sore."),
               ("Jon", "Ha, sounds like fun."),
               ("Mel", "Been practicing violin every night this month."),
               ("Jon", "Work has been crazy this week."),
               ("Mel", "We had a lazy Sunday with the family."),
               ("Mel", "Visited Lisbon, the trams are adorable."))
    top = [h.id for h in store.search("What instruments does Mel play?", k=2, conversation="c")]
    assert set(top) == {ids[0], ids[2]}
    assert store.search("Which cities has Mel visited?", k=1, conversation="c")[0].id == ids[5]


def test_where_question_finds_place_names(store: MemoryStore) -> None:
    ids = chat(store, ("Mel", "Three nights in Porto with my sister, we ate far too many pastries."),
               ("Jon", "Where do you want to go next?"),
               ("Mel", "The traffic on the way home was terrible."),
               ("Mel", "Honestly I just want a quiet weekend."),
               ("Mel", "Marseille in June, the harbour at sunset was unreal."))
    top = [h.id for h in store.search("Where has Mel traveled?", k=2, conversation="c")]
    assert set(top) == {ids[0], ids[4]}
