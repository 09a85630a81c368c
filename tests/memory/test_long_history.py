"""A long history (a household's years in one thread): search costs a bounded amount of index work, and what
is old stays findable by its rare words while the newest tier is ranked in full."""

from __future__ import annotations

from datetime import datetime, timedelta

from memory import MemoryStore, SearchParams

T0 = datetime(2024, 1, 1)
THREAD = "whatsapp:+15550001111"


def fill(store: MemoryStore, n: int, special: dict[int, str]) -> None:
    rows = [{"text": special.get(i, f"turn on the kitchen light please {i % 7}"), "conversation": THREAD,
             "speaker": "Dana" if i % 2 else "claw", "at": T0 + timedelta(minutes=i)} for i in range(n)]
    for j in range(0, n, 1000):
        store.add_episodes(rows[j:j + 1000])


def test_old_rare_words_and_the_newest_tier_are_both_found(tmp_path):
    special = {10: "the plumber said the boiler valve needs replacing", 4_950: "the boiler was serviced today",
               120: "we talked about the garden shed again"}
    small = SearchParams(tier=1_000, older_postings=50)
    tiered = MemoryStore(f"sqlite:///{tmp_path / 'm.db'}", params=small)
    fill(tiered, 5_000, special)
    whole = MemoryStore(f"sqlite:///{tmp_path / 'm.db'}")  # the same rows, searched as if short
    now = T0 + timedelta(minutes=5_000)
    found = [h.text for h in tiered.search("what about the boiler valve?", k=5, conversation=THREAD, now=now)]
    assert special[10] in found and special[4_950] in found  # old (outside the tier) by its rare word, and new
    assert [h.text for h in tiered.search("the garden shed", k=3, conversation=THREAD, now=now)][0] == special[120]
    # Below the tier nothing changes: the same ranking as an untiered search.
    recent = SearchParams(tier=10_000)
    same = MemoryStore(f"sqlite:///{tmp_path / 'm.db'}", params=recent)
    for q in ("boiler valve", "kitchen light", "garden shed"):
        assert [h.id for h in same.search(q, k=10, now=now)] == [h.id for h in whole.search(q, k=10, now=now)]
    for store in (tiered, whole, same):
        store.close()


def test_what_was_just_said_is_found_at_once_and_a_new_speaker_is_known(tmp_path):
    """The counts and speakers are kept, not re-read per search: a word the index did not have a moment ago (its
    count was looked up as 0) and a speaker new since then must still be found."""
    store = MemoryStore(f"sqlite:///{tmp_path / 'm.db'}")
    fill(store, 50, {})
    now = T0 + timedelta(minutes=60)
    store.search("kitchen", k=3, now=now)  # reads the speakers once
    store.add_episodes([{"text": "I fixed the fence", "conversation": THREAD, "speaker": "Marguerite",
                         "at": now}])
    assert "marguerite" in store.ranker.speakers(store.engine.connect())
    assert store.search("what did Marguerite fix?", k=1, now=now)[0].text == "I fixed the fence"
    store.close()
