"""The reply to the friend's question is an answer ("Do you have any pets?" / "Yup, Oscar")."""

from __future__ import annotations

from datetime import datetime, timedelta

from memory import MemoryStore
from memory.query import SearchParams


def _chat(store: MemoryStore) -> list[int]:
    t0 = datetime(2023, 3, 1, 12)
    turns = [("Jon", "Work has been crazy this week."),
             ("Evan", "Same here, it's been a whirlwind."),
             ("Jon", "Do you have any pets?"),
             ("Evan", "Yup, Oscar, my guinea pig. He squeaks every time I open the fridge."),
             ("Jon", "Ha, that's adorable."),
             ("Evan", "Thanks for asking about the pets, Jon!"),
             ("Jon", "We had a lazy Sunday with the family."),
             ("Evan", "My kids painted the fence yesterday."),
             ("Jon", "Any plans for the weekend?"),
             ("Evan", "Not much, just resting.")]
    return store.add_episodes([{"text": t, "speaker": s, "conversation": "c",
                                "at": t0 + timedelta(minutes=3 * i)} for i, (s, t) in enumerate(turns)])


def test_reply_to_a_question_inherits_its_score(store: MemoryStore) -> None:
    ids = _chat(store)
    top = [h.id for h in store.search("What pet does Evan have?", k=3, conversation="c")]
    assert ids[3] in top
    # The turn after a statement inherits far less than the reply to a question.
    assert SearchParams().neighbor_question > SearchParams().neighbor_next

