"""Category questions ("What instruments ...") reach turns that only name the members."""

from __future__ import annotations

from datetime import datetime, timedelta

from memory import MemoryStore
from memory.categories import MEMBERS, TRIGGERS


def test_table_is_general_and_clean() -> None:
    inst = set(MEMBERS["instrument"].split("|"))
    assert {"clarinet", "violin", "ukulele"} <= inst
    assert "organ" not in inst  # its frequent senses are not the instrument
    assert "fives" not in MEMBERS["sport"].split("|")  # plural collides with "five" when stemmed
    assert all(c in MEMBERS for cs in TRIGGERS.values() for c in cs)


def test_category_question_finds_members(store: MemoryStore) -> None:
    t0 = datetime(2023, 3, 1, 12)
    turns = [("Mel", "I picked up the ukulele, my fingers are sore."),
             ("Jon", "Ha, sounds like fun."),
             ("Mel", "Been practicing violin every night this month."),
             ("Jon", "Work has been crazy this week."),
             ("Mel", "We had a lazy Sunday with the family."),
             ("Mel", "Visited Lisbon, the trams are adorable.")]
    ids = store.add_episodes([{"text": t, "speaker": s, "conversation": "c", "at": t0 + timedelta(days=i)}
                              for i, (s, t) in enumerate(turns)])
    top = [h.id for h in store.search("What instruments does Mel play?", k=2, conversation="c")]
    assert set(top) == {ids[0], ids[2]}
    assert store.search("Which cities has Mel visited?", k=1, conversation="c")[0].id == ids[5]


def test_animals_kept_as_pets_are_pets() -> None:
    """WordNet has no hyponyms under "pet": the animals whose gloss says they are kept as pets join the
    domesticated ones (the generator's gloss pattern once matched a literal backslash, and none joined)."""
    from memory.categories import MEMBERS

    pets = MEMBERS["pet"].split("|")
    assert {"guinea pig", "golden hamster", "rabbit"} <= set(pets)
