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



def test_the_reply_is_found_when_conversations_interleave(store: MemoryStore) -> None:
    """In the daemon, chats interleave: the turn stored after a question may be another chat's. The reply that
    inherits the question's score is the next turn of the same conversation, not the next id."""
    t0 = datetime(2023, 3, 1, 12)
    chat = [("Jon", "Work has been crazy this week."), ("Evan", "Same here."),
            ("Jon", "What did you cook for the party?"), ("Evan", "A huge pot of chili, everyone had seconds."),
            ("Jon", "Ha, that's great."), ("Evan", "We had a lazy Sunday with the family.")]
    rows = []
    for i, (speaker, text) in enumerate(chat):
        at = t0 + timedelta(minutes=3 * i)
        rows.append({"text": text, "speaker": speaker, "conversation": "c", "at": at})
        for j, other in enumerate(("turn on the kitchen light", "Done, the kitchen light is on.")):
            rows.append({"text": other, "speaker": "owner" if j == 0 else "claw", "conversation": "w",
                         "at": at + timedelta(seconds=10 + j)})
    ids = store.add_episodes(rows)
    answer = ids[3 * 3]  # each chat turn is followed by two of the other conversation
    assert store.get_episode(answer).text.startswith("A huge pot")  # type: ignore[union-attr]
    top = [h.id for h in store.search("What did Evan cook for the party?", k=3, conversation="c")]
    assert answer in top
